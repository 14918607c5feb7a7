"""Find the official MRT2 files (downloading them: download.py; ``mrtd weights``: mrtd/cli/weights.py).

The official release (Hugging Face repo ``google/magenta-realtime-2``) has one layout::

    checkpoints/mrt2_small.safetensors            generation checkpoint (~1.1 GB)
    checkpoints/mrt2_base.safetensors             generation checkpoint (~9.8 GB)
    resources/musiccoca/{spm.model,*.tflite}      style encoder (text and audio prompts)
    resources/spectrostream/encoder.safetensors   codec encoder (audio prefill; optional)

Users get these files in different ways (the official ``mrt`` tool, ``hf download``,
a copy on a USB stick), so discovery searches several *roots* in a fixed order and
accepts both that layout and a flat folder. A file is only ever returned after
:func:`check_file` passed, because an interrupted download of a 10 GB file is the
common failure and otherwise surfaces much later as a confusing load error.

Nothing here imports torch; huggingface_hub, sentencepiece and the TFLite schema are
imported only when a check or a download needs them, so ``mrtd --help`` stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mrtd.errors import UserError
from mrtd.weights.check import check_file, size_problem

HF_REPO = "google/magenta-realtime-2"
HF_URL = f"https://huggingface.co/{HF_REPO}"
SIZES = ("mrt2_small", "mrt2_base")
APPROX_BYTES = {"mrt2_small": 1.1e9, "mrt2_base": 9.8e9}
LICENCE_NOTE = (
    "The MRT2 weights are (c) Google and licensed under Creative Commons Attribution 4.0 "
    f"(CC-BY-4.0, https://creativecommons.org/licenses/by/4.0/); model card: {HF_URL}"
)

# Paths relative to a root of the official layout (the HF repo and the official local root).
CHECKPOINTS_DIR = "checkpoints"
MUSICCOCA_DIR = "resources/musiccoca"
SPECTROSTREAM_DIR = "resources/spectrostream"
ENCODER_FILE = "encoder.safetensors"
ENCODER_PATH = f"{SPECTROSTREAM_DIR}/{ENCODER_FILE}"

# MusicCoCa files by what they enable. The mapper (text -> audio embedding space) is
# optional: the official tools work without it.
MUSICCOCA_TEXT = ("spm.model", "text_encoder.tflite", "pretrained_vector_quantizer.tflite")
MUSICCOCA_AUDIO = ("audio_preprocessor.tflite", "music_encoder.tflite")
MUSICCOCA_OPTIONAL = ("mapper.tflite",)
MUSICCOCA_FILES = MUSICCOCA_TEXT + MUSICCOCA_AUDIO + MUSICCOCA_OPTIONAL

# Root labels, in search order.
SOURCES = ("--weights", "MRTD_WEIGHTS", "hf-cache", "official")

FOUND, MISSING, CORRUPT = "found", "missing", "corrupt"



def checkpoint_path(size: str) -> str:
    """Relative path of a generation checkpoint in the official layout."""
    check_size(size)
    return f"{CHECKPOINTS_DIR}/{size}.safetensors"


def check_size(size: str) -> None:
    if size not in SIZES:
        raise UserError(f"unknown model size {size!r}; choose one of {', '.join(SIZES)}")


# --------------------------------------------------------------------------- roots


@dataclass(frozen=True)
class Root:
    """A folder searched for the files, and where it came from (one of :data:`SOURCES`).

    ``revision`` is set for Hugging Face cache snapshots, whose files are resolved with
    huggingface_hub's own ``try_to_load_from_cache``; other roots accept the official
    layout and flat folders."""

    path: Path
    source: str
    revision: str | None = None
    repo: str = HF_REPO

    @property
    def exists(self) -> bool:
        return self.path.is_dir()


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, from the environment *now*.

    huggingface_hub computes ``constants.HF_HUB_CACHE`` once at import; this repeats its
    rule (HF_HUB_CACHE, legacy HUGGINGFACE_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME) at
    call time so a changed environment (tests, a daemon's config) is honoured."""
    env = os.environ
    if env.get("HF_HUB_CACHE"):
        raw = env["HF_HUB_CACHE"]
    elif env.get("HUGGINGFACE_HUB_CACHE"):
        raw = env["HUGGINGFACE_HUB_CACHE"]
    else:
        home = env.get("HF_HOME") or os.path.join(
            env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface")
        raw = os.path.join(os.path.expanduser(os.path.expandvars(home)), "hub")
    return Path(os.path.expanduser(os.path.expandvars(raw)))


def hf_repo_cache(repo: str = HF_REPO) -> Path:
    """``<cache>/models--google--magenta-realtime-2`` (or another repo's folder)."""
    return hf_cache_dir() / ("models--" + repo.replace("/", "--"))


def official_root() -> Path:
    """``$MAGENTA_HOME/magenta-rt-v2`` (MAGENTA_HOME defaults to ~/Documents/Magenta), as
    the official ``magenta_rt.paths`` defines it."""
    base = os.environ.get("MAGENTA_HOME") or os.path.join("~", "Documents", "Magenta")
    return Path(os.path.expanduser(os.path.expandvars(base))) / "magenta-rt-v2"


def _hf_roots(repo_id: str = HF_REPO) -> list[Root]:
    """Snapshots of the HF repo: the one ``refs/main`` names first, then any other
    (newest first), so a download pinned to a commit is found too."""
    repo = hf_repo_cache(repo_id)
    snaps = repo / "snapshots"
    main = None
    try:
        main = (repo / "refs" / "main").read_text().strip() or None
    except OSError:
        pass
    try:
        revs = [p for p in snaps.iterdir() if p.is_dir()]
    except OSError:
        revs = []
    revs.sort(key=lambda p: (p.name != main, -_mtime(p)))
    if not revs:
        return [Root(snaps / (main or "<revision>"), "hf-cache", main, repo_id)]
    return [Root(p, "hf-cache", p.name, repo_id) for p in revs]


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def search_roots(weights: str | os.PathLike | None = None) -> list[Root]:
    """Every root searched, in priority order: ``--weights DIR``, ``MRTD_WEIGHTS`` (one
    folder or several joined by ':'), the Hugging Face cache, the official local root.
    A folder listed twice is searched once, at its first place."""
    roots: list[Root] = []
    if weights is not None:
        p = Path(os.path.expanduser(os.fspath(weights)))
        if not p.is_dir():
            what = "is a file, not a folder" if p.exists() else "does not exist"
            raise UserError(f"--weights {p}: {what} (give the folder that holds the model files)")
        roots.append(Root(p, "--weights"))
    for part in os.environ.get("MRTD_WEIGHTS", "").split(os.pathsep):
        if part.strip():
            roots.append(Root(Path(os.path.expanduser(part.strip())), "MRTD_WEIGHTS"))
    roots += _hf_roots()
    roots.append(Root(official_root(), "official"))
    seen: set[str] = set()
    out = []
    for r in roots:
        key = os.path.realpath(r.path)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _in_root(root: Root, rel: str, flat: Sequence[str]) -> list[Path]:
    """Candidate paths of one file in a root: the official ``rel`` first, then the flat
    alternatives (relative to the root) for roots that are not HF snapshots."""
    if root.source == "hf-cache":
        return [_hf_file(root, rel)]
    return [root.path / rel] + [root.path / f for f in flat]


def _hf_file(root: Root, rel: str) -> Path:
    """A file of an HF snapshot via huggingface_hub's cache API (the snapshot path itself
    when it is not cached, so reports show where it would be)."""
    if root.revision is not None:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(root.repo, rel, cache_dir=str(hf_cache_dir()), revision=root.revision)
        if isinstance(hit, str):
            return Path(hit)
    return root.path / rel


def _checkpoint_candidates(root: Root, size: str) -> list[Path]:
    return _in_root(root, checkpoint_path(size), [f"{size}.safetensors"])


def _musiccoca_dirs(root: Root) -> list[Path]:
    if root.source == "hf-cache":
        return [_hf_file(root, f"{MUSICCOCA_DIR}/{MUSICCOCA_TEXT[0]}").parent]
    return [root.path / MUSICCOCA_DIR, root.path / "musiccoca", root.path]


def _musiccoca_file(root: Root, d: Path, name: str) -> Path:
    if root.source == "hf-cache":
        return _hf_file(root, f"{MUSICCOCA_DIR}/{name}")
    return d / name


def _encoder_candidates(root: Root) -> list[Path]:
    # ``checkpoints/encoder.safetensors``: where the official MLX loader looks (next to
    # the checkpoint).
    return _in_root(root, ENCODER_PATH, [f"spectrostream/{ENCODER_FILE}", ENCODER_FILE,
                                          f"{CHECKPOINTS_DIR}/{ENCODER_FILE}"])


# --------------------------------------------------------------------------- discovery


@dataclass
class Entry:
    """One file looked for: where it was found (or would be), its state and why."""

    name: str
    status: str = MISSING
    path: Path | None = None
    source: str | None = None
    problem: str | None = None
    optional: bool = False
    looked: list[str] | None = None

    def as_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "status": self.status, "path": str(self.path) if self.path else None,
             "source": self.source, "problem": self.problem, "optional": self.optional}
        if self.looked is not None:
            d["looked"] = self.looked
        return d


class Checker:
    """check_file with memory, so a report checks each file once."""

    def __init__(self, verify: bool = False):
        self.verify = verify
        self.seen: dict[str, str | None] = {}
        self.damaged: dict[str, str] = {}

    def __call__(self, p: Path, size: str | None = None) -> str | None:
        key = os.fspath(p) + (f"#{size}" if size else "")
        if key not in self.seen:
            problem = check_file(p, self.verify)
            if problem is None and size is not None:
                problem = size_problem(p, size)
            self.seen[key] = problem
            if problem is not None and problem != "does not exist":
                self.damaged[os.fspath(p)] = problem
        return self.seen[key]


def _present(p: Path) -> bool:
    return p.exists() or p.is_symlink()


def _locate(name: str, candidates: Iterable[tuple[Root, Path]], check: Checker,
            size: str | None = None) -> Entry:
    """First candidate that passes the checks; otherwise the first damaged one (so the
    report names it), otherwise missing. ``looked`` lists the candidates tried, in order."""
    entry = Entry(name, looked=[])
    first_bad: Entry | None = None
    for root, p in candidates:
        entry.looked.append(f"{p} ({root.source})")
        if not _present(p):
            continue
        problem = check(p, size)
        if problem is None:
            entry.status, entry.path, entry.source = FOUND, p, root.source
            return entry
        if first_bad is None:
            first_bad = Entry(name, CORRUPT, p, root.source, problem)
    if first_bad is not None:
        first_bad.looked = entry.looked
        return first_bad
    return entry


def checkpoint_entry(size: str, roots: list[Root], check: Checker) -> Entry:
    cands = [(r, p) for r in roots for p in _checkpoint_candidates(r, size)]
    return _locate(f"{size}.safetensors", cands, check, size)


def find_checkpoint(size: str, weights: str | os.PathLike | None = None) -> Path:
    """The generation checkpoint of ``size`` (first intact one in search order): an MRT2
    ``.safetensors``, or for ``v1_base`` / ``v1_large`` a Magenta RT v1 checkpoint folder
    or ``.tar`` (:mod:`mrtd.weights.v1`).

    Raises UserError naming every place looked at (and any damaged file found) and the
    command that downloads it."""
    from mrtd.weights.v1 import V1_SIZES, find_v1_checkpoint

    if size in V1_SIZES:
        return find_v1_checkpoint(size, weights)
    check_size(size)
    roots = search_roots(weights)
    e = checkpoint_entry(size, roots, Checker())
    if e.status == FOUND:
        assert e.path is not None
        return e.path
    lines = [f"{size} checkpoint not found"]
    if e.status == CORRUPT:
        lines = [f"{size} checkpoint is damaged: {e.path}: {e.problem}"]
    lines.append("looked in: " + "; ".join(e.looked or []))
    lines.append(f"get it with: mrtd weights download --size {size} "
                 f"(or put {size}.safetensors in a folder and pass --weights DIR)")
    raise UserError(". ".join(lines))


def musiccoca_entries(roots: list[Root], check: Checker) -> tuple[Path | None, str | None, dict[str, Entry]]:
    """The MusicCoCa folder (first one holding the intact text set) and an entry per file.

    Without such a folder, each file is reported at its first appearance anywhere."""
    dirs = [(r, d) for r in roots for d in _musiccoca_dirs(r)]
    for r, d in dirs:
        files = {n: _musiccoca_file(r, d, n) for n in MUSICCOCA_FILES}
        if all(_present(files[n]) and check(files[n]) is None for n in MUSICCOCA_TEXT):
            entries = {}
            for n, p in files.items():
                e = Entry(n, optional=n in MUSICCOCA_OPTIONAL)
                if _present(p):
                    e.path, e.source = p, r.source
                    e.problem = check(p)
                    e.status = FOUND if e.problem is None else CORRUPT
                entries[n] = e
            return d, r.source, entries
    entries = {}
    for n in MUSICCOCA_FILES:
        e = _locate(n, ((r, _musiccoca_file(r, d, n)) for r, d in dirs), check)
        e.optional = n in MUSICCOCA_OPTIONAL
        e.looked = None
        entries[n] = e
    return None, None, entries


def find_musiccoca(weights: str | os.PathLike | None = None) -> Path | None:
    """The folder holding MusicCoCa's text set (spm.model, text_encoder.tflite,
    pretrained_vector_quantizer.tflite, all intact), or None. The audio files and the
    mapper, when present, are in the same folder."""
    d, _, _ = musiccoca_entries(search_roots(weights), Checker())
    return d


def encoder_entry(roots: list[Root], check: Checker) -> Entry:
    e = _locate(ENCODER_FILE, ((r, p) for r in roots for p in _encoder_candidates(r)), check)
    e.optional = True
    return e


def find_encoder(weights: str | os.PathLike | None = None) -> Path | None:
    """The SpectroStream ``encoder.safetensors`` (audio prefill), or None if there is no
    intact one."""
    e = encoder_entry(search_roots(weights), Checker())
    return e.path if e.status == FOUND else None


def inventory(weights: str | os.PathLike | None = None, *, verify: bool = False) -> dict[str, Any]:
    """Everything ``mrtd weights list`` shows, as plain data (the ``--json`` output).

    Keys: ``roots`` (searched, in order), ``checkpoints`` (per size), ``musiccoca``
    (folder + per-file entries), ``encoder``, ``ready`` (what works), ``damaged`` (path ->
    problem for every file that failed a check: those examined up to the first intact copy
    of each, or with ``verify`` every copy present in any root), ``summary``."""
    roots = search_roots(weights)
    check = Checker(verify)
    ckpts = {s: checkpoint_entry(s, roots, check) for s in SIZES}
    mc_dir, mc_source, mc = musiccoca_entries(roots, check)
    enc = encoder_entry(roots, check)
    if verify:  # every copy present anywhere, not only up to the first intact one
        for r in roots:
            for size in SIZES:
                for p in _checkpoint_candidates(r, size):
                    if _present(p):
                        check(p, size)
            for p in [_musiccoca_file(r, d, n) for d in _musiccoca_dirs(r) for n in MUSICCOCA_FILES] \
                    + _encoder_candidates(r):
                if _present(p):
                    check(p)

    def missing(names: Iterable[str]) -> list[str]:
        return [n for n in names if mc[n].status != FOUND]

    ready = {s: ckpts[s].status == FOUND for s in SIZES}
    ready["text_prompts"] = mc_dir is not None
    ready["audio_prompts"] = mc_dir is not None and not missing(MUSICCOCA_AUDIO)
    ready["mapper"] = mc_dir is not None and mc["mapper.tflite"].status == FOUND
    ready["audio_prefill"] = enc.status == FOUND

    def state(ok: bool, names: list[str], status_of) -> str:
        if ok:
            return "ready"
        miss = [n for n in names if status_of(n) != CORRUPT]
        bad = [n for n in names if status_of(n) == CORRUPT]
        said = (["missing " + ", ".join(miss)] if miss else []) + (["damaged " + ", ".join(bad)] if bad else [])
        return ", ".join(said) or "missing"

    parts = [f"{s}: " + state(ready[s], [f"{s}.safetensors"], lambda n, s=s: ckpts[s].status) for s in SIZES]
    parts.append("text prompts: " + state(ready["text_prompts"], missing(MUSICCOCA_TEXT), lambda n: mc[n].status))
    parts.append("audio prompts: " + state(ready["audio_prompts"],
                                           missing(MUSICCOCA_TEXT + MUSICCOCA_AUDIO), lambda n: mc[n].status))
    parts.append("audio prefill: " + state(ready["audio_prefill"], [ENCODER_FILE], lambda n: enc.status))
    from mrtd.weights.v1 import v1_inventory

    v1 = v1_inventory(weights, check, ready, ready["audio_prefill"])
    parts.append(v1["summary"])
    return {
        "roots": [{"path": str(r.path), "source": r.source, "exists": r.exists, "revision": r.revision}
                  for r in roots],
        "checkpoints": {s: e.as_dict() for s, e in ckpts.items()},
        "musiccoca": {"dir": str(mc_dir) if mc_dir else None, "source": mc_source,
                      "files": {n: e.as_dict() for n, e in mc.items()}},
        "encoder": enc.as_dict(),
        "ready": ready,
        "v1": v1,
        "damaged": dict(check.damaged),
        "verified": verify,
        "summary": "; ".join(parts),
    }
