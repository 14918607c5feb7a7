"""The native library of the int8 language model: the matrix-vector kernel
(``int8_gemv.c``) and the whole-frame loops built on it (``lm_step.c``, driven by
:mod:`mrtd.model.mrt2.native_step`), built once on this machine, then called through ctypes.

At one frame per call the quantised language model is a chain of matrix-vector products
whose cost is reading the weights. ``torch._weight_int8pack_mm`` reads them well below
what one core can stream (the project's 2-core Xeon, ``benchmarks/int8_kernel.py``: 6.0
against this kernel's 10.5 GB/s from memory, 12.4 against 15.4 from cache). The faster
library kernels measured also quantise the activations (fbgemm's dynamic int8: 0.93 top-1
agreement with float32 where weight-only int8 keeps 0.946; oneDNN's qlinear), and bfloat16
prepacked for oneDNN reads twice the bytes. So the loop is ours.

It is compiled with the system's C compiler (``$CC``, else ``cc``) and ``-march=native``
into ``$XDG_CACHE_HOME/mrtd/kernels`` (``~/.cache/mrtd/kernels``), named by a hash of the
sources, the compiler and this CPU's flags, so a changed file, compiler or machine builds
anew and a shared home never loads a library built for another CPU. The build takes about
a second and happens when a model is quantised, never on the audio path. Without a
compiler, on a CPU without AVX2, or with ``MRTD_INT8_KERNEL=torch``, PyTorch's kernel and
operators are used; :func:`kernel_name` says which ran, and benchmarks record it.

ctypes releases the GIL during the call, so the two-stage engine's codec thread runs
beside it. Where the native frame does not run (more streams than it takes, ``torch.compile``),
:func:`matmul` serves single products: on one intra-op thread (with more, PyTorch's kernel
splits the rows), and inside ``torch.compile`` graphs as the opaque op ``mrtd::int8_mm``,
which makes the same choice when it runs.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import torch
from torch import Tensor

log = logging.getLogger("mrtd.model")

SOURCE = Path(__file__).with_name("int8_gemv.c")
SOURCES = (SOURCE, SOURCE.with_name("lm_step.c"))  # one library; lm_step.c: native_step.py's frame
HEADER = SOURCE.with_name("lm_native.h")
MAX_ROWS = 4  # MRTD_MAX_ROWS in the C file
MAX_SCRATCH = 32768  # MRTD_MAX_SCRATCH: rows * in-width
ENV = "MRTD_INT8_KERNEL"  # "torch" turns the native kernel off
BUILD_TIMEOUT_S = 120

_lock = threading.Lock()
_state: dict[str, object] = {}  # "lib": the loaded library or None; "why": why not
native = False  # the library is loaded (read by compiled graphs at trace time)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mrtd" / "kernels"


def _compiler() -> str | None:
    cc = os.environ.get("CC") or "cc"
    return shutil.which(cc)


def _cpu_flags() -> str:
    """This CPU's feature flags (Linux), so a library built for one CPU is never loaded on another."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return platform.machine()


def _check_own(path: Path) -> None:
    """Refuse to load code from a place another user could have written: the folder and
    the library must be this user's and writable by nobody else (a cache under a shared
    ``$XDG_CACHE_HOME`` such as /tmp could otherwise hold a planted library)."""
    st = path.lstat()
    if st.st_uid != os.getuid() or st.st_mode & 0o022 or path.is_symlink():
        raise OSError(f"{path} is not this user's own (owner {st.st_uid}, mode {st.st_mode & 0o777:o}): not loaded")


def _build(cc: str) -> Path:
    src = b"".join(f.read_bytes() for f in (*SOURCES, HEADER))
    version = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30).stdout
    key = hashlib.sha256(src + version.encode() + _cpu_flags().encode()).hexdigest()[:16]
    out = cache_dir() / f"int8_gemv-{key}.so"
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _check_own(out.parent)
    if out.exists():
        _check_own(out)
        return out
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=out.parent)
    os.close(fd)
    try:
        cmd = [cc, "-O3", "-march=native", "-fPIC", "-shared", "-o", tmp, *map(str, SOURCES), "-lm"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
        if r.returncode != 0:
            raise OSError(f"{' '.join(cmd)} failed: {r.stderr.strip()[-400:]}")
        os.replace(tmp, out)  # atomic: a second process building the same key is harmless
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def library() -> ctypes.CDLL | None:
    """The loaded kernel, building it on first use; None (and a logged reason, once) when it
    cannot be had here."""
    if "lib" in _state:
        return _state["lib"]  # type: ignore[return-value]
    with _lock:
        if "lib" in _state:
            return _state["lib"]  # type: ignore[return-value]
        lib, why = None, ""
        if os.environ.get(ENV, "").lower() == "torch":
            why = f"{ENV}=torch"
        elif (cc := _compiler()) is None:
            why = "no C compiler (cc or $CC) to build it"
        else:
            try:
                lib = ctypes.CDLL(str(_build(cc)))
                lib.mrtd_int8_gemv.restype = ctypes.c_int
                lib.mrtd_int8_gemv.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int] * 3
                ptr, i32, f32 = ctypes.c_void_p, ctypes.c_int, ctypes.c_float
                lib.mrtd_temporal_step.restype = lib.mrtd_depth_frame.restype = ctypes.c_int
                lib.mrtd_temporal_step.argtypes = [ptr, ptr, f32, i32] + [ptr] * 10
                lib.mrtd_depth_frame.argtypes = [ptr, ptr, f32, i32, ptr, ptr, f32, f32] + [ptr] * 8
                if lib.mrtd_int8_isa() < 1:
                    lib, why = None, "this CPU has neither AVX-512 nor AVX2"
            except (OSError, subprocess.SubprocessError) as e:
                lib, why = None, f"build failed: {e}"
        if lib is None:
            log.info(f"int8 kernel: PyTorch's, and PyTorch's operators for the frame: 2-3x slower a frame ({why}; "
                     "gcc or clang builds the native one)")
        _state.update(lib=lib, why=why)
        global native
        native = lib is not None
        return lib


def kernel_name() -> str:
    """Which int8 kernel a one-thread product runs: ``native avx512``, ``native avx2`` or ``torch (why)``."""
    lib = library()
    if lib is None:
        return f"torch ({why_not()})"
    return "native avx512" if lib.mrtd_int8_isa() == 2 else "native avx2"


def why_not() -> str | None:
    """Why PyTorch's kernel runs instead of the native one (None when the native one loaded)."""
    return None if library() is not None else str(_state.get("why"))


def reset() -> None:
    """Forget the loaded state (tests: a changed environment is read again)."""
    global native
    with _lock:
        _state.clear()
        native = False


def matmul(x: Tensor, q: Tensor, scale: Tensor) -> Tensor | None:
    """``x [M, K] bfloat16 @ q[N, K].T * scale[N]`` in bfloat16 by the native kernel, or None
    where it does not apply (then the caller runs PyTorch's). Inside ``torch.compile`` it
    is the opaque op ``mrtd::int8_mm``, which decides the same way when it runs."""
    m, k = x.shape
    if x.dtype != torch.bfloat16 or not x.is_contiguous() or q.dtype != torch.int8:
        return None
    if torch.compiler.is_compiling():
        return torch.ops.mrtd.int8_mm(x, q, scale) if native else None  # a plain global: no graph break
    if m > MAX_ROWS or m * k > MAX_SCRATCH or torch.get_num_threads() != 1:
        return None
    lib = library()
    if lib is None or not q.is_contiguous() or scale.dtype != torch.bfloat16 or not scale.is_contiguous():
        return None
    y = torch.empty(m, q.shape[0], dtype=torch.bfloat16)
    if lib.mrtd_int8_gemv(x.data_ptr(), q.data_ptr(), scale.data_ptr(), y.data_ptr(), m, q.shape[0], k) != 0:
        return None
    return y


@torch.library.custom_op("mrtd::int8_mm", mutates_args=())
def int8_mm(x: Tensor, q: Tensor, scale: Tensor) -> Tensor:
    """The int8 product as one op a compiled graph calls: the native kernel where it applies
    at run time (one thread, few rows), else PyTorch's."""
    y = matmul(x, q, scale)
    return torch._weight_int8pack_mm(x, q, scale) if y is None else y


@int8_mm.register_fake
def _(x: Tensor, q: Tensor, scale: Tensor) -> Tensor:
    return x.new_empty(x.shape[0], q.shape[0])
