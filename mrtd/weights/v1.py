"""Find and check the official Magenta RealTime v1 files (``mrtd weights``, ``--size v1_*``).

v1's language models are on Hugging Face ``google/magenta-realtime`` (CC-BY-4.0) as
T5X checkpoints, each both as one ``.tar`` and as the unpacked folder::

    checkpoints/llm_base_x4286_c1860k.tar     v1_base  (348M parameters)
    checkpoints/llm_base_x4286_c1860k/        the same, unpacked: target.*/ zarr arrays
    checkpoints/llm_large_x3047_c1860k.tar    v1_large (762M parameters)
    testdata/ssv2_48k_stereo/{audio,tokens,audio_rt}.npy   codec test vectors

The loader (:mod:`mrtd.model.v1.checkpoint`) reads either form, so a download is never
unpacked. v1 has no codec or style files of its own here: SpectroStream and MusicCoCa are
the same models MRT2 uses, so v1 decodes with the SpectroStream decoder inside an MRT2
checkpoint and takes style tokens from the MRT2 MusicCoCa files (:mod:`mrtd.weights.find`).

Roots searched, in order: ``--weights DIR``, ``MRTD_WEIGHTS``, the Hugging Face cache of
``google/magenta-realtime``, and ``$MAGENTA_RT_CACHE_DIR/assets`` (the official v1 code's
asset cache) when that variable is set. Nothing here imports torch.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import tarfile
from pathlib import Path
from typing import Any

from mrtd.errors import UserError
from mrtd.weights.find import (
    CORRUPT,
    FOUND,
    SIZES,
    Checker,
    Entry,
    Root,
    _hf_roots,
    _locate,
    checkpoint_entry,
    search_roots,
)

V1_HF_REPO = "google/magenta-realtime"
V1_HF_URL = f"https://huggingface.co/{V1_HF_REPO}"
V1_SIZES = ("v1_base", "v1_large")
V1_NAMES = {"v1_base": "llm_base_x4286_c1860k", "v1_large": "llm_large_x3047_c1860k"}
V1_D_MODEL = {"v1_base": 768, "v1_large": 1024}
# the .tar also holds optimizer state: these are the model weights alone (float32)
V1_APPROX_BYTES = {"v1_base": 1.39e9, "v1_large": 3.05e9}
EMBEDDING = "target.token_embedder.embedding"
TESTDATA_DIR = "testdata/ssv2_48k_stereo"
TESTDATA_FILES = ("audio.npy", "tokens.npy", "audio_rt.npy")
V1_LICENCE_NOTE = (
    "The Magenta RT v1 weights are (c) Google and licensed under Creative Commons Attribution 4.0 "
    f"(CC-BY-4.0, https://creativecommons.org/licenses/by/4.0/); model card: {V1_HF_URL}"
)


def check_v1_size(size: str) -> None:
    if size not in V1_SIZES:
        raise UserError(f"unknown v1 model size {size!r}; choose one of {', '.join(V1_SIZES)}")


def v1_tar_path(size: str) -> str:
    """Repo path of a v1 checkpoint archive (what ``mrtd weights download`` fetches)."""
    check_v1_size(size)
    return f"checkpoints/{V1_NAMES[size]}.tar"


# --------------------------------------------------------------------------- checks


def _zarray_problem(d: Path, meta: dict) -> str | None:
    """Every chunk file of one zarr v2 array present (chunks may only be absent when the
    array has a fill value: then they read as that value)."""
    try:
        shape, chunks = [int(x) for x in meta["shape"]], [int(x) for x in meta["chunks"]]
    except (KeyError, TypeError, ValueError):
        return f"{d.name}/.zarray has no valid shape/chunks"
    if meta.get("fill_value") is not None:
        return None
    sep = meta.get("dimension_separator") or "."
    grid = [max(1, math.ceil(s / c)) for s, c in zip(shape, chunks)] or [1]
    n = math.prod(grid)
    if n > 100_000:
        return None  # not a T5X layout we know; the loader will say more
    for flat in range(n):
        idx, rest = [], flat
        for g in reversed(grid):
            idx.append(rest % g)
            rest //= g
        name = sep.join(str(i) for i in reversed(idx)) if shape else "0"
        f = d / name
        try:
            if f.stat().st_size == 0:
                return f"{d.name}/{name} is empty (an interrupted download?)"
        except OSError:
            return f"{d.name} lacks chunk {name} (an interrupted download?)"
    return None


def _check_dir(p: Path) -> str | None:
    try:
        arrays = sorted(c for c in p.iterdir() if c.name.startswith("target.") and c.is_dir())
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    if not arrays:
        return "no target.* arrays: not a Magenta RT v1 (T5X) checkpoint folder"
    for d in arrays:
        try:
            meta = json.loads((d / ".zarray").read_text())
        except FileNotFoundError:
            return f"{d.name} has no .zarray (an interrupted download?)"
        except (OSError, ValueError) as e:
            return f"{d.name}/.zarray is not readable JSON ({getattr(e, 'msg', e)})"
        problem = _zarray_problem(d, meta)
        if problem:
            return problem
    return None


def _check_tar(p: Path) -> str | None:
    size = p.stat().st_size
    with open(p, "rb") as f:
        head = f.read(512)
    if head[:2] == b"\x1f\x8b":
        return None  # compressed: checking it means reading all of it; the loader will
    if len(head) < 512 or head[257:262] != b"ustar":
        return "not a tar archive (no ustar header)"
    try:
        with tarfile.open(p, "r:") as t:
            last, any_target = None, False
            for m in t:
                last = m
                any_target = any_target or Path(m.name).name.startswith("target.") or "/target." in m.name
    except (tarfile.TarError, EOFError) as e:
        return f"truncated or corrupt tar archive ({e})"
    if last is None or not any_target:
        return "no target.* arrays in the archive: not a Magenta RT v1 (T5X) checkpoint"
    if last.isfile() and last.offset_data + last.size > size:
        return f"truncated: the archive's last member needs {last.offset_data + last.size} bytes, the file has {size}"
    return None


def check_v1_checkpoint(path: str | os.PathLike) -> str | None:
    """The problem with a v1 checkpoint (folder or ``.tar``), or None when it looks whole.

    Folder: every ``target.*`` array has a readable ``.zarray`` and all its chunk files
    (an interrupted download of the unpacked folder is the common failure). Archive: tar
    headers readable to the end and the last member's data inside the file."""
    p = Path(path)
    try:
        p.stat()
    except FileNotFoundError:
        return "broken symbolic link" if p.is_symlink() else "does not exist"
    except OSError as e:
        return f"cannot read: {e.strerror or e}"
    try:
        if p.is_dir():
            return _check_dir(p)
        if p.stat().st_size == 0:
            return "empty file (0 bytes; an interrupted download?)"
        return _check_tar(p)
    except OSError as e:
        return f"cannot read: {e.strerror or e}"


def _embedding_width(p: Path) -> int | None:
    """d_model from the embedding's ``.zarray`` ([29824, D]), None when not readable."""
    try:
        if p.is_dir():
            meta = json.loads((p / EMBEDDING / ".zarray").read_text())
        else:
            with tarfile.open(p, "r:") as t:
                m = next((m for m in t if m.name.endswith(f"{EMBEDDING}/.zarray")), None)
                f = t.extractfile(m) if m is not None else None
                if f is None:
                    return None
                meta = json.loads(f.read())
        return int(meta["shape"][1])
    except (OSError, ValueError, KeyError, IndexError, TypeError, tarfile.TarError, gzip.BadGzipFile):
        return None


def v1_size_problem(path: str | os.PathLike, size: str) -> str | None:
    """A positive mismatch only: the checkpoint's width says it is the other size."""
    width = _embedding_width(Path(path))
    if width is None or width == V1_D_MODEL[size]:
        return None
    other = [s for s, d in V1_D_MODEL.items() if d == width]
    return f"not {size}: " + (f"it is {other[0]}" if other else f"its d_model is {width}")


class V1Checker(Checker):
    """:class:`Checker` for v1 checkpoints (folders and archives)."""

    def __call__(self, p: Path, size: str | None = None) -> str | None:
        key = os.fspath(p) + (f"#{size}" if size else "")
        if key not in self.seen:
            problem = check_v1_checkpoint(p)
            if problem is None and size is not None:
                problem = v1_size_problem(p, size)
            self.seen[key] = problem
            if problem is not None and problem != "does not exist":
                self.damaged[os.fspath(p)] = problem
        return self.seen[key]


# --------------------------------------------------------------------------- roots


def v1_roots(weights: str | os.PathLike | None = None) -> list[Root]:
    """``--weights``, ``MRTD_WEIGHTS``, the HF cache of google/magenta-realtime, and the
    official v1 asset cache when ``MAGENTA_RT_CACHE_DIR`` is set."""
    roots = [r for r in search_roots(weights) if r.source in ("--weights", "MRTD_WEIGHTS")]
    roots += _hf_roots(V1_HF_REPO)
    if os.environ.get("MAGENTA_RT_CACHE_DIR"):
        roots.append(Root(Path(os.path.expanduser(os.environ["MAGENTA_RT_CACHE_DIR"])) / "assets",
                          "MAGENTA_RT_CACHE_DIR"))
    seen: set[str] = set()
    out = []
    for r in roots:
        key = os.path.realpath(r.path)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _candidates(root: Root, size: str) -> list[Path]:
    """The unpacked folder first (no archive to read through), then the ``.tar``; in the
    official layout (``checkpoints/``) and flat."""
    name = V1_NAMES[size]
    if root.source == "hf-cache":
        from mrtd.weights.find import _hf_file

        # a snapshot folder of symlinks (snapshot_download of the unpacked checkpoint)
        return [root.path / "checkpoints" / name, _hf_file(root, f"checkpoints/{name}.tar")]
    return [root.path / "checkpoints" / name, root.path / "checkpoints" / f"{name}.tar",
            root.path / name, root.path / f"{name}.tar"]


def v1_checkpoint_entry(size: str, roots: list[Root], check: Checker) -> Entry:
    check_v1_size(size)
    return _locate(V1_NAMES[size], ((r, p) for r in roots for p in _candidates(r, size)), check, size)


def find_v1_checkpoint(size: str, weights: str | os.PathLike | None = None) -> Path:
    """The v1 checkpoint of ``size`` (first intact folder or ``.tar`` in search order).

    Raises UserError naming every place looked at and the command that downloads it."""
    e = v1_checkpoint_entry(size, v1_roots(weights), V1Checker())
    if e.status == FOUND:
        assert e.path is not None
        return e.path
    lines = [f"{size} checkpoint not found"]
    if e.status == CORRUPT:
        lines = [f"{size} checkpoint is damaged: {e.path}: {e.problem}"]
    lines.append("looked in: " + "; ".join(e.looked or []))
    lines.append(f"get it with: mrtd weights download --size {size} (or put {V1_NAMES[size]}.tar or its "
                 "unpacked folder in a folder and pass --weights DIR)")
    raise UserError(". ".join(lines))


def v1_codec_entry(weights: str | os.PathLike | None = None, check: Checker | None = None) -> Entry:
    """The MRT2 checkpoint whose SpectroStream decoder v1 uses (the smaller one first)."""
    roots, check = search_roots(weights), check or Checker()
    entries = [checkpoint_entry(s, roots, check) for s in SIZES]
    e = next((e for e in entries if e.status == FOUND), None) or next(
        (e for e in entries if e.status == CORRUPT), entries[0])
    return Entry("SpectroStream decoder (in an MRT2 checkpoint)", e.status, e.path, e.source, e.problem)


def find_v1_codec(weights: str | os.PathLike | None = None) -> Path | None:
    """An intact MRT2 ``.safetensors`` (mrt2_small first) holding the SpectroStream decoder
    v1 decodes with, or None."""
    e = v1_codec_entry(weights)
    return e.path if e.status == FOUND else None


def find_v1_testdata(weights: str | os.PathLike | None = None) -> Path | None:
    """The folder holding the official codec test vectors
    (``testdata/ssv2_48k_stereo/{audio,tokens,audio_rt}.npy``), or None."""
    for r in v1_roots(weights):
        if r.source == "hf-cache":
            from mrtd.weights.find import _hf_file

            files = [_hf_file(r, f"{TESTDATA_DIR}/{n}") for n in TESTDATA_FILES]
        else:
            files = [r.path / TESTDATA_DIR / n for n in TESTDATA_FILES]
        if all(f.is_file() and f.stat().st_size > 0 for f in files):
            return files[0].parent
    return None


def v1_inventory(weights: str | os.PathLike | None, check: Checker, mc_ready: dict[str, bool],
                 encoder_found: bool) -> dict[str, Any]:
    """The ``v1`` part of ``mrtd weights list --json``: checkpoints, the codec it borrows
    from MRT2, the test vectors, what works, and which roots were searched."""
    roots = v1_roots(weights)
    v1check = V1Checker(check.verify)
    ckpts = {s: v1_checkpoint_entry(s, roots, v1check) for s in V1_SIZES}
    codec = v1_codec_entry(weights, check)
    check.damaged.update(v1check.damaged)
    testdata = find_v1_testdata(weights)
    ready = {s: ckpts[s].status == FOUND and codec.status == FOUND for s in V1_SIZES}
    ready.update(codec=codec.status == FOUND, text_prompts=mc_ready["text_prompts"],
                 audio_prompts=mc_ready["audio_prompts"], audio_prefill=encoder_found,
                 codec_test_vectors=testdata is not None)
    parts = []
    for s in V1_SIZES:
        e = ckpts[s]
        if ready[s]:
            parts.append(f"{s}: ready")
        elif e.status == FOUND:
            parts.append(f"{s}: needs the SpectroStream decoder of an MRT2 checkpoint")
        else:
            parts.append(f"{s}: {'damaged' if e.status == CORRUPT else 'missing'} {V1_NAMES[s]}")
    return {
        "repo": V1_HF_REPO,
        "roots": [{"path": str(r.path), "source": r.source, "exists": r.exists, "revision": r.revision}
                  for r in roots],
        "checkpoints": {s: e.as_dict() for s, e in ckpts.items()},
        "codec": codec.as_dict() | {"note": "v1 decodes with the SpectroStream decoder inside an MRT2 "
                                            "checkpoint (same codec); audio prefill uses the MRT2 encoder"},
        "testdata": str(testdata) if testdata else None,
        "ready": ready,
        "summary": "; ".join(parts),
    }

