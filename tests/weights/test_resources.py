"""mrtd.weights.find: finding, checking and downloading the official MRT2 files.

Every tree here is built from real, valid files (a safetensors checkpoint written by
the safetensors library, TFLite flatbuffers, a trained SentencePiece model), damaged
on purpose where a test says so. The Hugging Face cache is laid out exactly as
huggingface_hub lays it out and is read through huggingface_hub's own API; downloads
run against a local HTTP server that speaks the part of the Hub protocol
``hf_hub_download`` uses (HEAD/GET ``/{repo}/resolve/{revision}/{file}``).
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mrtd.cli.weights import add_weights
from mrtd.errors import UserError
from mrtd.weights import check as file_checks
from mrtd.weights import download as dl
from mrtd.weights import find as res

FIXTURE_MC = Path(__file__).parents[1] / "fixtures" / "musiccoca"
REV = "0123456789abcdef0123456789abcdef01234567"
EMB_KEY = "params/depthformer/decoder/decoder_embedding/embedding/embedding"


# --------------------------------------------------------------------------- assets


def tiny_tflite() -> bytes:
    """A valid one-op (fully connected) TFLite model, built with the schema's object API."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    bufs = [s.BufferT(), s.BufferT()]
    bufs[1].data = np.frombuffer(np.arange(6, dtype=np.float32).tobytes(), np.uint8)

    def tensor(name, shape, b=0):
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name, list(shape), s.TensorType.FLOAT32, b
        return t

    oc = s.OperatorCodeT()
    oc.builtinCode = oc.deprecatedBuiltinCode = s.BuiltinOperator.FULLY_CONNECTED
    oc.version = 1
    op = s.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0, 1, -1], [2]
    op.builtinOptionsType = s.BuiltinOptions.FullyConnectedOptions
    op.builtinOptions = s.FullyConnectedOptionsT()
    sg = s.SubGraphT()
    sg.tensors = [tensor("x", [1, 3]), tensor("w", [2, 3], 1), tensor("y", [1, 2])]
    sg.inputs, sg.outputs, sg.operators, sg.name = [0], [2], [op], "main"
    m = s.ModelT()
    m.version, m.operatorCodes, m.subgraphs, m.buffers, m.description = 3, [oc], [sg], bufs, "test"
    b = flatbuffers.Builder(0)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def tiny_spm(tmp: Path) -> bytes:
    import sentencepiece as spm

    text = tmp / "corpus.txt"
    text.write_text("\n".join(["disco funk with a slap bass", "a jazz piano trio", "heavy metal guitar riff",
                               "ambient electronic pads", "solo cello in a large hall"] * 20))
    spm.SentencePieceTrainer.train(input=str(text), model_prefix=str(tmp / "spm"), vocab_size=40,
                                   model_type="unigram", minloglevel=2)
    return (tmp / "spm.model").read_bytes()


def safetensors_bytes(tmp: Path, tensors: dict[str, np.ndarray]) -> bytes:
    from safetensors.numpy import save_file

    p = tmp / "t.safetensors"
    save_file(tensors, str(p))
    return p.read_bytes()


@pytest.fixture(scope="session")
def assets(tmp_path_factory) -> dict[str, bytes]:
    """Bytes of one valid file per name mrtd looks for. TFLite and spm come from the
    MusicCoCa stand-in fixtures when present, else are built here."""
    tmp = tmp_path_factory.mktemp("assets")
    out = {
        "ckpt": safetensors_bytes(tmp, {"params/a": np.arange(12, dtype=np.float32).reshape(3, 4),
                                        "params/b": np.ones(5, np.int32)}),
        "encoder.safetensors": safetensors_bytes(tmp, {"params/encoder/x/kernel": np.zeros((2, 2), np.float32)}),
    }
    built = tiny_tflite()
    for n in res.MUSICCOCA_FILES:
        f = FIXTURE_MC / n
        out[n] = f.read_bytes() if f.is_file() else (tiny_spm(tmp) if n == "spm.model" else built)
    out["tiny.tflite"] = built
    return out


def write(p: Path, data: bytes) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def make_tree(root: Path, assets, *, sizes=("mrt2_small",), musiccoca=res.MUSICCOCA_FILES,
              encoder=True, layout="official") -> Path:
    """A folder of the official layout, or flat ('flat': all files in root;
    'flat-sub': root/musiccoca/, root/spectrostream/)."""
    ck = {"official": "checkpoints/", "flat": "", "flat-sub": ""}[layout]
    mc = {"official": res.MUSICCOCA_DIR + "/", "flat": "", "flat-sub": "musiccoca/"}[layout]
    en = {"official": res.ENCODER_PATH, "flat": res.ENCODER_FILE, "flat-sub": "spectrostream/" + res.ENCODER_FILE}
    for s in sizes:
        write(root / f"{ck}{s}.safetensors", assets["ckpt"])
    for n in musiccoca:
        write(root / f"{mc}{n}", assets[n])
    if encoder:
        write(root / en[layout], assets["encoder.safetensors"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def make_hf_cache(cache: Path, files: dict[str, bytes], rev: str = REV, *, blob_names=None) -> Path:
    """The Hub cache layout huggingface_hub writes: blobs named by sha256, snapshot
    entries as relative symlinks, refs/main holding the commit. Returns the snapshot."""
    repo = cache / "models--google--magenta-realtime-2"
    snap = repo / "snapshots" / rev
    for rel, data in files.items():
        sha = (blob_names or {}).get(rel) or hashlib.sha256(data).hexdigest()
        write(repo / "blobs" / sha, data)
        link = snap / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(repo / "blobs" / sha, link.parent))
    write(repo / "refs" / "main", rev.encode())
    return snap


def all_files(assets, sizes=("mrt2_small",)) -> dict[str, bytes]:
    files = {res.checkpoint_path(s): assets["ckpt"] for s in sizes}
    files.update({f"{res.MUSICCOCA_DIR}/{n}": assets[n] for n in res.MUSICCOCA_FILES})
    files[res.ENCODER_PATH] = assets["encoder.safetensors"]
    return files


@pytest.fixture(autouse=True)
def env(tmp_path, monkeypatch) -> Path:
    """Every root under tmp_path: HF_HOME, MAGENTA_HOME; no MRTD_WEIGHTS, no token."""
    for k in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "MRTD_WEIGHTS", "HF_TOKEN", "HF_ENDPOINT",
              "XDG_CACHE_HOME"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("MAGENTA_HOME", str(tmp_path / "magenta"))
    return tmp_path


def hf_cache(tmp_path: Path) -> Path:
    return tmp_path / "hf-home" / "hub"


# --------------------------------------------------------------------------- check_file


def test_valid_files_pass(tmp_path, assets):
    for name in ("ckpt", "encoder.safetensors", *res.MUSICCOCA_FILES, "tiny.tflite"):
        suffix = ".safetensors" if name == "ckpt" else ""
        p = write(tmp_path / (name + suffix), assets[name])
        assert file_checks.check_file(p) is None, name
        assert file_checks.check_file(p, verify=True) is None, name


def test_safetensors_damage_detected(tmp_path, assets):
    good = assets["ckpt"]
    n = int.from_bytes(good[:8], "little")
    p = tmp_path / "x.safetensors"
    for cut in (3, 8, 8 + n // 2, 8 + n, len(good) - 1):
        write(p, good[:cut])
        assert "truncat" in file_checks.check_file(p), cut
    write(p, good + b"\0" * 4)
    assert "after the last tensor" in file_checks.check_file(p)
    write(p, good[:8] + b"{not json" + good[8 + 9:])
    assert "not JSON" in file_checks.check_file(p)
    header = json.dumps({"a": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 1]}}).encode()
    write(p, len(header).to_bytes(8, "little") + header + b"\0")
    assert "unknown dtype" in file_checks.check_file(p)
    header = json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}).encode()
    write(p, len(header).to_bytes(8, "little") + header + b"\0" * 4)
    assert "shape needs 8" in file_checks.check_file(p)


def test_tflite_damage_detected(tmp_path, assets):
    p = tmp_path / "m.tflite"
    for name in ("tiny.tflite", "text_encoder.tflite"):
        good = assets[name]
        cuts = sorted(set(range(1, len(good), max(1, len(good) // 97))) | set(range(len(good) - 16, len(good))))
        for cut in cuts:
            write(p, good[:cut])
            assert file_checks.check_file(p) is not None, (name, cut)
    write(p, b"\x10\0\0\0TFL2" + assets["tiny.tflite"][8:])
    assert "TFL3" in file_checks.check_file(p)
    write(p, b"\xff\xff\xff\x7fTFL3" + b"\0" * 64)
    assert "corrupt" in file_checks.check_file(p)


def test_spm_damage_detected(tmp_path, assets):
    good = assets["spm.model"]
    p = tmp_path / "spm.model"
    for cut in (1, len(good) // 3, len(good) // 2, len(good) - 1):
        write(p, good[:cut])
        assert file_checks.check_file(p) is not None, cut
    write(p, b"this is not a sentencepiece model\n" * 10)
    assert "SentencePiece" in file_checks.check_file(p)


def test_empty_folder_missing_and_broken_link(tmp_path):
    assert "empty" in file_checks.check_file(write(tmp_path / "e.safetensors", b""))
    (tmp_path / "d.tflite").mkdir()
    assert "folder" in file_checks.check_file(tmp_path / "d.tflite")
    assert file_checks.check_file(tmp_path / "nope.tflite") == "does not exist"
    (tmp_path / "l.tflite").symlink_to(tmp_path / "gone")
    assert "broken" in file_checks.check_file(tmp_path / "l.tflite")
    if os.geteuid() != 0:  # root reads everything
        p = write(tmp_path / "r.tflite", b"x" * 16)
        p.chmod(0)
        assert "cannot read" in file_checks.check_file(p)


def test_sha256_checked_only_with_verify(tmp_path, assets):
    data = assets["ckpt"]
    snap = make_hf_cache(tmp_path / "c", {"a.safetensors": data, "b.safetensors": data},
                         blob_names={"b.safetensors": "f" * 64})
    assert file_checks.check_file(snap / "a.safetensors", verify=True) is None
    assert file_checks.check_file(snap / "b.safetensors") is None  # structurally whole
    assert "sha256 mismatch" in file_checks.check_file(snap / "b.safetensors", verify=True)


# --------------------------------------------------------------------------- discovery


def test_explicit_root_official_and_flat(tmp_path, assets):
    for layout in ("official", "flat", "flat-sub"):
        d = make_tree(tmp_path / layout, assets, layout=layout)
        ck = res.find_checkpoint("mrt2_small", weights=d)
        assert ck.parent in (d, d / "checkpoints") and ck.name == "mrt2_small.safetensors"
        mc = res.find_musiccoca(weights=d)
        assert mc == {"official": d / "resources" / "musiccoca", "flat": d, "flat-sub": d / "musiccoca"}[layout]
        assert res.find_encoder(weights=d).read_bytes() == assets["encoder.safetensors"]
    with pytest.raises(UserError, match="does not exist"):
        res.search_roots(tmp_path / "absent")


def test_mrtd_weights_two_dirs(tmp_path, assets, monkeypatch):
    a = make_tree(tmp_path / "a", assets, sizes=("mrt2_small",), musiccoca=(), encoder=False)
    b = make_tree(tmp_path / "b", assets, sizes=("mrt2_base", "mrt2_small"), layout="flat")
    monkeypatch.setenv("MRTD_WEIGHTS", f"{a}:{tmp_path / 'missing'}:{b}")
    assert res.find_checkpoint("mrt2_small") == a / "checkpoints" / "mrt2_small.safetensors"
    assert res.find_checkpoint("mrt2_base") == b / "mrt2_base.safetensors"
    assert res.find_musiccoca() == b
    inv = res.inventory()
    assert [r["source"] for r in inv["roots"]] == ["MRTD_WEIGHTS"] * 3 + ["hf-cache", "official"]
    assert inv["roots"][1]["exists"] is False
    assert inv["checkpoints"]["mrt2_base"]["source"] == "MRTD_WEIGHTS"


def test_hf_cache_through_hub_api(tmp_path, assets, monkeypatch):
    from huggingface_hub import try_to_load_from_cache

    snap = make_hf_cache(hf_cache(tmp_path), all_files(assets))
    ck = res.find_checkpoint("mrt2_small")
    assert ck == snap / "checkpoints" / "mrt2_small.safetensors"
    assert str(ck) == try_to_load_from_cache(res.HF_REPO, res.checkpoint_path("mrt2_small"),
                                             cache_dir=str(hf_cache(tmp_path)))
    assert res.find_musiccoca() == snap / "resources" / "musiccoca"
    assert res.find_encoder() == snap / "resources" / "spectrostream" / "encoder.safetensors"
    assert res.inventory()["checkpoints"]["mrt2_small"]["source"] == "hf-cache"
    # HF_HUB_CACHE wins over HF_HOME, read now (huggingface_hub's constant is import-time)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "other"))
    assert res.hf_cache_dir() == tmp_path / "other"
    with pytest.raises(UserError):
        res.find_checkpoint("mrt2_small")
    other = make_hf_cache(tmp_path / "other", all_files(assets))
    assert res.find_checkpoint("mrt2_small") == other / "checkpoints" / "mrt2_small.safetensors"


def test_hf_cache_without_refs_main(tmp_path, assets):
    snap = make_hf_cache(hf_cache(tmp_path), all_files(assets))
    (snap.parent.parent / "refs" / "main").unlink()
    assert res.find_checkpoint("mrt2_small") == snap / "checkpoints" / "mrt2_small.safetensors"


def test_official_root_via_magenta_home(tmp_path, assets):
    root = make_tree(tmp_path / "magenta" / "magenta-rt-v2", assets, sizes=("mrt2_base",))
    assert res.official_root() == root
    assert res.find_checkpoint("mrt2_base") == root / "checkpoints" / "mrt2_base.safetensors"
    assert res.find_musiccoca() == root / "resources" / "musiccoca"
    assert res.inventory()["checkpoints"]["mrt2_base"]["source"] == "official"


def test_priority_and_damaged_copies_skipped(tmp_path, assets, monkeypatch):
    explicit = make_tree(tmp_path / "explicit", assets)
    env_dir = make_tree(tmp_path / "env", assets, layout="flat")
    snap = make_hf_cache(hf_cache(tmp_path), all_files(assets))
    official = make_tree(tmp_path / "magenta" / "magenta-rt-v2", assets)
    monkeypatch.setenv("MRTD_WEIGHTS", str(env_dir))
    order = [(explicit / "checkpoints/mrt2_small.safetensors", "--weights"),
             (env_dir / "mrt2_small.safetensors", "MRTD_WEIGHTS"),
             (snap / "checkpoints/mrt2_small.safetensors", "hf-cache"),
             (official / "checkpoints/mrt2_small.safetensors", "official")]
    for i, (path, source) in enumerate(order):
        assert res.find_checkpoint("mrt2_small", weights=explicit) == path
        e = res.inventory(explicit)["checkpoints"]["mrt2_small"]
        assert (e["status"], e["source"], e["path"]) == ("found", source, str(path))
        # damage this copy: the next root wins, the damaged one is reported, never returned
        real = Path(os.path.realpath(path))
        real.write_bytes(assets["ckpt"][:-7])
    inv = res.inventory(explicit)
    assert inv["checkpoints"]["mrt2_small"]["status"] == "corrupt"
    assert "truncated" in inv["checkpoints"]["mrt2_small"]["problem"]
    assert len([p for p in inv["damaged"] if p.endswith("mrt2_small.safetensors")]) == 4
    with pytest.raises(UserError, match="damaged"):
        res.find_checkpoint("mrt2_small", weights=explicit)


def test_find_checkpoint_error_names_places_and_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MRTD_WEIGHTS", str(tmp_path / "w"))
    with pytest.raises(UserError) as e:
        res.find_checkpoint("mrt2_base")
    msg = str(e.value)
    assert "\n" not in msg
    for place in (tmp_path / "w" / "checkpoints" / "mrt2_base.safetensors", tmp_path / "w" / "mrt2_base.safetensors",
                  hf_cache(tmp_path) / "models--google--magenta-realtime-2",
                  tmp_path / "magenta" / "magenta-rt-v2" / "checkpoints" / "mrt2_base.safetensors"):
        assert str(place) in msg
    assert "mrtd weights download --size mrt2_base" in msg
    with pytest.raises(UserError, match="unknown model size"):
        res.find_checkpoint("mrt2_huge")


def test_checkpoint_of_the_other_size_rejected(tmp_path, assets):
    data = safetensors_bytes(tmp_path, {EMB_KEY: np.zeros((1, 3072), np.float32)})
    write(tmp_path / "w" / "mrt2_small.safetensors", data)
    write(tmp_path / "w" / "mrt2_base.safetensors", data)
    assert res.find_checkpoint("mrt2_base", weights=tmp_path / "w").name == "mrt2_base.safetensors"
    with pytest.raises(UserError, match="not mrt2_small: it is mrt2_base"):
        res.find_checkpoint("mrt2_small", weights=tmp_path / "w")


def test_musiccoca_sets(tmp_path, assets, monkeypatch):
    text_only = make_tree(tmp_path / "t", assets, sizes=(), musiccoca=res.MUSICCOCA_TEXT, encoder=False)
    assert res.find_musiccoca(weights=text_only) == text_only / res.MUSICCOCA_DIR
    inv = res.inventory(text_only)
    assert inv["ready"]["text_prompts"] and not inv["ready"]["audio_prompts"]
    assert "text prompts: ready" in inv["summary"]
    assert "audio prompts: missing audio_preprocessor.tflite, music_encoder.tflite" in inv["summary"]
    assert inv["musiccoca"]["files"]["mapper.tflite"]["optional"] is True
    # a damaged text-set file disqualifies the folder; a later complete one is used
    write(text_only / res.MUSICCOCA_DIR / "text_encoder.tflite", assets["text_encoder.tflite"][:100])
    assert res.find_musiccoca(weights=text_only) is None
    full = make_tree(tmp_path / "magenta" / "magenta-rt-v2", assets, sizes=(), layout="official")
    assert res.find_musiccoca(weights=text_only) == full / res.MUSICCOCA_DIR
    inv = res.inventory(text_only)
    assert inv["musiccoca"]["source"] == "official" and inv["ready"]["audio_prompts"]
    assert str(text_only / res.MUSICCOCA_DIR / "text_encoder.tflite") in inv["damaged"]
    # text set split across folders is not a folder mrtd can use
    shutil.rmtree(full / res.MUSICCOCA_DIR)
    write(tmp_path / "u" / "spm.model", assets["spm.model"])
    monkeypatch.setenv("MRTD_WEIGHTS", str(text_only))
    inv = res.inventory(tmp_path / "u")
    assert inv["musiccoca"]["dir"] is None
    assert inv["musiccoca"]["files"]["spm.model"]["status"] == "found"
    assert inv["musiccoca"]["files"]["text_encoder.tflite"]["status"] == "corrupt"
    assert inv["musiccoca"]["files"]["spm.model"]["path"] == str(tmp_path / "u" / "spm.model")
    assert inv["musiccoca"]["files"]["pretrained_vector_quantizer.tflite"]["status"] == "found"
    assert "text prompts: damaged text_encoder.tflite; audio prompts: missing audio_preprocessor.tflite, " \
        "music_encoder.tflite, damaged text_encoder.tflite" in inv["summary"]


# --------------------------------------------------------------------------- CLI


def weights_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="mrtd")
    add_weights(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["weights", *argv])
    return args.run(args)


def test_list_json(tmp_path, assets, capsys):
    d = make_tree(tmp_path / "w", assets, sizes=("mrt2_small",), musiccoca=res.MUSICCOCA_TEXT)
    assert weights_cli("list", "--weights", str(d), "--json") == 0
    inv = json.loads(capsys.readouterr().out)
    assert inv["checkpoints"]["mrt2_small"] | {"looked": None} == {
        "name": "mrt2_small.safetensors", "status": "found", "source": "--weights", "optional": False,
        "path": str(d / "checkpoints" / "mrt2_small.safetensors"), "problem": None, "looked": None}
    assert inv["checkpoints"]["mrt2_base"]["status"] == "missing"
    assert len(inv["checkpoints"]["mrt2_base"]["looked"]) == 2 + 1 + 2  # --weights and official: 2 layouts
    assert inv["ready"] == {"mrt2_small": True, "mrt2_base": False, "text_prompts": True,
                            "audio_prompts": False, "mapper": False, "audio_prefill": True}
    assert inv["summary"].startswith("mrt2_small: ready; mrt2_base: missing mrt2_base.safetensors; text prompts: ready")
    assert inv["musiccoca"]["dir"] == str(d / res.MUSICCOCA_DIR)


def test_list_table_and_verify_exit_status(tmp_path, assets, capsys):
    snap = make_hf_cache(hf_cache(tmp_path), all_files(assets), blob_names={res.ENCODER_PATH: "e" * 64})
    assert weights_cli("list") == 0
    out = capsys.readouterr().out
    assert "mrt2_small checkpoint" in out and "hf-cache" in out
    assert "audio prefill: ready" in out
    assert weights_cli("list", "--verify", "--json") == 1
    inv = json.loads(capsys.readouterr().out)
    assert "sha256 mismatch" in inv["damaged"][str(snap / res.ENCODER_PATH)]
    assert inv["encoder"]["status"] == "corrupt" and not inv["ready"]["audio_prefill"]
    assert weights_cli() == 2


# --------------------------------------------------------------------------- download


class FakeHub(http.server.ThreadingHTTPServer):
    """Answers ``hf_hub_download``: HEAD/GET /{repo}/resolve/{revision}/{path} with the
    headers the Hub sends (X-Repo-Commit, ETag = sha256, Content-Length)."""

    daemon_threads = True

    def __init__(self, files: dict[str, bytes]):
        super().__init__(("127.0.0.1", 0), _HubHandler)
        self.files = files
        self.etags: dict[str, str] = {}  # override: serve damaged bytes under the real sha
        self.gated = False
        self.requests: list[str] = []


class _HubHandler(http.server.BaseHTTPRequestHandler):
    server: FakeHub

    def log_message(self, *a):
        pass

    def _answer(self, body: bool) -> None:
        self.server.requests.append(f"{self.command} {self.path}")
        prefix = f"/{res.HF_REPO}/resolve/main/"
        rel = self.path[len(prefix):] if self.path.startswith(prefix) else None
        if self.server.gated:
            self.send_response(401)
            self.send_header("X-Error-Code", "GatedRepo")
            self.send_header("X-Error-Message", "Access to model google/magenta-realtime-2 is restricted.")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if rel not in self.server.files:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("X-Repo-Commit", REV)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = self.server.files[rel]
        self.send_response(200)
        self.send_header("X-Repo-Commit", REV)
        self.send_header("ETag", '"%s"' % self.server.etags.get(rel, hashlib.sha256(data).hexdigest()))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_HEAD(self):
        self._answer(False)

    def do_GET(self):
        self._answer(True)


@pytest.fixture
def hub(assets, monkeypatch) -> Iterator[FakeHub]:
    files = all_files(assets)
    del files[f"{res.MUSICCOCA_DIR}/mapper.tflite"]  # optional: the download skips it
    server = FakeHub(files)
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    yield server
    server.shutdown()
    server.server_close()


def test_download_into_hf_cache_then_found(tmp_path, hub, assets, capsys):
    assert weights_cli("download", "--size", "mrt2_small") == 0
    cap = capsys.readouterr()
    assert "CC-BY-4.0" in cap.err and "mapper.tflite is not published" in cap.err
    snap = hf_cache(tmp_path) / "models--google--magenta-realtime-2" / "snapshots" / REV
    assert res.find_checkpoint("mrt2_small") == snap / "checkpoints" / "mrt2_small.safetensors"
    assert os.path.realpath(snap / res.ENCODER_PATH).endswith(hashlib.sha256(assets["encoder.safetensors"]).hexdigest())
    assert res.find_musiccoca() == snap / res.MUSICCOCA_DIR
    assert res.inventory(verify=True)["damaged"] == {}
    assert f"{res.checkpoint_path('mrt2_small')}\t{snap / res.checkpoint_path('mrt2_small')}" in cap.out
    # a second run finds everything and fetches nothing
    hub.requests.clear()
    assert weights_cli("download") == 0
    assert [r for r in hub.requests if not r.endswith("mapper.tflite")] == []


def test_download_completes_musiccoca_as_one_folder(tmp_path, hub, assets, capsys):
    official = make_tree(tmp_path / "magenta" / "magenta-rt-v2", assets, sizes=("mrt2_small",),
                         musiccoca=res.MUSICCOCA_TEXT, encoder=True)
    got = dl.download(["mrt2_small"])
    assert got[res.checkpoint_path("mrt2_small")] == official / "checkpoints" / "mrt2_small.safetensors"
    assert got[res.ENCODER_PATH] == official / res.ENCODER_PATH
    snap = hf_cache(tmp_path) / "models--google--magenta-realtime-2" / "snapshots" / REV
    assert res.find_musiccoca() == snap / res.MUSICCOCA_DIR  # the whole set, not the audio files alone
    assert res.inventory()["ready"]["audio_prompts"]
    assert [r.split()[1] for r in hub.requests if r.startswith("GET")] == [
        f"/{res.HF_REPO}/resolve/main/{res.MUSICCOCA_DIR}/{n}" for n in res.MUSICCOCA_TEXT + res.MUSICCOCA_AUDIO]
    with pytest.raises(UserError, match="nothing to download"):
        weights_cli("download", "--size", "none", "--no-musiccoca", "--no-encoder")


def test_download_to_dir_official_layout(tmp_path, hub, assets):
    dest = tmp_path / "dl"
    got = dl.download([], musiccoca=True, encoder=False, to=dest)
    assert set(got) == {f"{res.MUSICCOCA_DIR}/{n}" for n in res.MUSICCOCA_TEXT + res.MUSICCOCA_AUDIO}
    assert (dest / res.MUSICCOCA_DIR / "spm.model").read_bytes() == assets["spm.model"]
    assert res.find_musiccoca(weights=dest) == dest / res.MUSICCOCA_DIR
    # --local-dir files carry their etag: a changed file fails --verify
    p = dest / res.MUSICCOCA_DIR / "music_encoder.tflite"
    assert file_checks.expected_sha256(p) == hashlib.sha256(assets["music_encoder.tflite"]).hexdigest()
    assert file_checks.check_file(p, verify=True) is None


def test_download_errors(tmp_path, hub, assets, monkeypatch):
    rel = res.checkpoint_path("mrt2_small")
    hub.etags[rel] = "0" * 64  # the bytes do not match the sha the Hub announces
    with pytest.raises(UserError, match=r"mrt2_small.safetensors downloaded from .* is damaged twice \(sha256 mism"):
        dl.download(["mrt2_small"], musiccoca=False, encoder=False)
    assert sum(r.startswith("GET") and r.endswith(rel) for r in hub.requests) == 2  # fetched again once
    assert not any(hf_cache(tmp_path).rglob("mrt2_small.safetensors"))  # the damaged copy is gone
    assert not any(hf_cache(tmp_path).rglob("0" * 64))
    del hub.files[rel]
    with pytest.raises(UserError, match="mrt2_small.safetensors is not in google/magenta-realtime-2"):
        dl.download(["mrt2_small"], musiccoca=False, encoder=False)
    hub.gated = True
    with pytest.raises(UserError, match="gated.*hf auth login.*HF_TOKEN"):
        dl.download(["mrt2_base"], musiccoca=False, encoder=False)
    hub.gated = False
    # unreachable: huggingface_hub retries a refused connection for ~25 s, so use its
    # offline switch (read at import, hence set on its constants module), same error path
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(UserError, match="could not reach .*HF_HUB_OFFLINE"):
        dl.download([], musiccoca=False, encoder=True, to=tmp_path / "x")
