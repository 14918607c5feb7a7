"""The native int8 matrix-vector kernel (mrtd.model.mrt2.int8_kernel): built by the real C
compiler into a real cache folder, loaded, and checked against an exact float64 product
and PyTorch's own int8 kernel; the fallbacks (no compiler, a failing build, the switch,
more threads or rows than it takes) run PyTorch's kernel and say why."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mrtd.model.mrt2 import int8_kernel
from mrtd.model.mrt2.attention import Int8Weight

needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler (setup.sh installs gcc)")


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """The kernel's state forgotten and its cache in a fresh folder; restored after."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(int8_kernel.ENV, raising=False)
    int8_kernel.reset()
    yield tmp_path
    int8_kernel.reset()


def _case(m: int, n: int, k: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(m, k, generator=g).to(torch.bfloat16)
    q = torch.randint(-127, 128, (n, k), generator=g, dtype=torch.int8)
    scale = (torch.rand(n, generator=g) * 0.01 + 1e-4).to(torch.bfloat16)
    exact = (x.double() @ q.double().t()) * scale.double()
    return x, q, scale, exact


def _ulps(y: torch.Tensor, exact: torch.Tensor) -> float:
    """Largest error in units of bfloat16's step at the exact value (float32 sums of up to
    4096 products land within one step of the rounded exact value)."""
    step = torch.finfo(torch.bfloat16).eps * exact.abs().clamp(min=1e-3)
    return float(((y.double() - exact).abs() / step).max())


@needs_cc
@pytest.mark.parametrize("m", [1, 2, 3, 4])
@pytest.mark.parametrize("n,k", [(64, 1024), (48, 768), (17, 4096), (8, 48), (5, 80), (3, 20)])
def test_native_equals_exact_product_within_a_bfloat16_step(fresh, m, n, k):
    """Every row count it takes, widths with and without a 64-column tail (48, 80: the
    16-wide rest; 20: the scalar rest), odd row counts."""
    x, q, scale, exact = _case(m, n, k)
    y = int8_kernel.matmul(x, q, scale)
    assert y is not None and y.dtype == torch.bfloat16 and y.shape == (m, n)
    assert _ulps(y, exact) <= 1.0
    if k % 16 == 0:  # PyTorch's kernel on the same inputs: the same result up to a step
        ref = torch._weight_int8pack_mm(x, q, scale)
        assert _ulps(ref, exact) <= 1.0


@needs_cc
def test_native_is_deterministic_and_used_by_int8_weights(fresh):
    x, q, scale, _ = _case(1, 256, 1024, seed=3)
    a, b = int8_kernel.matmul(x, q, scale), int8_kernel.matmul(x, q, scale)
    assert torch.equal(a, b)  # replay: the same bits every run
    assert int8_kernel.kernel_name().startswith("native")
    w = Int8Weight(torch.randn(256, 1024, generator=torch.Generator().manual_seed(4)).to(torch.bfloat16))
    xs = torch.randn(2, 1, 1024).to(torch.bfloat16)
    got = w(xs)  # [B, T, K] input: reshaped to rows and back
    assert got.shape == (2, 1, 256)
    assert torch.equal(got.reshape(2, 256), int8_kernel.matmul(xs.reshape(2, 1024), w.int8, w.scale))


@needs_cc
def test_build_is_cached_by_source_compiler_and_cpu(fresh):
    assert int8_kernel.library() is not None
    built = list((fresh / "mrtd" / "kernels").glob("int8_gemv-*.so"))
    assert len(built) == 1
    stamp = built[0].stat().st_mtime_ns
    int8_kernel.reset()
    assert int8_kernel.library() is not None  # a second process loads, it does not rebuild
    assert [p.stat().st_mtime_ns for p in (fresh / "mrtd" / "kernels").glob("int8_gemv-*.so")] == [stamp]
    assert (fresh / "mrtd" / "kernels").stat().st_mode & 0o077 == 0  # the user's own folder


def test_switch_off_runs_pytorch_kernel(fresh, monkeypatch):
    monkeypatch.setenv(int8_kernel.ENV, "torch")
    x, q, scale, exact = _case(1, 64, 1024)
    assert int8_kernel.matmul(x, q, scale) is None
    assert int8_kernel.kernel_name() == "torch (MRTD_INT8_KERNEL=torch)"
    w = Int8Weight(q.float() * scale.float()[:, None])
    assert _ulps(w(x), exact) <= 1.5  # the weight re-quantised: codes and scales may round apart


def test_failing_or_missing_compiler_falls_back(fresh, monkeypatch):
    monkeypatch.setenv("CC", "false")  # a compiler that fails every build
    if shutil.which("false") is None:
        pytest.skip("no 'false' command")
    assert int8_kernel.library() is None
    assert int8_kernel.kernel_name().startswith("torch (build failed")
    int8_kernel.reset()
    monkeypatch.setenv("CC", "no-such-compiler-mrtd")
    assert int8_kernel.library() is None
    assert "no C compiler" in int8_kernel.kernel_name()
    x, q, scale, _ = _case(1, 16, 64)
    assert int8_kernel.matmul(x, q, scale) is None


@needs_cc
def test_more_rows_or_threads_than_it_takes_run_pytorch_kernel(fresh):
    x, q, scale, _ = _case(int8_kernel.MAX_ROWS + 1, 32, 256)
    assert int8_kernel.matmul(x, q, scale) is None  # prefill and teacher forcing: many rows
    x1 = x[:1].contiguous()
    assert int8_kernel.matmul(x1, q, scale) is not None
    n = torch.get_num_threads()  # one, set for the whole session by conftest
    torch.set_num_threads(2)
    try:
        assert int8_kernel.matmul(x1, q, scale) is None  # several intra-op threads: PyTorch's splits the rows
    finally:
        torch.set_num_threads(n)


@needs_cc
def test_compiled_graph_calls_the_kernel_without_a_break(fresh):
    """Under torch.compile the kernel is the opaque op mrtd::int8_mm: the temporal and depth
    steps of an int8 model still trace to one graph each (dynamo only; Inductor not run)."""
    from mrtd.engine.demo import random_models
    from mrtd.model.mrt2.config import MRT2Config
    from mrtd.model.mrt2.framestep import FrameStep
    from mrtd.model.mrt2.quant import quantize_lm

    cfg = MRT2Config.from_manifest(Path(__file__).parents[1] / "fixtures" / "mrt2_tiny.manifest.json")
    model, dec = random_models(cfg, 0, torch.bfloat16)
    quantize_lm(model, "int8")
    fs = FrameStep(model, dec)
    torch._dynamo.reset()
    with torch.inference_mode():
        for step in (fs._temporal, fs._depth):
            ex = torch._dynamo.explain(step)()
            assert (ex.graph_count, ex.graph_break_count) == (1, 0), ex.break_reasons
            ops = [str(op) for g in ex.ops_per_graph for op in g]
            assert any("int8_mm" in op for op in ops)
            assert not any("_weight_int8pack_mm" in op for op in ops)
    torch._dynamo.reset()


def test_startup_line_names_the_kernel(fresh, monkeypatch):
    """serve's model line (the engine's describe) says which int8 kernel runs (and that the
    native frame of native_step is ready), and why not the native one."""
    from mrtd.engine.demo import build_random_demo
    from mrtd.engine.engine import Engine
    from mrtd.model.mrt2.quant import quantize_lm

    model, dec = build_random_demo(dtype=torch.bfloat16)
    quantize_lm(model, "int8")
    e = Engine(model, dec, seed=0)
    if shutil.which("cc") is not None:
        assert "int8 weights (native avx" in e.describe() and " kernel and frame)" in e.describe()
    monkeypatch.setenv(int8_kernel.ENV, "torch")
    int8_kernel.reset()
    assert "int8 weights (PyTorch's kernel: MRTD_INT8_KERNEL=torch)" in e.describe()


@needs_cc
def test_benchmark_script_writes_both_kernels(tmp_path):
    """benchmarks/int8_kernel.py (the figures behind the kernel's claims) runs and records
    both kernels with the environment."""
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "k.json"
    subprocess.run([sys.executable, str(root / "benchmarks" / "int8_kernel.py"), "--set-mb", "1", "--rounds", "1",
                    "--json", str(out)], check=True, capture_output=True, timeout=300,
                   env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)})
    res = json.loads(out.read_text())
    assert res["kernel"].startswith("native") and res["environment"]["threads"] == 1
    for setting in ("memory", "depth"):
        assert set(res[setting]["all_matrices"]) == {"torch", "native"}
        assert all(v["weights_gb_per_s"] > 0 for v in res[setting]["all_matrices"].values())


@needs_cc
def test_a_library_others_could_write_is_not_loaded(fresh):
    """A cache folder or library writable by other users (a shared $XDG_CACHE_HOME) could
    hold a planted library: it is refused and PyTorch's kernel runs."""
    assert int8_kernel.library() is not None
    folder = fresh / "mrtd" / "kernels"
    folder.chmod(0o777)
    int8_kernel.reset()
    assert int8_kernel.library() is None
    assert "not this user's own" in int8_kernel.kernel_name()
    folder.chmod(0o700)
    (lib,) = folder.glob("int8_gemv-*.so")
    lib.chmod(0o666)
    int8_kernel.reset()
    assert int8_kernel.library() is None
    lib.chmod(0o755)
    int8_kernel.reset()
    assert int8_kernel.library() is not None
