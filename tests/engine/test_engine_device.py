"""The engine's frame is a FrameStep: on CPU float32 it equals the engine's previous eager
formula bit for bit (controls, a reset, a silence prefill, banks); ``--device`` /
``--dtype`` / ``--graph`` reach the model; a CUDA request without CUDA is a clear error;
CUDA (bfloat16, CUDA graph) is checked only where a GPU is present."""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
import torch

from mrtd.cli import main
from mrtd.engine.build import load_engine, resolve_device
from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.engine.generator import Block, FrameControls
from mrtd.engine.mrt2 import CODEC_WARMUP, OUTPUT_GAIN, MRT2Generator
from mrtd.engine.render import render
from mrtd.errors import UserError
from mrtd.model.mrt2.rvq import codes_to_ids, ids_to_codes
from mrtd.model.mrt2.sampler import gumbel_noise

FIX = Path(__file__).parents[1] / "fixtures"
STYLE = list(range(100, 112))
CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU (none here)")


class EagerMRT2(MRT2Generator):
    """MRT2 as the engine ran it before FrameStep, through the generator interface: per
    frame ``Depthformer.step`` then the codec's ``step`` on its own state, noise from its
    own CPU generator; prefill, reset and banks on that state."""

    def __init__(self, model, decoder, seed: int):
        super().__init__(model, decoder, seed=seed)
        self.state = model.new_state(1, "cpu")
        self.dec_state = decoder.init_state(1)
        self.noise = torch.Generator().manual_seed(seed)
        self._temp = torch.zeros(1)
        self._topk = torch.zeros(1, dtype=torch.long)

    def step(self, controls: FrameControls) -> Block:
        self._temp.fill_(controls.temperature)
        self._topk.fill_(controls.top_k)
        cond = torch.from_numpy(controls.cond)[None]
        out = self.model.step(self.state, cond, self._temp, self._topk, gumbel_noise([self.noise]))
        audio, valid = self.decoder.step(ids_to_codes(out.tokens), self.dec_state)
        wave = audio.float().numpy() * OUTPUT_GAIN
        return Block(out.tokens.clone(), wave, np.array([bool(valid)]), lag=1)

    def snapshot(self):
        codec = [t.clone() for t in self.dec_state.tensors()] + [torch.tensor([self.dec_state.steps])]
        return self.state.clone(), codec

    def restore(self, snap, seed: int) -> None:
        self.state.copy_(snap[0])
        for dst, src in zip(self.dec_state.tensors(), snap[1][:-1]):
            dst.copy_(src)
        self.dec_state.steps = int(snap[1][-1][0])
        self.noise.manual_seed(seed)

    def prefill(self, codes, cond) -> None:
        n = codes.shape[0]
        ids = codes_to_ids(codes.long())[None]
        self.state.reset()
        self.state.prev.copy_(ids[:, 0])
        for i in range(1, n):
            self.model.step(self.state, torch.from_numpy(cond)[None], self._temp, self._topk, None, forced=ids[:, i])
        self.dec_state.reset()
        for i in range(max(0, n - CODEC_WARMUP), n):
            self.decoder.step(ids_to_codes(ids[:, i]), self.dec_state)

    def bank_tensors(self):
        t = {f"model.{f.name}": getattr(self.state, f.name) for f in fields(self.state)}
        t.update({f"codec.{i}": x for i, x in enumerate(self.snapshot()[1])})
        return {k: v.detach().clone().contiguous() for k, v in t.items()}

    def from_bank(self, tensors):
        state = self.state.clone()
        for f in fields(state):
            getattr(state, f.name).copy_(tensors[f"model.{f.name}"])
        return state, [tensors[f"codec.{i}"] for i in range(len(self.dec_state.tensors()) + 1)]


# frame-stamped controls: sampling, prompt, notes, rotation, resets (to the start and to a
# prefilled target whose codec is warm), a silence prefill, a bank saved and loaded
EVENTS = [
    (3, "/mrtd/temperature", (0.7,)), (5, "/mrtd/prompt/1/tokens", tuple(STYLE)), (8, "/mrtd/topk", (5,)),
    (10, "/mrtd/note/on", (60,)), (13, "/mrtd/seed/rotation", (3,)), (15, "/mrtd/reset", ()),
    (20, "/mrtd/prefill/silence", (0.5,)), (24, "/mrtd/temperature", (1.1,)), (27, "/mrtd/reset", ()),
    (30, "/mrtd/bank/save", (2,)), (33, "/mrtd/drums", ("on",)), (36, "/mrtd/bank/load", (2,)),
    (40, "/mrtd/responsive", (True,)), (41, "/mrtd/topk", (1000,)),
]


def take(e: Engine, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Tokens of every frame and the rendered output (wet L/R) through ``render``."""
    for frame, address, args in EVENTS:
        e.post(address, *args, frame=frame)
    toks: list[np.ndarray] = []
    step = e.step_frame
    e.step_frame = lambda: toks.append(step().numpy().copy()) or torch.from_numpy(toks[-1])  # type: ignore
    audio = render(e, seconds)
    return np.stack(toks), audio


@pytest.mark.parametrize("which", ["demo", "tiny"])
def test_engine_on_framestep_equals_the_eager_formula(which, tmp_path):
    if which == "demo":
        model, dec = build_random_demo()
    else:  # through load_engine: the checkpoint's weight layouts as live and render get them
        e = load_engine(str(FIX / "mrt2_tiny.safetensors"), str(FIX / "mrt2_tiny.manifest.json"), False, seed=0)
        model, dec = e.model, e.decoder
    new = Engine(model, dec, seed=5, bank_dir=tmp_path / "a", strict=True)
    old = Engine(generator=EagerMRT2(model, dec, 5), seed=5, bank_dir=tmp_path / "b", strict=True)
    tok_new, audio_new = take(new, 1.8)
    tok_old, audio_old = take(old, 1.8)
    assert new.resets == old.resets == 3 and new.frame == old.frame >= 45
    assert np.array_equal(tok_new, tok_old)
    assert np.array_equal(audio_new, audio_old)  # bit-identical, reset/prefill/bank included
    assert np.abs(audio_new).max() > 0
    fs = new.generator.fs
    assert fs.state.pos.item() == old.generator.state.pos.item()
    assert int(fs.codec_steps()[0]) == old.generator.dec_state.steps
    # returned tokens are the engine's own copies, not the FrameStep's static buffer
    a, b = new.step_frame(), new.step_frame()
    assert a.data_ptr() != b.data_ptr() and a.data_ptr() != fs.tokens.data_ptr()


def test_load_engine_cpu_float32_is_the_plain_demo():
    """The serve tests compare a live recording with ``Engine(*build_random_demo())``: each
    demo through load_engine must be exactly its builder's model on CPU float32."""
    from mrtd.engine.demo import build_demo

    for kind, build in (("random", build_random_demo), (True, build_demo)):
        e = load_engine(None, None, kind, seed=3)
        assert e.device == torch.device("cpu") and e.model.dtype == torch.float32
        assert e.describe() == "cpu float32" and not e.graphed and e.capture() is False
        ref = Engine(*build(), seed=3)
        for x in (e, ref):
            x.post("/mrtd/prompt/1/tokens", *STYLE, frame=4)
            x.post("/mrtd/note/on", 60, frame=2)
        assert np.array_equal(render(e, 0.6), render(ref, 0.6)), kind
    assert e.encoder is not None  # the trained demo brings its SpectroStream encoder


def test_device_and_dtype_options():
    assert resolve_device("cpu", "auto") == (torch.device("cpu"), torch.float32)
    assert resolve_device("cpu", "bfloat16") == (torch.device("cpu"), torch.bfloat16)
    for bad in ("tpu", "cuda:x", "cpu:3", ""):
        if bad == "":
            assert resolve_device(bad)[0] == torch.device("cpu")  # empty: the default
            continue
        with pytest.raises(UserError, match="--device must be cpu, cuda or cuda:N"):
            resolve_device(bad)
    with pytest.raises(UserError, match="--dtype"):
        resolve_device("cpu", "float16")
    e = load_engine(None, None, True, seed=0, dtype="bfloat16")  # bfloat16 on the CPU: allowed
    assert e.model.dtype == torch.bfloat16 and e.decoder.in_first.weight.dtype == torch.float32
    assert e.describe() == "cpu bfloat16, codec float32"
    assert np.isfinite(render(e, 0.2)).all()


@pytest.mark.skipif(CUDA, reason="checks the error on a machine without CUDA")
@pytest.mark.parametrize("command", ["render", "serve"])
def test_cuda_without_cuda_is_a_clear_error(command, tmp_path, capsys):
    argv = [command, "--demo", "--device", "cuda"]
    if command == "render":
        argv += ["--seconds", "0.2", "--out", str(tmp_path / "o.wav"), "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mrtd: error: CUDA is not available: ")
    assert ("built without CUDA" in err[0] or "no GPU found" in err[0]) and err[0].endswith("use --device cpu")
    assert not (tmp_path / "o.wav").exists()


def test_capture_failure_falls_back_to_eager(caplog, monkeypatch):
    e = Engine(*build_random_demo(), seed=1)
    ref = Engine(*build_random_demo(), seed=1)

    def fail(*a, **kw):
        raise RuntimeError("operation not permitted when stream is capturing")

    monkeypatch.setattr(e.generator.fs, "capture", fail)
    monkeypatch.setattr(e.generator.fs, "on_cuda", True)
    with caplog.at_level(logging.WARNING, logger="mrtd.engine"):
        assert e.capture() is False
    monkeypatch.setattr(e.generator.fs, "on_cuda", False)
    assert "CUDA graph capture failed" in caplog.text and "not permitted" in e.graph_error
    assert not e.graphed
    assert np.array_equal(render(e, 0.3), render(ref, 0.3))


# ---- CUDA (a GPU is lent to some runs only) ---------------------------------------------------

def cuda_take(banks: Path, graph: bool, seconds: float = 2.0):
    e = load_engine(None, None, True, seed=4, device="cuda", graph=graph, bank_dir=banks, strict=True)
    return e, *take(e, seconds)


@needs_cuda
def test_cuda_bfloat16_graph_renders_and_replays_deterministically(tmp_path):
    e, tok, audio = cuda_take(tmp_path, True)
    assert e.graphed and e.model.dtype == torch.bfloat16 and e.device.type == "cuda"
    assert "bfloat16" in e.describe() and e.describe().endswith("CUDA graph")
    assert audio.shape == (96000, 2) and np.isfinite(audio).all() and np.abs(audio).max() > 0
    assert e.resets == 3 and e.generator.fs.state.pos.device.type == "cuda"
    again, tok2, audio2 = cuda_take(tmp_path, True)
    assert np.array_equal(tok, tok2) and np.array_equal(audio, audio2)  # a re-render replays exactly


@needs_cuda
def test_cuda_graph_gives_the_eager_tokens(tmp_path):
    g, tok_g, audio_g = cuda_take(tmp_path, True)
    eager, tok_e, audio_e = cuda_take(tmp_path, False)
    assert g.graphed and not eager.graphed and eager.describe().endswith(", eager")
    assert np.array_equal(tok_g, tok_e)
    assert np.abs(audio_g - audio_e).max() <= 1e-5
