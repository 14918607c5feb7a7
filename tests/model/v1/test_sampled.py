"""Seeded sampling end to end: the PyTorch v1 model + the unsafe_rbg port + the sampler
give the official JAX tokens exactly (fixtures/v1, float32, defaults w=5, T=1.1, k=40).

Cases: the three single chunks (``partial``, ``full``, ``empty_nostyle``, key
PRNGKey(0)), the EOS case (``decoder.logits_dense.kernel[:, 1] *= 3``, MASK sampled at
position 150, zeros after it) and the LLM tokens of each chunk of the official 3-chunk
rollout given its encoder input and key (the chunk chaining itself is test_system's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mrtd.model.v1 import rng
from mrtd.model.v1.checkpoint import load_v1, params_to_model, read_checkpoint
from mrtd.model.v1.config import V1Config
from mrtd.model.v1.decode import generate
from mrtd.model.v1.model import V1Model

pytestmark = pytest.mark.slow

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "v1"
CASES = ("partial", "full", "empty_nostyle")


@pytest.fixture(scope="module")
def ref() -> dict[str, np.ndarray]:
    with np.load(FIX / "ref_fp32.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def cfg() -> V1Config:
    return V1Config.from_json(FIX / "config.json")


@pytest.fixture(scope="module")
def model(cfg):
    return load_v1(FIX / "checkpoint", cfg)


def first_diff(got: np.ndarray, want: np.ndarray) -> str:
    bad = np.flatnonzero(got != want)
    return "identical" if not bad.size else f"{bad.size} differ, first at {bad[0]}: {got[bad[0]]} != {want[bad[0]]}"


@pytest.mark.parametrize("case", CASES)
def test_sampled_chunk(model, ref, case):
    key = ref[f"{case}/sampled_rng_key"]
    np.testing.assert_array_equal(key, rng.prng_key(0))  # seed 0, chunk_index 0
    got = generate(model, ref[f"{case}/encoder_input_tokens"], key=key)
    want = ref[f"{case}/sampled_tokens"]
    assert got.dtype == np.int32 and got.shape == (2, 800)
    assert np.array_equal(got, want), first_diff(got[0], want[0])


def test_sampled_eos(cfg, ref):
    """MASK (id 1) sampled at 150 ends the chunk: written, then zeros, both rows."""
    params = read_checkpoint(FIX / "checkpoint")
    params["decoder.logits_dense.kernel"] = params["decoder.logits_dense.kernel"].copy()
    params["decoder.logits_dense.kernel"][:, 1] *= 3
    eos_model = params_to_model(V1Model(cfg), params).eval()
    got = generate(eos_model, ref["partial/encoder_input_tokens"], key=rng.prng_key(0))
    want = ref["eos/sampled_tokens"]
    assert np.array_equal(got, want), first_diff(got[0], want[0])
    assert got[0, 150] == 1 and not got[:, 151:].any()


@pytest.mark.parametrize("chunk", range(3))
def test_rollout_chunk_tokens(model, ref, chunk):
    """Chunk c of the official rollout is keyed PRNGKey(0 + c)."""
    key = ref["rollout/rng_key"][chunk]
    np.testing.assert_array_equal(key, rng.prng_key(chunk))
    got = generate(model, ref["rollout/encoder_input_tokens"][chunk], key=key)
    want = ref["rollout/tokens"][chunk]
    assert np.array_equal(got, want), first_diff(got[0], want[0])


def test_other_seed_differs(model, ref):
    """The key really drives the draw: seed 1 gives another chunk from the same input."""
    enc = ref["partial/encoder_input_tokens"]
    a = generate(model, enc, max_steps=32, key=rng.prng_key(1))
    assert not np.array_equal(a[0, :32], ref["partial/sampled_tokens"][0, :32])
    np.testing.assert_array_equal(a[0], a[1])
