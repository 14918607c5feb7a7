"""The daemon's data folder: the only place a file named over the network can be.

``mrtd serve --data-dir DIR`` (default ``$XDG_DATA_HOME/mrtd``, i.e.
``~/.local/share/mrtd``) holds ``recordings/`` (WAV takes and event logs),
``banks/``, ``captures/`` (input audio kept for replay), ``prompts/`` (audio
prompts and prefill material) and ``midi/`` (MIDI files for ``/mrtd/midi/play``). A path that arrives over OSC, OSCQuery or a config
``[controls]`` entry is a *name* inside one of these folders: absolute paths, ``..``,
NUL and control characters, and symbolic links that lead out of the folder are refused.

Writes never replace a file unless asked, never go through a symbolic link and never
leave the folder: the name's folders are walked one at a time from the folder itself
with ``O_NOFOLLOW``, and the file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW``,
mode 0644. Reads take regular files only (a FIFO, a device or ``/dev/stdin`` would
block or never end), opened with ``O_NONBLOCK | O_NOFOLLOW`` and checked with
``fstat`` on the descriptor that is then read, up to a size cap.

Error texts name the folder and the name as given; none of them depends on whether
anything outside the folder exists.

The operator's own paths (command-line flags, the config file's top-level options,
``mrtd render --events`` files) are trusted: a :class:`DataDir` made with
``trusted=True`` also takes absolute paths as they are.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

FOLDERS = ("recordings", "banks", "captures", "prompts", "midi")
MAX_AUDIO_BYTES = 512 << 20  # an audio prompt or prefill file (10 min of 48 kHz stereo float is 230 MB)
MAX_BANK_BYTES = 4 << 30
MAX_NAME_BYTES = 1024


class PathRefused(ValueError):
    """A name that does not stay in its folder, or a file that cannot be used; the text
    is fit for an ``/mrtd/error`` reply."""


def default_root() -> Path:
    """``$XDG_DATA_HOME/mrtd``, or ``~/.local/share/mrtd``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "mrtd"


def check_name(name: str, folder: str = "the data folder") -> list[str]:
    """The components of a network-given name, or PathRefused saying what is wrong."""
    if not isinstance(name, str) or not name:
        raise PathRefused(f"a file name in {folder} is needed")
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise PathRefused(f"file name longer than {MAX_NAME_BYTES} bytes")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise PathRefused("a file name cannot hold NUL or control characters")
    if name.startswith("/") or name.startswith("\\"):
        raise PathRefused(f"absolute paths are refused: give a name inside {folder}")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise PathRefused(f"'..' is refused: give a name inside {folder}")
    if not parts:
        raise PathRefused(f"a file name in {folder} is needed")
    return parts


class DataDir:
    """The folders of one daemon. ``overrides`` maps a folder kind to another directory
    (``--bank-dir``, ``--capture-dir``); ``trusted`` accepts absolute paths too (the
    operator's own files: command line, config options, render's event files)."""

    def __init__(self, root: str | os.PathLike | None = None, *, overrides: dict[str, str | os.PathLike] | None = None,
                 trusted: bool = False):
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.trusted = trusted
        self._dirs = {k: self.root / k for k in FOLDERS}
        for k, v in (overrides or {}).items():
            if k not in FOLDERS:
                raise KeyError(k)
            if v is not None:
                self._dirs[k] = Path(v).expanduser()

    def folder(self, kind: str, create: bool = True) -> Path:
        """The directory of ``kind`` (created, mode 0755, when missing)."""
        d = self._dirs[kind]
        if create:
            try:
                d.mkdir(mode=0o755, parents=True, exist_ok=True)
            except OSError as e:
                raise PathRefused(f"cannot create the {kind} folder {d}: {e.strerror}") from None
        return d

    def label(self, kind: str, name: str) -> str:
        return f"{kind}/{name}"

    # ---- reading -------------------------------------------------------------------------
    def resolve(self, kind: str, name: str) -> Path:
        """The real path of ``name`` in folder ``kind``; it need not exist yet. Refuses
        names that leave the folder, also through symbolic links (checked without
        telling whether their target exists)."""
        if self.trusted and isinstance(name, str) and (name.startswith("/") or name.startswith("~")):
            return Path(name).expanduser()
        parts = check_name(name, f"{kind}/")
        base = Path(os.path.realpath(self.folder(kind)))
        real = Path(os.path.realpath(base.joinpath(*parts)))
        if real != base and base not in real.parents:
            raise PathRefused(f"{kind}/{name} leads out of the {kind} folder (a symbolic link): refused")
        return real

    def open_read(self, kind: str, name: str, max_bytes: int = MAX_AUDIO_BYTES) -> tuple[int, Path]:
        """An open descriptor of a regular file of at most ``max_bytes`` bytes, and its
        path. The caller owns (and closes) the descriptor."""
        path = self.resolve(kind, name)
        where = name if self.trusted and Path(name).is_absolute() else self.label(kind, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as e:
            raise PathRefused(_os_reason(where, e)) from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise PathRefused(f"{where} is not a regular file" + (" (a folder)" if stat.S_ISDIR(st.st_mode) else ""))
            if st.st_size > max_bytes:
                raise PathRefused(f"{where} is too large ({st.st_size / 2**20:.0f} MiB; at most "
                                  f"{max_bytes / 2**20:.0f} MiB)")
            if st.st_size == 0:
                raise PathRefused(f"{where} is empty")
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd, path

    def check_read(self, kind: str, name: str, max_bytes: int = MAX_AUDIO_BYTES) -> Path:
        """:meth:`open_read` without keeping the file open: refuse at once what cannot be read."""
        fd, path = self.open_read(kind, name, max_bytes)
        os.close(fd)
        return path

    # ---- writing -------------------------------------------------------------------------
    def create(self, kind: str, name: str, *, overwrite: bool = False) -> tuple[int, Path]:
        """A new file ``name`` in folder ``kind``, opened for writing (mode 0644): an
        existing file is refused unless ``overwrite``, and then replaced by a new one
        (never written through, never a symbolic link or a folder). Subfolders of the
        name are created. Returns the descriptor (the caller closes it) and the path."""
        if self.trusted and isinstance(name, str) and (name.startswith("/") or name.startswith("~")):
            path = Path(name).expanduser()
            return self._create_at(str(path.parent) or ".", [path.name], path.name, overwrite), path
        parts = check_name(name, f"{kind}/")
        base = self.folder(kind)
        fd = self._create_at(str(base), parts, self.label(kind, name), overwrite)
        return fd, base.joinpath(*parts)

    def _create_at(self, base: str, parts: list[str], label: str, overwrite: bool) -> int:
        try:
            dirfd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise PathRefused(_os_reason(label, e)) from None
        try:
            for part in parts[:-1]:  # walk down, never through a link
                try:
                    os.mkdir(part, 0o755, dir_fd=dirfd)
                except FileExistsError:
                    pass
                try:
                    nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dirfd)
                except OSError as e:
                    if e.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise PathRefused(f"{label}: {part} is not a folder (or is a symbolic link): refused") from None
                    raise PathRefused(_os_reason(label, e)) from None
                os.close(dirfd)
                dirfd = nxt
            last = parts[-1]
            if overwrite:
                try:
                    st = os.stat(last, dir_fd=dirfd, follow_symlinks=False)
                except FileNotFoundError:
                    st = None
                except OSError as e:
                    raise PathRefused(_os_reason(label, e)) from None
                if st is not None:
                    if not stat.S_ISREG(st.st_mode):
                        raise PathRefused(f"{label} exists and is not a regular file: not replaced")
                    try:
                        os.unlink(last, dir_fd=dirfd)
                    except OSError as e:
                        raise PathRefused(_os_reason(label, e)) from None
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            try:
                fd = os.open(last, flags, 0o644, dir_fd=dirfd)
            except FileExistsError:
                raise PathRefused(f"{label} exists: not overwritten (send 1 as the second argument to replace it)") from None
            except OSError as e:
                raise PathRefused(_os_reason(label, e)) from None
            try:
                os.fchmod(fd, 0o644)
            except OSError:
                pass
            return fd
        finally:
            os.close(dirfd)

    def free_name(self, kind: str, stem: str, suffix: str) -> str:
        """``stem + suffix``, or ``stem-2 + suffix``… : a name not taken yet in ``kind``."""
        folder = self.folder(kind)
        name, n = stem + suffix, 1
        while os.path.lexists(folder / name):
            n += 1
            name = f"{stem}-{n}{suffix}"
        return name

    def prune(self, kind: str, pattern: str, keep: int) -> list[Path]:
        """Delete all but the newest ``keep`` files matching ``pattern`` in ``kind``
        (regular files only); returns what was deleted."""
        files = [p for p in self.folder(kind).glob(pattern) if p.is_file() and not p.is_symlink()]
        files.sort(key=lambda p: p.stat().st_mtime_ns)
        gone = files[:-keep] if keep > 0 else files
        for p in gone:
            try:
                p.unlink()
            except OSError:
                pass
        return gone


def _os_reason(label: str, e: OSError) -> str:
    """An OS error as a reply: which file, and the system's words."""
    if e.errno == errno.ENOENT:
        return f"{label}: no such file"
    if e.errno == errno.ELOOP:
        return f"{label} is a symbolic link: refused"
    if e.errno == errno.EISDIR:
        return f"{label} is a folder"
    return f"{label}: {e.strerror or e}"


# Opens absolute paths that are the operator's own (command line, config options, render's
# event files) or were already resolved inside a folder: still regular files only, size
# capped, never written through a link.
OPERATOR = DataDir(trusted=True)
