"""The codec stage on other runtimes, side by side on one core (issue 17): eager PyTorch
(float32, bfloat16; each with its conv weights packed for oneDNN once, the default on a
CPU, and reordered per call as before), ``torch.compile``, OpenVINO (float32, bfloat16
precision hint) and ONNX Runtime (float32: its CPU provider has no bfloat16 convs),
each streaming the same random tokens through the mrt2_small-shaped decoder (random
weights); the median time of a step after warm-up, and the SNR of the audio against
eager float32. With two stages on two cores the codec on one core is the floor of the
frame, so this is the stage to win on.

OpenVINO and ONNX Runtime run the conv stack (``SpectroStreamDecoder.spectrum``:
embeddings in, the spectrum and the new streaming buffers out; ONNX Runtime from a
``torch.onnx.export`` of it); the inverse STFT stays in PyTorch (its complex FFT does not
convert), and its time is included. Needs ``pip install openvino onnxruntime onnx``
(not dependencies of mrtd); without them those rows say so.

    python benchmarks/codec_runtimes.py --json benchmarks/results/codec_runtimes_small_cpu.json
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from types import SimpleNamespace

import numpy as np
import torch

from mrtd.devtools.bench import build_models
from mrtd.devtools.bench_env import environment
from mrtd.model.mrt2.codec_decoder import place, transform_output
from mrtd.model.mrt2.framestep import set_codec_layout
from mrtd.model.mrt2.rvq import ids_to_codes
from mrtd.model.mrt2.stft import istft_step


class Spectrum(torch.nn.Module):
    """The decoder's conv stack as a pure function: (embeddings, buffers) -> (spectrum, new buffers)."""

    def __init__(self, dec):
        super().__init__()
        self.dec = dec

    def forward(self, emb, *bufs):
        new = [b.clone() for b in bufs]
        return (self.dec.spectrum(emb, new), *new)


def embed(dec, codes: torch.Tensor) -> torch.Tensor:
    e = dec._embed(ids_to_codes(codes))
    return e.unsqueeze(1) if e.dim() == 2 else e


def torch_eager(dec, codes: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[float]]:
    state, outs, ms = dec.init_state(1), [], []
    with torch.inference_mode():
        for c in codes:
            t = time.perf_counter()
            audio, _ = dec.step(ids_to_codes(c), state)
            ms.append(1000 * (time.perf_counter() - t))
            outs.append(audio.float().clone())
    return outs, ms


def torch_compiled(dec, codes: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[float]]:
    fn = torch.compile(Spectrum(dec), dynamic=False)
    state, outs, ms = dec.init_state(1), [], []
    bufs, tail = [b.clone() for b in state.bufs], state.tail.clone()
    with torch.no_grad():
        for i, c in enumerate(codes):
            t = time.perf_counter()
            spec, *bufs = fn(embed(dec, c), *bufs)
            audio = istft_step(spec * (0.0 if i == 0 else 1.0), tail, dec.window)
            ms.append(1000 * (time.perf_counter() - t))
            outs.append(transform_output(audio, "float").float().clone())
    return outs, ms


def openvino(dec, codes: list[torch.Tensor], precision: str) -> tuple[list[torch.Tensor], list[float]]:
    import openvino as ov

    state = dec.init_state(1)
    with torch.no_grad():
        model = ov.convert_model(Spectrum(dec).eval(), example_input=(embed(dec, codes[0]), *state.bufs))
    compiled = ov.Core().compile_model(model, "CPU", {
        "INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": 1, "NUM_STREAMS": 1,
        "PERFORMANCE_HINT": "LATENCY", "ENABLE_CPU_PINNING": False})
    req = compiled.create_infer_request()
    bufs = [b.numpy().copy() for b in state.bufs]
    tail, outs, ms = state.tail.clone(), [], []
    with torch.no_grad():
        for i, c in enumerate(codes):
            t = time.perf_counter()
            r = req.infer([embed(dec, c).numpy(), *bufs])
            vals = [r[o] for o in compiled.outputs]
            bufs = [v.copy() for v in vals[1:]]
            spec = torch.from_numpy(vals[0]) * (0.0 if i == 0 else 1.0)
            audio = istft_step(spec, tail, dec.window)
            ms.append(1000 * (time.perf_counter() - t))
            outs.append(transform_output(audio, "float").float().clone())
    return outs, ms


def onnxruntime(dec, codes: list[torch.Tensor], folder: str) -> tuple[list[torch.Tensor], list[float]]:
    import os

    import onnxruntime as ort

    state = dec.init_state(1)
    path = os.path.join(folder, "spectrum.onnx")
    names = [f"buf{i}" for i in range(len(state.bufs))]
    with torch.no_grad():
        torch.onnx.export(Spectrum(dec).eval(), (embed(dec, codes[0]), *state.bufs), path, dynamo=False,
                          input_names=["emb", *names], output_names=["spec", *[f"new_{n}" for n in names]])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    bufs = [b.numpy().copy() for b in state.bufs]
    tail, outs, ms = state.tail.clone(), [], []
    with torch.no_grad():
        for i, c in enumerate(codes):
            t = time.perf_counter()
            vals = sess.run(None, {"emb": embed(dec, c).numpy(), **dict(zip(names, bufs))})
            bufs = vals[1:]
            spec = torch.from_numpy(vals[0]) * (0.0 if i == 0 else 1.0)
            audio = istft_step(spec, tail, dec.window)
            ms.append(1000 * (time.perf_counter() - t))
            outs.append(transform_output(audio, "float").float().clone())
    return outs, ms


def snr_db(x: list[torch.Tensor], ref: list[torch.Tensor]) -> float:
    a, b = torch.cat(x[2:]), torch.cat(ref[2:])
    return round(10 * float(np.log10(float((b ** 2).sum()) / max(float(((a - b) ** 2).sum()), 1e-30))), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="mrt2_small")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--json")
    a = ap.parse_args()
    torch.set_num_threads(1)
    args = SimpleNamespace(size=a.size, checkpoint=None, manifest=None, seed=0, layout="auto",
                           codec_layout="default", streams=1)
    _, dec32, what = build_models(args, torch.float32, torch.float32, torch.device("cpu"))
    dec16 = place(copy.deepcopy(dec32), "cpu", torch.bfloat16)
    packed32 = set_codec_layout(copy.deepcopy(dec32), "packed")
    packed16 = set_codec_layout(copy.deepcopy(dec16), "packed")
    g = torch.Generator().manual_seed(1)
    codes = [torch.randint(0, 1024, (1, 12), generator=g) for _ in range(a.frames)]
    ref, _ = torch_eager(dec32, codes)
    rows = {}
    tmp = tempfile.mkdtemp(prefix="mrtd-codec-onnx-")
    runs = [("torch eager float32", lambda: torch_eager(dec32, codes)),
            ("torch eager bfloat16", lambda: torch_eager(dec16, codes)),
            ("torch eager float32 packed", lambda: torch_eager(packed32, codes)),
            ("torch eager bfloat16 packed", lambda: torch_eager(packed16, codes)),
            ("torch.compile float32", lambda: torch_compiled(dec32, codes)),
            ("openvino float32", lambda: openvino(dec32, codes, "f32")),
            ("openvino bf16 hint", lambda: openvino(dec32, codes, "bf16")),
            ("onnxruntime float32", lambda: onnxruntime(dec32, codes, tmp))]
    for name, run in runs:
        try:
            outs, ms = run()
        except Exception as e:  # noqa: BLE001 - a runtime that cannot run this says why
            rows[name] = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"}
            print(f"{name}: {rows[name]['error']}", flush=True)
            continue
        steady = ms[5:]
        rows[name] = {"ms_median": round(statistics.median(steady), 2), "ms_p90": round(float(np.percentile(steady, 90)), 2),
                      "snr_vs_torch_float32_db": snr_db(outs, ref)}
        print(f"{name}: {rows[name]['ms_median']} ms a step, SNR vs eager float32 "
              f"{rows[name]['snr_vs_torch_float32_db']} dB", flush=True)
    res = {"benchmark": "codec runtimes", "model": what, "threads": 1, "frames": a.frames, "rows": rows,
           "environment": environment("cpu", "float32"),
           "command": "python benchmarks/codec_runtimes.py" + (f" --json {a.json}" if a.json else "")}
    for mod in ("openvino", "onnxruntime"):
        try:
            res[mod] = __import__(mod).__version__
        except ImportError:
            res[mod] = None
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
