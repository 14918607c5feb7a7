"""Write a Magenta RT v1 checkpoint of random weights in the official layout.

The real v1 weights cannot be downloaded where mrtd is tested, yet the path a user takes
with them — a legacy T5X folder of zarr arrays (or its ``.tar``), read by ``load_v1``,
played by ``mrtd render|serve --checkpoint DIR`` and timed by ``mrtd bench --checkpoint
DIR`` — should run at the real shapes. This writes such a folder: the official names and
shapes of ``v1_base`` / ``v1_large`` (or an oracle ``config.json``), random values scaled
like the official initialisers, gzip chunks split as t5x splits them.

    python -m mrtd.devtools.v1_checkpoint --size v1_base /tmp/v1_base_random
    mrtd bench --checkpoint /tmp/v1_base_random --chunks 1 --json out.json

base: 348 M parameters, 1.4 GB on disk; large: 762 M, 3 GB. Nothing here is committed.
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from mrtd.model.v1.checkpoint import random_params, write_checkpoint
    from mrtd.model.v1.config import SIZES, V1Config

    ap = argparse.ArgumentParser(prog="python -m mrtd.devtools.v1_checkpoint", description=__doc__.split("\n")[0])
    ap.add_argument("out", help="the folder to write (created; must not hold a checkpoint already)")
    ap.add_argument("--size", choices=sorted(SIZES), default="v1_base")
    ap.add_argument("--config", help="an oracle config.json (its dims) instead of --size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--raw", action="store_true", help="raw chunks instead of gzip (faster to write)")
    ap.add_argument("--tar", action="store_true", help="also pack the folder as OUT.tar, as the official download is")
    a = ap.parse_args(argv)
    out = Path(a.out)
    if out.exists() and any(out.glob("target.*")):
        print(f"{out} already holds a checkpoint", file=sys.stderr)
        return 2
    cfg = V1Config.from_json(a.config) if a.config else SIZES[a.size]
    t0 = time.perf_counter()
    params = random_params(cfg, a.seed)
    n = sum(v.size for v in params.values())
    t1 = time.perf_counter()
    write_checkpoint(out, params, compress=not a.raw)
    t2 = time.perf_counter()
    print(f"{cfg.name}: {len(params)} tensors, {n:,} parameters; made in {t1 - t0:.1f} s, written to {out} "
          f"in {t2 - t1:.1f} s")
    if a.tar:
        with tarfile.open(out.with_suffix(".tar"), "w") as tar:
            tar.add(out, arcname=out.name)
        print(f"packed {out.with_suffix('.tar')} in {time.perf_counter() - t2:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
