"""Download the official MRT2 files (and Magenta RT v1's, :mod:`mrtd.weights.v1`) with
huggingface_hub, into its cache or a folder, skipping what is already found and checked;
every failure is one actionable line."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from mrtd.errors import UserError
from mrtd.weights.check import check_file
from mrtd.weights.find import (
    APPROX_BYTES,
    CHECKPOINTS_DIR,
    ENCODER_PATH,
    FOUND,
    HF_REPO,
    LICENCE_NOTE,
    MUSICCOCA_AUDIO,
    MUSICCOCA_DIR,
    MUSICCOCA_FILES,
    MUSICCOCA_OPTIONAL,
    MUSICCOCA_TEXT,
    SIZES,
    Checker,
    Root,
    check_size,
    checkpoint_entry,
    checkpoint_path,
    encoder_entry,
    find_musiccoca,
    hf_cache_dir,
    musiccoca_entries,
    official_root,
    search_roots,
)


def _hf_error(e: BaseException, rel: str, endpoint: str, repo: str = HF_REPO) -> UserError | None:
    """A huggingface_hub failure as one actionable line (None: not one of ours)."""
    from huggingface_hub import errors as hf

    login = "log in with `hf auth login` or set HF_TOKEN"
    url = f"https://huggingface.co/{repo}"
    if isinstance(e, hf.GatedRepoError):
        return UserError(f"{repo} is gated: accept its terms at {url} while logged in, then {login}")
    if isinstance(e, hf.RepositoryNotFoundError):
        return UserError(f"{endpoint} says {repo} does not exist or needs authorisation; {login}")
    if isinstance(e, hf.RemoteEntryNotFoundError):
        return UserError(f"{rel} is not in {repo} at {endpoint} (has the repository layout changed? see {url})")
    if isinstance(e, hf.HfHubHTTPError):
        code = getattr(getattr(e, "response", None), "status_code", None)
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if code in (401, 403):
            return UserError(f"not allowed to download {rel} (HTTP {code}): {login}")
        return UserError(f"downloading {rel} failed: {first}")
    if isinstance(e, (hf.LocalEntryNotFoundError, hf.OfflineModeIsEnabled)):
        return UserError(f"could not reach {endpoint} to download {rel}: check the network connection "
                         "(and HF_HUB_OFFLINE, HF_ENDPOINT, proxy settings)")
    if isinstance(e, OSError):
        return UserError(f"downloading {rel} failed: {e.strerror or e} (disk full? folder not writable?)")
    return None


def download_plan(sizes: Sequence[str], *, musiccoca: bool = True, encoder: bool = True) -> list[tuple[str, bool]]:
    """(repo path, optional) of every file ``download`` fetches."""
    for s in sizes:
        check_size(s)
    plan = [(checkpoint_path(s), False) for s in sizes]
    if musiccoca:
        plan += [(f"{MUSICCOCA_DIR}/{n}", n in MUSICCOCA_OPTIONAL) for n in MUSICCOCA_FILES]
    if encoder:
        plan.append((ENCODER_PATH, False))
    return plan


def v1_download_plan(sizes: Sequence[str], *, testdata: bool = False) -> list[tuple[str, bool]]:
    """(repo path, optional) of the Magenta RT v1 files fetched from google/magenta-realtime:
    the checkpoint archives (read as they are, never unpacked) and the codec test vectors."""
    from mrtd.weights.v1 import TESTDATA_DIR, TESTDATA_FILES, v1_tar_path

    plan = [(v1_tar_path(s), False) for s in sizes]
    if testdata:
        plan += [(f"{TESTDATA_DIR}/{n}", False) for n in TESTDATA_FILES]
    return plan


def _already_found(rel: str, roots: list[Root], check: Checker, repo: str = HF_REPO) -> Path | None:
    """An intact copy of ``rel`` already discoverable (so no download is needed).

    MusicCoCa counts as one folder: its files are present only when the folder discovery
    uses holds the text and the audio sets, otherwise the whole set is fetched (files
    spread over two folders would not be used together). A v1 checkpoint counts as
    present when its folder or its archive is found."""
    if repo != HF_REPO:
        from mrtd.weights import v1

        if rel.endswith(".tar"):
            size = next(s for s in v1.V1_SIZES if v1.v1_tar_path(s) == rel)
            e = v1.v1_checkpoint_entry(size, v1.v1_roots(), v1.V1Checker())
            return e.path if e.status == FOUND else None
        d = v1.find_v1_testdata()
        return d / Path(rel).name if d is not None else None
    if rel.startswith(CHECKPOINTS_DIR + "/"):
        e = checkpoint_entry(Path(rel).stem, roots, check)
    elif rel == ENCODER_PATH:
        e = encoder_entry(roots, check)
    else:
        d, _, mc = musiccoca_entries(roots, check)
        if d is None or any(mc[n].status != FOUND for n in MUSICCOCA_TEXT + MUSICCOCA_AUDIO):
            return None
        e = mc[Path(rel).name]
    return e.path if e.status == FOUND else None


def _discard(path: Path) -> None:
    """Remove a damaged download (and its cache blob) so discovery never meets it again."""
    real = Path(os.path.realpath(path))
    for p in {path, real}:
        try:
            p.unlink()
        except OSError:
            pass


def download(sizes: Sequence[str], *, musiccoca: bool = True, encoder: bool = True,
             to: str | os.PathLike | None = None, endpoint: str | None = None,
             token: str | bool | None = None, out: TextIO | None = None,
             v1_sizes: Sequence[str] = (), testdata: bool = False) -> dict[str, Path]:
    """Fetch the files from ``google/magenta-realtime-2`` with huggingface_hub, and with
    ``v1_sizes`` / ``testdata`` Magenta RT v1's from ``google/magenta-realtime``.

    Default destination: the Hugging Face cache (so discovery finds them, and other HF
    tools share them); files discovery already finds intact anywhere are skipped.
    ``to=DIR``: the official layout under DIR (``hf_hub_download(local_dir=DIR)``, which
    itself skips up-to-date files). Each file passes :func:`check_file` (with its sha256)
    before it counts; a damaged one is fetched once more, then reported. A missing
    optional file (the mapper) is skipped. Returns repo path -> local path."""
    from huggingface_hub import hf_hub_download

    out = out or sys.stderr
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
    from mrtd.weights.v1 import V1_HF_REPO, V1_LICENCE_NOTE

    plan = [(HF_REPO, rel, opt) for rel, opt in download_plan(sizes, musiccoca=musiccoca, encoder=encoder)]
    plan += [(V1_HF_REPO, rel, opt) for rel, opt in v1_download_plan(v1_sizes, testdata=testdata)]
    if any(repo == HF_REPO for repo, _, _ in plan):
        print(LICENCE_NOTE, file=out)
    if v1_sizes:
        print(V1_LICENCE_NOTE, file=out)
    dest = Path(os.path.expanduser(os.fspath(to))) if to is not None else None
    if dest is not None:
        try:
            dest.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserError(f"--to {dest}: cannot create the folder ({e.strerror or e})") from None
    roots = search_roots() if dest is None else []
    check = Checker()
    got: dict[str, Path] = {}
    for i, (repo, rel, optional) in enumerate(plan, 1):
        have = _already_found(rel, roots, check, repo) if dest is None else None
        if have is not None:
            print(f"[{i}/{len(plan)}] {rel}: already present at {have}", file=out)
            got[rel] = have
            continue
        approx = next((f" (~{APPROX_BYTES[s] / 1e9:.1f} GB)" for s in SIZES if rel == checkpoint_path(s)), "")
        if rel.endswith(".tar"):
            approx = " (over 1 GB: weights and optimizer state)"
        print(f"[{i}/{len(plan)}] {rel}{approx}", file=out, flush=True)
        path: Path | None = None
        problem: str | None = None
        for force in (False, True):
            try:
                path = Path(hf_hub_download(
                    repo, rel, cache_dir=str(hf_cache_dir()), local_dir=str(dest) if dest else None,
                    endpoint=endpoint, token=token, force_download=force))
            except Exception as e:
                from huggingface_hub import errors as hf

                if optional and isinstance(e, hf.RemoteEntryNotFoundError):
                    print(f"  {rel} is not published (optional; skipped)", file=out)
                    path = None
                    break
                err = _hf_error(e, rel, endpoint, repo)
                if err is None:
                    raise
                raise err from None
            problem = check_file(path, verify=True)
            if problem is None and rel.endswith(".tar"):
                from mrtd.weights.v1 import check_v1_checkpoint

                problem = check_v1_checkpoint(path)
            if problem is None:
                break
            print(f"  {path}: {problem}; fetching it again", file=out)
        if path is None:
            continue
        if problem is not None:
            _discard(path)
            raise UserError(f"{rel} downloaded from {endpoint} is damaged twice ({problem}); removed it. "
                            "Run the command again; if it keeps happening, report it")
        got[rel] = path
    if dest is None and any(r.startswith(MUSICCOCA_DIR) for r in got):
        d = find_musiccoca()
        if d is not None and all(os.path.dirname(p) != str(d) for r, p in got.items() if r.startswith(MUSICCOCA_DIR)):
            print(f"note: MusicCoCa is still taken from {d}, which comes first in the search order", file=out)
    if dest is not None and os.path.realpath(dest) != os.path.realpath(official_root()):
        print(f"done. mrtd finds these files with --weights {dest} or MRTD_WEIGHTS={dest}", file=out)
    else:
        print("done. mrtd finds these files without further options", file=out)
    return got
