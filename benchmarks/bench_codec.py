"""Streaming SpectroStream decode time per 40 ms frame, tiny and real widths (random weights).

    python benchmarks/bench_codec.py [--device cuda] [--dtype bfloat16] [--threads 2]

Prints one line per width and writes JSON (figures + environment) to
``benchmarks/results/bench_codec_<device>.json`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import torch

from mrtd.devtools.bench_env import environment
from mrtd.model.mrt2.codec_config import CodecConfig
from mrtd.model.mrt2.codec_decoder import SpectroStreamDecoder, place

WIDTHS = {"tiny": replace(CodecConfig(), decoder_base_conv_depth=4, num_features=8), "real": CodecConfig()}


def random_decoder(cfg: CodecConfig, device: str, dtype: torch.dtype) -> SpectroStreamDecoder:
    """Decoder with fan-in scaled random weights of the official shapes (no file needed)."""
    torch.manual_seed(0)
    dec = SpectroStreamDecoder(cfg)
    with torch.no_grad():
        for m in dec._convs():
            fan_in = m.weight[0].numel() if m.__class__.__name__ == "Conv" else m.weight[:, 0].numel()
            m.weight.normal_(0, fan_in**-0.5)
            m.bias.normal_(0, 0.05)
        dec.rvq.table.normal_(0, 0.3)
    return place(dec, device, dtype)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench(cfg: CodecConfig, device: str, dtype: torch.dtype, frames: int, warmup: int, batch: int) -> dict:
    dec = random_decoder(cfg, device, dtype)
    state = dec.init_state(batch)
    codes = torch.randint(0, 1024, (frames + warmup, batch, 12), device=device)
    for t in range(warmup):
        dec.step(codes[t], state)
    sync(device)
    times = []
    for t in range(warmup, warmup + frames):
        t0 = time.perf_counter()
        dec.step(codes[t], state)
        sync(device)
        times.append(time.perf_counter() - t0)
    times.sort()
    params = sum(m.weight.numel() + m.bias.numel() for m in dec._convs())
    return {"decoder_params": params, "frames": frames, "batch": batch,
            "ms_per_frame_mean": 1e3 * sum(times) / len(times), "ms_per_frame_median": 1e3 * times[len(times) // 2],
            "ms_per_frame_p90": 1e3 * times[int(0.9 * (len(times) - 1))], "realtime_factor": 40.0 / (1e3 * sum(times) / len(times))}



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--widths", default="tiny,real")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    dtype = getattr(torch, a.dtype)
    env = environment(a.device, a.dtype)
    results = {}
    with torch.inference_mode():
        for w in a.widths.split(","):
            r = bench(WIDTHS[w], a.device, dtype, a.frames, a.warmup, a.batch)
            results[w] = r
            print(f"{w:5s} width: streaming decode {r['ms_per_frame_mean']:.2f} ms/frame mean, "
                  f"{r['ms_per_frame_median']:.2f} median, {r['ms_per_frame_p90']:.2f} p90 "
                  f"(40 ms budget, x{r['realtime_factor']:.1f} real time; {r['decoder_params']:,} params)")
    out = Path(a.out) if a.out else Path(__file__).parent / "results" / f"bench_codec_{a.device.split(':')[0]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": "spectrostream_streaming_decode", "env": env, "results": results}, indent=1))
    print(f"wrote {out}  ({json.dumps(env)})")


if __name__ == "__main__":
    main()
