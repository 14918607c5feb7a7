"""The PyTorch v1 model against the official JAX v1 code (tiny random weights, fixtures/v1).

float32: encoder outputs <= 1e-5; teacher-forced logits <= 1e-4 (positions 0..31 over the
full vocabulary, every position through top-5 / logsumexp / target logit, per row and
CFG-combined); decode-path logits; greedy tokens 800/800 in every case, EOS case included.
bfloat16: the official says exact parity is not meaningful there (its own decode and
teacher-forced paths disagree), so figures are printed and loosely bounded, and greedy
tokens must agree up to the first position whose official top-1/top-2 margin is small.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from mrtd.model.v1.checkpoint import load_v1
from mrtd.model.v1.config import V1Config
from mrtd.model.v1.decode import generate

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "v1"
CASES = ("partial", "full", "empty_nostyle")
W = 5.0  # the official guidance weight of every reference
TOL = 1e-4
CFG_TOL = 1e-4 * (1 + 2 * W)  # a CFG logit sums 1+2w raw-logit errors at worst


def _ref(name: str) -> dict[str, np.ndarray]:
    with np.load(FIX / name) as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def ref32() -> dict[str, np.ndarray]:
    return _ref("ref_fp32.npz")


@pytest.fixture(scope="module")
def ref16() -> dict[str, np.ndarray]:
    return _ref("ref_bf16.npz")


@pytest.fixture(scope="module")
def m32():
    return load_v1(FIX / "checkpoint", V1Config.from_json(FIX / "config.json"))


@pytest.fixture(scope="module")
def m16():
    return load_v1(FIX / "checkpoint", dtype=torch.bfloat16)


def enc_of(ref, case: str) -> torch.Tensor:
    return torch.from_numpy(ref[f"{case}/encoder_input_tokens"]).long()


def shift_right(tokens: np.ndarray) -> torch.Tensor:
    t = torch.from_numpy(np.asarray(tokens)).long()
    return torch.cat([torch.zeros_like(t[..., :1]), t[..., :-1]], -1)


def guided(logits: torch.Tensor) -> torch.Tensor:
    """[2,...,V] -> the official CFG combination (1+w)*row0 - w*row1."""
    return (1 + W) * logits[0] - W * logits[1]


def check_stats(logits: torch.Tensor, targets: np.ndarray, ref, prefix: str, tol: float,
                upto: int | None = None) -> dict[str, float]:
    """Compare [...,800,V] logits with the official compact statistics under ``prefix``
    (``{prefix}_top5_ids`` etc.) at positions < ``upto``; returns the max errors."""
    n = upto or logits.shape[-2]
    l = logits[..., :n, :]
    top = torch.topk(l, 5, dim=-1)
    ids = ref[f"{prefix}_top5_ids"][..., :n, :]
    vals = ref[f"{prefix}_top5_vals"][..., :n, :]
    tgt = torch.from_numpy(np.broadcast_to(targets[:n], l.shape[:-1]).copy()).long()
    err = {
        "top5_vals": float(np.abs(top.values.numpy() - vals).max()),
        "at_ref_top5": float(np.abs(torch.gather(l, -1, torch.from_numpy(ids).long()).numpy() - vals).max()),
        "logsumexp": float(np.abs(torch.logsumexp(l, -1).numpy() - ref[f"{prefix}_logsumexp"][..., :n]).max()),
        "target": float(np.abs(torch.gather(l, -1, tgt[..., None])[..., 0].numpy()
                               - ref[f"{prefix}_target_logit"][..., :n]).max()),
    }
    assert max(err.values()) <= tol, (prefix, err)
    # Ids may differ only where the official values are tied within the tolerance (the
    # values themselves were checked above): a neighbour rank within 2*tol, or rank 5.
    pos = np.argwhere(top.indices.numpy() != ids)
    for *lead, r in pos:
        v = vals[tuple(lead)]
        gap = min(abs(v[r] - v[r - 1]) if r > 0 else np.inf, abs(v[r] - v[r + 1]) if r < 4 else 0.0)
        assert gap <= 2 * tol, (prefix, tuple(lead), r, ids[tuple(lead)], v)
    return err


# ------------------------------------------------------------------------------ float32


@pytest.mark.parametrize("case", CASES)
def test_encoder_outputs_fp32(m32, ref32, case):
    with torch.no_grad():
        out = m32.encode(enc_of(ref32, case))
    assert out.dtype == torch.float32 and out.shape == (2, 1006, 64)
    err = float(np.abs(out.numpy() - ref32[f"{case}/encoder_outputs"]).max())
    print(f"fp32 {case} encoder max abs err {err:.2e}")
    assert err <= 1e-5


@pytest.mark.parametrize("case", CASES)
def test_teacher_forced_logits_fp32(m32, ref32, case):
    targets = ref32["decoder_target_tokens"]
    dec = torch.from_numpy(ref32["decoder_input_tokens"]).long().expand(2, -1)
    assert torch.equal(dec[0], shift_right(targets))
    with torch.no_grad():
        logits = m32.logits(enc_of(ref32, case), dec)
    assert logits.dtype == torch.float32 and logits.shape == (2, 800, 29824)
    if f"{case}/tf_logits_first32" in ref32:
        err = float(np.abs(logits[:, :32].numpy() - ref32[f"{case}/tf_logits_first32"]).max())
        print(f"fp32 {case} teacher-forced logits[0:32] full vocab max abs err {err:.2e}")
        assert err <= TOL
    rows = check_stats(logits, targets, ref32, f"{case}/tf", TOL)
    cfg = check_stats(guided(logits), targets, ref32, f"{case}/tf_cfg", CFG_TOL)
    print(f"fp32 {case} all 800 positions: rows {rows}, cfg {cfg}")
    np.testing.assert_array_equal(logits.argmax(-1).numpy(), ref32[f"{case}/tf_argmax"])
    np.testing.assert_array_equal(guided(logits).argmax(-1).numpy(), ref32[f"{case}/tf_cfg_argmax"])


@pytest.mark.parametrize("case", CASES + ("eos",))
def test_teacher_forced_on_official_greedy_sequence_fp32(m32, eos_model, ref32, case):
    """CFG statistics on the official greedy output itself (EOS case: up to its EOS)."""
    model = eos_model if case == "eos" else m32
    greedy = ref32[f"{case}/greedy_tokens"][0]
    enc = enc_of(ref32, "partial" if case == "eos" else case)
    with torch.no_grad():
        cfg = guided(model.logits(enc, shift_right(greedy).expand(2, -1)))
    upto = 7 if case == "eos" else None  # the official EOS is at position 6
    err = check_stats(cfg, greedy, ref32, f"{case}/greedy_tf_cfg", CFG_TOL, upto)
    print(f"fp32 {case} CFG logits on the greedy sequence: {err}")
    n = upto or 800
    np.testing.assert_array_equal(cfg.argmax(-1).numpy()[:n], ref32[f"{case}/greedy_tf_cfg_argmax"][:n])


def test_decode_path_logits_fp32(m32, ref32):
    """Per-step CFG logits of the cached decode path, positions 0..31: equal to our teacher-
    forced path over the full vocab, and to the official statistics on the greedy sequence."""
    greedy = ref32["partial/greedy_tokens"][0]
    fed = shift_right(greedy)
    enc = enc_of(ref32, "partial")
    with torch.no_grad():
        cache = m32.start(enc)
        steps = [m32.step(cache, fed[s].expand(2), s) for s in range(32)]
        tf = guided(m32.logits(enc, fed.expand(2, -1))[:, :32])
    cfg = guided(torch.stack(steps, 1))
    err = float((cfg - tf).abs().max())
    print(f"fp32 decode-path vs teacher-forced CFG logits[0:32] full vocab max abs err {err:.2e}")
    assert err <= CFG_TOL
    ids = torch.from_numpy(ref32["partial/greedy_tf_cfg_top5_ids"][:32]).long()
    top5 = float(np.abs(cfg.gather(-1, ids).numpy() - ref32["partial/greedy_tf_cfg_top5_vals"][:32]).max())
    lse = float(np.abs(torch.logsumexp(cfg, -1).numpy() - ref32["partial/greedy_tf_cfg_logsumexp"][:32]).max())
    print(f"fp32 decode-path CFG top-5 err {top5:.2e}, logsumexp err {lse:.2e}")
    assert top5 <= CFG_TOL and lse <= CFG_TOL
    np.testing.assert_array_equal(cfg.argmax(-1).numpy(), greedy[:32])


@pytest.fixture(scope="module")
def eos_model(m32):
    """The official EOS case: the fixture weights with logits_dense.kernel[:, 1] *= 3."""
    m = copy.deepcopy(m32)
    with torch.no_grad():
        m.logits_dense[1] *= 3  # torch layout [V, D]: row 1 is kernel column 1
    return m


@pytest.mark.parametrize("case", CASES + ("eos",))
def test_greedy_tokens_fp32(m32, eos_model, ref32, case):
    model = eos_model if case == "eos" else m32
    enc = enc_of(ref32, "partial" if case == "eos" else case)
    out = generate(model, enc, temperature=0.0, key=None)
    ref = ref32[f"{case}/greedy_tokens"]
    assert out.dtype == np.int32 and out.shape == (2, 800)
    print(f"fp32 {case} greedy tokens {int((out == ref).all(0).sum())}/800")
    np.testing.assert_array_equal(out, ref)
    if case == "eos":
        assert out[0, 6] == 1 and not out[:, 7:].any()


def test_max_steps_leaves_zeros(m32, ref32):
    out = generate(m32, enc_of(ref32, "partial"), temperature=0.0, max_steps=20)
    np.testing.assert_array_equal(out[:, :20], ref32["partial/greedy_tokens"][:, :20])
    assert not out[:, 20:].any()


# ------------------------------------------------------------------------------ bfloat16


@pytest.mark.parametrize("case", CASES)
def test_bf16_figures(m16, ref16, case):
    enc = enc_of(ref16, case)
    with torch.no_grad():
        e = m16.encode(enc)
        assert e.dtype == torch.bfloat16
        enc_err = float(np.abs(e.float().numpy() - ref16[f"{case}/encoder_outputs"]).max())
        dec = torch.from_numpy(ref16["decoder_input_tokens"]).long().expand(2, -1)
        logits = m16.logits(enc, dec)
    assert logits.dtype == torch.float32
    lse = float(np.abs(torch.logsumexp(logits, -1).numpy() - ref16[f"{case}/tf_logsumexp"]).max())
    agree = float((logits.argmax(-1).numpy() == ref16[f"{case}/tf_argmax"]).mean())
    first32 = None
    if f"{case}/tf_logits_first32" in ref16:
        first32 = float(np.abs(logits[:, :32].numpy() - ref16[f"{case}/tf_logits_first32"]).max())
    print(f"bf16 {case}: encoder max abs err {enc_err:.3g}, logits[0:32] {first32}, "
          f"logsumexp {lse:.3g}, teacher-forced argmax agreement {agree:.4f}")
    assert enc_err <= 0.1 and lse <= 0.02 and agree >= 0.95
    assert first32 is None or first32 <= 0.15


@pytest.mark.parametrize("case", CASES)
def test_bf16_greedy_agrees_until_a_low_margin_position(m16, ref16, case):
    """Tokens agree up to the first step whose official CFG top-1/top-2 margin is below
    0.05 (bf16 CFG logits here differ from the official by up to ~0.3 at that scale);
    teacher-forced on the official greedy sequence, only low-margin steps may disagree."""
    greedy = ref16[f"{case}/greedy_tokens"][0]
    vals = ref16[f"{case}/greedy_tf_cfg_top5_vals"]
    margin = vals[:, 0] - vals[:, 1]
    low = int(np.argmax(margin < 0.05)) if (margin < 0.05).any() else 800
    out = generate(m16, enc_of(ref16, case), temperature=0.0)
    diff = np.nonzero(out[0] != greedy)[0]
    first = int(diff[0]) if diff.size else 800
    with torch.no_grad():
        cfg = guided(m16.logits(enc_of(ref16, case), shift_right(greedy).expand(2, -1)))
    flips = np.nonzero(cfg.argmax(-1).numpy() != greedy)[0]
    worst = float(margin[flips].max()) if flips.size else 0.0
    print(f"bf16 {case}: greedy first mismatch {first}, first low-margin step {low}; "
          f"teacher-forced on the official sequence {800 - flips.size}/800 agree, "
          f"largest official margin at a flip {worst:.3f}")
    assert first >= low
    assert flips.size <= 0.15 * 800 and worst <= 0.5
