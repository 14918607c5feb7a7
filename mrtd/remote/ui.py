"""The browser control surface's HTTP side, served on the OSCQuery port under ``/ui/``.

The page itself (``ui_static/``: HTML, JavaScript, CSS, shipped inside the package so it
works offline) builds its controls from the OSCQuery namespace and talks to the daemon
over the OSCQuery websocket. What a browser cannot do over that websocket lives here:

- ``GET /ui/`` and ``GET /ui/<file>``: the static files, from ``ui_static/`` only (one
  plain name, no folders: nothing else on disk can be named).
- ``GET /ui/api/prompts``: the audio files under ``prompts/`` (for the slots' pickers).
- ``POST /ui/api/upload?name=N[&overwrite=1]``: raw bytes of an audio file into
  ``prompts/``. The name is reduced to its last component and must be plain (letters,
  digits, ``._ -``, no leading dot, an audio extension, at most 200 characters). The body
  is streamed into a hidden temporary file made with :meth:`DataDir.create` and never
  read beyond the limit (64 MiB; 413); libsndfile must be able to read it (415), and only
  then does it take its name, so a refused upload never replaces a file, never shows up
  half-written in the prompt list.
- ``GET /ui/api/recordings`` and ``GET /ui/recordings/<name>``: finished takes (WAV and
  event logs; not the ones being written) and their download, confined to
  ``recordings/`` by :meth:`DataDir.open_read`.

Security follows the OSCQuery server: when the daemon listens beyond loopback (the hub
has a token), every API call and download from another host needs the token (``?token=``
or the ``X-Mrtd-Token`` header; 401 otherwise), and the websocket needs it too (checked
by the OSCQuery server before the upgrade). Uploads, the one write, also refuse a page
from another origin (403), so a web page elsewhere cannot fill the disk through a
browser on this machine. The static files need no token: they hold no state.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from aiohttp import web

from mrtd.datadir import DataDir, PathRefused
from mrtd.remote.hub import Sender

if TYPE_CHECKING:
    from mrtd.remote.hub import Hub

log = logging.getLogger("mrtd.ui")

PREFIX = "/ui"
STATIC_DIR = Path(__file__).with_name("ui_static")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
}
AUDIO_EXTENSIONS = ("wav", "flac", "ogg", "aiff", "aif", "mp3", "oga")
RECORDING_EXTENSIONS = (".wav", ".jsonl")
UPLOAD_MAX_BYTES = 64 << 20
MAX_UPLOAD_NAME = 200
MAX_UPLOADS = 4  # at once: each holds a connection and a temporary file
UPLOAD_STALL_S = 30.0  # an upload whose next chunk takes longer is dropped (a trickling body holds a slot)
CHUNK = 256 * 1024
MAX_LISTED = 10000  # files in a listing: a huge folder must not stall the loop
TOKEN_HEADER = "X-Mrtd-Token"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9._ -]+")
_STATIC_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-cache"}


class Refused(Exception):
    """An API request refused: the HTTP status and the reason the page shows."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


def error(status: int, reason: str) -> web.Response:
    """``{"error": reason}`` with ``status``: every refusal the page may show as it is."""
    return web.Response(status=status, text=json.dumps({"error": reason}), content_type="application/json",
                        headers={"Cache-Control": "no-store"})


def _ok(obj: Any) -> web.Response:
    return web.Response(text=json.dumps(obj), content_type="application/json", headers={"Cache-Control": "no-store"})


def upload_name(raw: str | None) -> str:
    """The name an upload is stored under: the last component of what the browser sent
    (a file picker gives only that anyway), which must be plain; Refused (400) otherwise.
    Plain names need no quoting anywhere (OSC, shells, the page) and cannot hide a path."""
    if not raw:
        raise Refused(400, "a file name is needed (?name=...)")
    name = re.split(r"[/\\]", raw)[-1]
    if not name:
        raise Refused(400, "the name is a folder, not a file name")
    if len(name) > MAX_UPLOAD_NAME:
        raise Refused(400, f"file name longer than {MAX_UPLOAD_NAME} characters")
    if not _PLAIN_NAME.fullmatch(name):
        raise Refused(400, "file names may hold only letters A-Z a-z, digits, '.', '_', '-' and spaces")
    if name.startswith("."):
        raise Refused(400, "file names cannot start with '.'")
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in AUDIO_EXTENSIONS:
        raise Refused(400, f"not an audio file name: the extension must be one of {', '.join(AUDIO_EXTENSIONS)}")
    return name


def _walk(folder: Path, keep: Callable[[str], bool]) -> list[tuple[str, os.stat_result]]:
    """Regular files under ``folder`` (relative names, '/'-separated), never through a
    symbolic link (files or folders): a link cannot list anything outside the folder.
    Hidden names (temporary uploads) are skipped."""
    out: list[tuple[str, os.stat_result]] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in files:
            if f.startswith(".") or not keep(f):
                continue
            path = os.path.join(root, f)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                out.append((os.path.relpath(path, folder).replace(os.sep, "/"), st))
            if len(out) >= MAX_LISTED:
                return out
    return out


class ControlSurface:
    """The ``/ui`` routes of one OSCQuery server (see the module doc)."""

    def __init__(self, hub: Hub, *, files: DataDir | None, origin_ok: Callable[[str | None], bool],
                 active: Callable[[], Iterable[Path | None]] | None = None,
                 upload_max_bytes: int = UPLOAD_MAX_BYTES, static_dir: Path = STATIC_DIR):
        self.hub = hub
        self.files = files
        self.origin_ok = origin_ok
        self.active = active  # the files being written now (recording, event log): not listed, not served
        self.upload_max_bytes = upload_max_bytes
        self.static_dir = static_dir
        self._uploads = 0

    # ---- who may ---------------------------------------------------------------------------
    def token_given(self, request: web.BaseRequest) -> str | None:
        return request.query.get("token") or request.headers.get(TOKEN_HEADER)

    def allowed(self, request: web.BaseRequest) -> bool:
        """May this request use the websocket, the API and downloads? Always on a
        loopback-only daemon (no token) and from this machine, as for OSC; from another
        host only with the token."""
        if self.hub.token is None or self.is_local(request):
            return True
        return self.token_proved(request)

    @staticmethod
    def is_local(request: web.BaseRequest) -> bool:
        """From this machine (loopback), like a local OSC sender."""
        return Sender(request.remote or "").local

    def token_proved(self, request: web.BaseRequest) -> bool:
        """The request carries the daemon's token (False when none is set)."""
        given = self.token_given(request)
        if self.hub.token is None or not given:
            return False
        try:
            return self.hub.token_matches(given)
        except UnicodeError:
            return False

    # ---- routing ---------------------------------------------------------------------------
    @staticmethod
    def redirect(request: web.BaseRequest) -> web.Response | None:
        """A browser asking ``/`` for HTML goes to the page (with its token, if given);
        OSCQuery clients (no ``text/html`` in Accept) and ``/?HOST_INFO`` get JSON."""
        if request.method not in ("GET", "HEAD") or request.path != "/":
            return None
        if "text/html" not in request.headers.get("Accept", ""):
            return None
        query = request.query
        if request.query_string and (set(query) != {"token"} or len(query.getall("token")) != 1):
            return None
        target = f"{PREFIX}/" + (f"?{urlencode({'token': query['token']})}" if "token" in query else "")
        return web.Response(status=302, headers={"Location": target, "Cache-Control": "no-store"})

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse | None:
        """The response for a ``/ui`` path; None when the path is not ours."""
        path = request.path
        if path == PREFIX:
            return web.Response(status=301, headers={"Location": PREFIX + "/" + _query(request)})
        if not path.startswith(PREFIX + "/"):
            return None
        rest = path[len(PREFIX) + 1:]
        try:
            if rest == "api/upload":
                if request.method != "POST":
                    return error(405, "upload with POST")
                return await self._upload(request)
            if request.method not in ("GET", "HEAD"):
                return error(405, "only GET here")
            if rest == "api/prompts":
                self._guard(request)
                return _ok({"files": await asyncio.to_thread(self.prompts)})
            if rest == "api/recordings":
                self._guard(request)
                return _ok({"files": await asyncio.to_thread(self.recordings)})
            if rest.startswith("api/"):
                return error(404, f"no API {rest[4:][:100]!r}")
            if rest.startswith("recordings/"):
                self._guard(request)
                return await self._download(request, rest[len("recordings/"):])
            return self._static(rest or "index.html")
        except Refused as e:
            return error(e.status, str(e))

    def _guard(self, request: web.BaseRequest) -> None:
        if not self.allowed(request):
            raise Refused(401, f"the daemon's token is needed from another host (?token=... or {TOKEN_HEADER}; "
                               "it is printed at start-up)")

    def _folder(self, kind: str) -> Path:
        if self.files is None:
            raise Refused(404, "this server has no data folder")
        try:
            return self.files.folder(kind)
        except PathRefused as e:
            raise Refused(500, str(e)) from None

    # ---- static files ------------------------------------------------------------------------
    def _static(self, name: str) -> web.Response:
        """One file of ``ui_static/``, by a plain name with a known type: nothing else can
        be named (no folders, no dots in front, no other extensions)."""
        ctype = CONTENT_TYPES.get(os.path.splitext(name)[1].lower())
        if ctype is None or not _STATIC_NAME.fullmatch(name):
            return web.Response(status=404, text="no such file\n")
        try:
            body = (self.static_dir / name).read_bytes()
        except OSError:
            return web.Response(status=404, text="no such file\n")
        return web.Response(body=body, headers={"Content-Type": ctype, **_SECURITY_HEADERS})

    # ---- listings ----------------------------------------------------------------------------
    def prompts(self) -> list[str]:
        """Audio files under prompts/, relative names, sorted."""
        folder = self._folder("prompts")
        found = _walk(folder, lambda f: f.rsplit(".", 1)[-1].lower() in AUDIO_EXTENSIONS and "." in f)
        return sorted(name for name, _ in found)

    def _active(self) -> set[str]:
        out = set()
        for p in self.active() if self.active is not None else ():
            if p is not None:
                out.add(os.path.realpath(p))
        return out

    def recordings(self) -> list[dict[str, Any]]:
        """Finished takes and event logs in recordings/: name, size, modification time."""
        folder = self._folder("recordings")
        active = self._active()
        found = _walk(folder, lambda f: f.lower().endswith(RECORDING_EXTENSIONS))
        return [{"name": name, "bytes": st.st_size, "modified": st.st_mtime} for name, st in sorted(found)
                if os.path.realpath(folder / name) not in active]

    # ---- download ----------------------------------------------------------------------------
    async def _download(self, request: web.BaseRequest, name: str) -> web.StreamResponse:
        """A finished take as an attachment, opened by :meth:`DataDir.open_read` (regular
        file, inside recordings/, not through a link); 404 for anything else."""
        self._folder("recordings")
        assert self.files is not None
        if not name.lower().endswith(RECORDING_EXTENSIONS) or any(p.startswith(".") for p in name.split("/")):
            raise Refused(404, "no such recording")
        try:
            fd, path = self.files.open_read("recordings", name, max_bytes=1 << 62)
        except PathRefused:
            raise Refused(404, "no such recording") from None
        try:
            if os.path.realpath(path) in self._active():
                raise Refused(404, f"{name} is being recorded now: stop the recording first")
            size = os.fstat(fd).st_size
            base = name.rsplit("/", 1)[-1]
            fallback = re.sub(r"[^A-Za-z0-9._ -]", "_", base)
            resp = web.StreamResponse(headers={
                "Content-Type": "audio/wav" if base.lower().endswith(".wav") else "application/x-ndjson",
                "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(base)}",
                "Content-Length": str(size), "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
            await resp.prepare(request)
            if request.method == "GET":
                sent = 0
                while sent < size:
                    chunk = await asyncio.to_thread(os.pread, fd, min(CHUNK, size - sent), sent)
                    if not chunk:
                        break
                    await resp.write(chunk)
                    sent += len(chunk)
            await resp.write_eof()
            return resp
        finally:
            os.close(fd)

    # ---- upload ------------------------------------------------------------------------------
    async def _upload(self, request: web.BaseRequest) -> web.Response:
        if not self.origin_ok(request.headers.get("Origin")):
            raise Refused(403, "upload from a foreign web page refused")
        self._guard(request)
        name = upload_name(request.query.get("name"))
        overwrite = request.query.get("overwrite", "0") not in ("", "0", "false")
        folder = self._folder("prompts")
        assert self.files is not None
        if request.content_length is not None and request.content_length > self.upload_max_bytes:
            return _too_large(self.upload_max_bytes)
        if not overwrite and os.path.lexists(folder / name):
            raise Refused(409, f"prompts/{name} exists: not overwritten (upload with overwrite to replace it)")
        if self._uploads >= MAX_UPLOADS:
            raise Refused(503, f"{MAX_UPLOADS} uploads are running: try again when one is done")
        self._uploads += 1
        try:
            return await self._receive(request, folder, name, overwrite)
        finally:
            self._uploads -= 1

    async def _receive(self, request: web.BaseRequest, folder: Path, name: str, overwrite: bool) -> web.Response:
        """Stream the body into a hidden temporary file, check it, then give it its name."""
        assert self.files is not None
        temp = f".upload-{secrets.token_hex(8)}-{name}"
        try:
            fd, path = self.files.create("prompts", temp)
        except PathRefused as e:
            raise Refused(500, str(e)) from None
        done = False
        try:
            total = 0
            try:
                with os.fdopen(fd, "wb", closefd=True) as f:
                    while True:
                        chunk = await asyncio.wait_for(request.content.readany(), UPLOAD_STALL_S)
                        if not chunk:
                            break
                        total += len(chunk)
                        if total > self.upload_max_bytes:
                            return _too_large(self.upload_max_bytes)
                        f.write(chunk)
            except asyncio.TimeoutError:
                raise Refused(408, f"the upload stalled (nothing for {UPLOAD_STALL_S:g} s)") from None
            except OSError as e:
                raise Refused(507, f"cannot store prompts/{name}: {e.strerror}") from None
            if total == 0:
                raise Refused(400, "the upload is empty")
            if not await asyncio.to_thread(_readable_audio, path):
                raise Refused(415, "not an audio file libsndfile can read")
            try:
                if overwrite:
                    os.replace(path, folder / name)  # replaces a file or a link itself, never writes through
                else:
                    os.link(path, folder / name)  # fails if the name was taken meanwhile
            except FileExistsError:
                raise Refused(409, f"prompts/{name} exists: not overwritten") from None
            except IsADirectoryError:
                raise Refused(409, f"prompts/{name} is a folder") from None
            except OSError as e:
                raise Refused(500, f"cannot store prompts/{name}: {e.strerror}") from None
            done = True
            log.info("uploaded prompts/%s (%d bytes) from %s", name, total, request.remote)
            return _ok({"name": name})
        finally:
            if not done or not overwrite:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
                except OSError as e:
                    log.warning("cannot remove the temporary upload %s: %s", path, e)


def _readable_audio(path: Path) -> bool:
    """Can libsndfile read it (the engine reads prompts with it)? Any failure is a no."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception:  # noqa: BLE001 - LibsndfileError, RuntimeError, TypeError on odd files: all mean "not audio"
        return False
    return info.frames > 0 and info.samplerate > 0 and info.channels > 0


def _too_large(limit: int) -> web.Response:
    """413; the connection is closed after it, since the rest of the body is never read."""
    resp = error(413, f"the file is too large (at most {limit / 2**20:g} MiB)")
    resp.force_close()
    return resp


def _query(request: web.BaseRequest) -> str:
    return f"?{request.query_string}" if request.query_string else ""
