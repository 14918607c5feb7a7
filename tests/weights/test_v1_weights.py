"""Magenta RT v1 files: finding a checkpoint (unpacked T5X folder or .tar) where MRT2's
are looked for and in the Hugging Face cache of google/magenta-realtime, damage and
wrong-size detection, the ``v1`` part of ``mrtd weights list``, and downloading the
archive (against a local stand-in of the Hub, no network)."""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mrtd.cli.weights import add_weights
from mrtd.errors import UserError
from mrtd.weights import find as res
from mrtd.weights import v1

REV = "89abcdef0123456789abcdef0123456789abcdef"


def write(p: Path, data: bytes) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def zarr_array(d: Path, shape: list[int], chunks: list[int]) -> None:
    """One zarr v2 array of the T5X layout: .zarray + a (stand-in) gzip chunk per grid cell."""
    write(d / ".zarray", json.dumps({"chunks": chunks, "compressor": {"id": "gzip", "level": 1},
                                     "dimension_separator": ".", "dtype": "<f4", "fill_value": None,
                                     "filters": None, "order": "C", "shape": shape,
                                     "zarr_format": 2}).encode())
    grid = [-(-s // c) for s, c in zip(shape, chunks)]
    for idx in np.ndindex(*grid):
        write(d / ".".join(map(str, idx)), b"\x1f\x8b stand-in chunk")


def v1_folder(d: Path, width: int = 768) -> Path:
    """A v1 checkpoint folder: the embedding split over 2 chunk files, a norm scale, the
    msgpack index and optimizer state beside them (as in the real checkpoints)."""
    zarr_array(d / "target.token_embedder.embedding", [29824, width], [14912, width])
    zarr_array(d / "target.decoder.decoder_norm.scale", [width], [width])
    zarr_array(d / "state.param_states.decoder.decoder_norm.scale.v", [width], [width])
    write(d / "checkpoint", b"\x82msgpack stand-in")
    return d


def v1_tar(path: Path, width: int = 768) -> Path:
    src = v1_folder(path.parent / (path.name + ".src"), width)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as t:
        t.add(src, arcname=path.name.removesuffix(".tar"))
    return path


def mrt2_checkpoint(p: Path) -> Path:
    from safetensors.numpy import save_file

    p.parent.mkdir(parents=True, exist_ok=True)
    save_file({"params/a": np.zeros((2, 2), np.float32)}, str(p))
    return p


BASE = v1.V1_NAMES["v1_base"]
LARGE = v1.V1_NAMES["v1_large"]


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch) -> Path:
    for k in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "MRTD_WEIGHTS", "HF_TOKEN", "HF_ENDPOINT",
              "XDG_CACHE_HOME", "MAGENTA_RT_CACHE_DIR"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("MAGENTA_HOME", str(tmp_path / "magenta"))
    return tmp_path


def hf_v1_snapshot(tmp_path: Path) -> Path:
    """google/magenta-realtime in the HF cache as snapshot_download leaves the unpacked
    checkpoint: blobs by sha256, snapshot entries as relative symlinks."""
    repo = tmp_path / "hf-home" / "hub" / "models--google--magenta-realtime"
    src = v1_folder(tmp_path / "src" / BASE)
    snap = repo / "snapshots" / REV
    for f in src.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            blob = write(repo / "blobs" / hashlib.sha256(data + str(f).encode()).hexdigest(), data)
            link = snap / "checkpoints" / BASE / f.relative_to(src)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(blob, link.parent))
    write(repo / "refs" / "main", REV.encode())
    return snap


def test_sizes_and_official_names():
    assert v1.V1_SIZES == ("v1_base", "v1_large")
    assert v1.v1_tar_path("v1_base") == "checkpoints/llm_base_x4286_c1860k.tar"
    assert v1.v1_tar_path("v1_large") == "checkpoints/llm_large_x3047_c1860k.tar"
    with pytest.raises(UserError):
        v1.v1_tar_path("mrt2_small")


def test_folder_and_tar_in_every_layout(tmp_path):
    official = v1_folder(tmp_path / "w" / "checkpoints" / BASE)
    assert res.find_checkpoint("v1_base", weights=tmp_path / "w") == official
    flat_tar = v1_tar(tmp_path / "flat" / f"{BASE}.tar")
    assert res.find_checkpoint("v1_base", weights=tmp_path / "flat") == flat_tar
    assert v1.check_v1_checkpoint(flat_tar) is None
    # the unpacked folder wins over the archive beside it (nothing to read through)
    v1_tar(tmp_path / "w" / "checkpoints" / f"{BASE}.tar")
    assert res.find_checkpoint("v1_base", weights=tmp_path / "w") == official
    with pytest.raises(UserError, match=r"v1_large checkpoint not found.*mrtd weights download --size v1_large"):
        res.find_checkpoint("v1_large", weights=tmp_path / "w")


def test_hf_cache_mrtd_weights_and_official_asset_cache(tmp_path, monkeypatch):
    snap = hf_v1_snapshot(tmp_path)
    assert res.find_checkpoint("v1_base") == snap / "checkpoints" / BASE
    mine = v1_tar(tmp_path / "mine" / "checkpoints" / f"{BASE}.tar")
    monkeypatch.setenv("MRTD_WEIGHTS", str(tmp_path / "mine"))
    assert res.find_checkpoint("v1_base") == mine  # MRTD_WEIGHTS comes before the HF cache
    large = v1_folder(tmp_path / "mrt-cache" / "assets" / "checkpoints" / LARGE, width=1024)
    monkeypatch.setenv("MAGENTA_RT_CACHE_DIR", str(tmp_path / "mrt-cache"))
    assert res.find_checkpoint("v1_large") == large
    assert [r.source for r in v1.v1_roots()] == ["MRTD_WEIGHTS", "hf-cache", "MAGENTA_RT_CACHE_DIR"]


def test_damaged_and_wrong_size_are_reported_never_returned(tmp_path):
    d = v1_folder(tmp_path / "w" / "checkpoints" / BASE)
    (d / "target.token_embedder.embedding" / "1.0").unlink()
    assert "lacks chunk 1.0" in v1.check_v1_checkpoint(d)
    with pytest.raises(UserError, match="v1_base checkpoint is damaged: .*lacks chunk 1.0"):
        res.find_checkpoint("v1_base", weights=tmp_path / "w")
    # an intact copy later in the search order is used instead
    t = v1_tar(tmp_path / "w" / f"{BASE}.tar")
    assert res.find_checkpoint("v1_base", weights=tmp_path / "w") == t
    data = t.read_bytes()
    t.write_bytes(data[: len(data) // 3])
    assert "truncated" in v1.check_v1_checkpoint(t)
    t.write_bytes(b"not a tar" * 100)
    assert "not a tar" in v1.check_v1_checkpoint(t)
    assert "no target.*" in v1.check_v1_checkpoint(write(tmp_path / "empty" / "x", b"").parent)
    # a large checkpoint under the base name
    wrong = v1_folder(tmp_path / "o" / BASE, width=1024)
    assert v1.v1_size_problem(wrong, "v1_base") == "not v1_base: it is v1_large"
    with pytest.raises(UserError, match="not v1_base: it is v1_large"):
        res.find_checkpoint("v1_base", weights=tmp_path / "o")
    assert v1.v1_size_problem(v1_tar(tmp_path / "t" / f"{LARGE}.tar", width=768), "v1_large") == \
        "not v1_large: it is v1_base"


def test_the_real_t5x_layout_passes():
    fixture = Path(__file__).parents[1] / "fixtures" / "v1" / "checkpoint"
    if not fixture.is_dir():
        pytest.skip("tests/fixtures/v1/checkpoint not present")
    assert v1.check_v1_checkpoint(fixture) is None
    assert v1.v1_size_problem(fixture, "v1_base") == "not v1_base: its d_model is 64"


def weights_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="mrtd")
    add_weights(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["weights", *argv])
    return args.run(args)


def test_list_names_v1_and_the_shared_codec(tmp_path, capsys):
    w = tmp_path / "w"
    v1_folder(w / "checkpoints" / BASE)
    assert weights_cli("list", "--weights", str(w), "--json") == 0
    inv = json.loads(capsys.readouterr().out)["v1"]
    assert inv["repo"] == "google/magenta-realtime"
    assert inv["checkpoints"]["v1_base"]["status"] == "found"
    assert inv["checkpoints"]["v1_large"]["status"] == "missing"
    assert inv["codec"]["status"] == "missing" and "MRT2" in inv["codec"]["note"]
    assert inv["ready"]["v1_base"] is False  # no decoder: no audio
    assert "v1_base: needs the SpectroStream decoder" in inv["summary"]
    ck = mrt2_checkpoint(w / "checkpoints" / "mrt2_small.safetensors")
    for n in v1.TESTDATA_FILES:
        write(w / v1.TESTDATA_DIR / n, b"\x93NUMPY stand-in")
    assert weights_cli("list", "--weights", str(w), "--json") == 0
    full = json.loads(capsys.readouterr().out)
    inv = full["v1"]
    assert inv["codec"]["path"] == str(ck) and inv["ready"]["v1_base"] and inv["ready"]["codec"]
    assert inv["testdata"] == str(w / v1.TESTDATA_DIR) and inv["ready"]["codec_test_vectors"]
    assert "v1_base: ready" in full["summary"]
    assert v1.find_v1_codec(w) == ck and v1.find_v1_testdata(w) == w / v1.TESTDATA_DIR
    assert weights_cli("list", "--weights", str(w)) == 0
    out = capsys.readouterr().out
    assert "v1_base checkpoint (llm_base_x4286_c1860k)" in out and "v1 codec" in out


# --------------------------------------------------------------------------- download


class Hub(http.server.ThreadingHTTPServer):
    """``hf_hub_download``'s side of the Hub for several repos: HEAD/GET
    /{repo}/resolve/main/{path} with X-Repo-Commit, ETag (sha256) and Content-Length."""

    daemon_threads = True

    def __init__(self, files: dict[str, bytes]):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = files  # "owner/name/path" -> bytes
        self.requests: list[str] = []


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Hub

    def log_message(self, *a):
        pass

    def _answer(self, body: bool) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        key = self.path.lstrip("/").replace("/resolve/main/", "/", 1)
        data = self.server.files.get(key)
        self.send_response(200 if data is not None else 404)
        self.send_header("X-Repo-Commit", REV)
        if data is None:
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_HEAD(self):
        self._answer(False)

    def do_GET(self):
        self._answer(True)


@pytest.fixture
def hub(tmp_path, monkeypatch) -> Iterator[Hub]:
    files = {f"google/magenta-realtime/{v1.v1_tar_path('v1_base')}": v1_tar(tmp_path / "src" / f"{BASE}.tar").read_bytes(),
             "google/magenta-realtime-2/checkpoints/mrt2_small.safetensors":
                 mrt2_checkpoint(tmp_path / "src" / "m.safetensors").read_bytes()}
    for n in v1.TESTDATA_FILES:
        files[f"google/magenta-realtime/{v1.TESTDATA_DIR}/{n}"] = f"stand-in {n}".encode()
    server = Hub(files)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    yield server
    server.shutdown()
    server.server_close()


def test_download_v1_archive_with_its_codec_then_found(tmp_path, hub, capsys):
    assert weights_cli("download", "--size", "v1_base", "--no-musiccoca", "--no-encoder", "--testdata") == 0
    cap = capsys.readouterr()
    assert "Magenta RT v1 weights" in cap.err and "mrt2_small is fetched too" in cap.err
    snap = tmp_path / "hf-home" / "hub" / "models--google--magenta-realtime" / "snapshots" / REV
    assert res.find_checkpoint("v1_base") == snap / v1.v1_tar_path("v1_base")
    assert v1.find_v1_codec() is not None and v1.find_v1_testdata() == snap / v1.TESTDATA_DIR
    assert f"{v1.v1_tar_path('v1_base')}\t{snap / v1.v1_tar_path('v1_base')}" in cap.out
    # everything is found now: a second run fetches nothing and needs no codec download
    hub.requests.clear()
    assert weights_cli("download", "--size", "v1_base", "--no-musiccoca", "--no-encoder", "--testdata") == 0
    assert hub.requests == [] and "fetched too" not in capsys.readouterr().err


def test_download_v1_to_a_folder_and_missing_file(tmp_path, hub):
    from mrtd.weights import download as dl

    got = dl.download([], musiccoca=False, encoder=False, v1_sizes=["v1_base"], to=tmp_path / "dl")
    assert got == {v1.v1_tar_path("v1_base"): tmp_path / "dl" / v1.v1_tar_path("v1_base")}
    assert res.find_checkpoint("v1_base", weights=tmp_path / "dl") == tmp_path / "dl" / v1.v1_tar_path("v1_base")
    with pytest.raises(UserError, match="llm_large_x3047_c1860k.tar is not in google/magenta-realtime at"):
        dl.download([], musiccoca=False, encoder=False, v1_sizes=["v1_large"])
