#!/usr/bin/env bash
# The GPU proof (issue 22) in one run of at most ~9 minutes on a fresh H100/H200 machine:
# environment, carried wheels, `mrtd verify` float32/bfloat16 (and the encoder) on CUDA on
# the tiny official references, `mrtd bench` for mrt2_small (CUDA graph on and off), 16
# mrt2_small streams, mrt2_base, control-to-audio latency through the real Engine, the
# CUDA tests, and Magenta RT v1 chunk times when `mrtd bench --help` lists v1 sizes.
#
#   bash benchmarks/gpu_check.sh                 # CUDA, results in $OUT (default ./gpu_out)
#   bash benchmarks/gpu_check.sh --device cpu    # the dry run: tiny sizes, few frames
#
# Every step has its own time limit and the run goes on after a failure; a whole-run
# budget (MRTD_GPU_CHECK_BUDGET seconds, default 520 on CUDA) skips what no longer fits.
# $OUT gets at most 4 files (the device tool brings back 8): summary.json (each figure
# against its goal; rewritten after every step, so a cut-off run still reports),
# results.json (every step's status and whole JSON), gpu_check.log (all output) and
# steps.tgz (the step JSON files one by one, for benchmarks/results/).
#
# Environment: OUT, PYTHON (default python3), MRTD_GPU_CHECK_DEVICE (cuda|cpu),
# MRTD_GPU_CHECK_WHEELS (default gpu_wheels: installed with pip --no-index into a private
# folder, never touching torch; see benchmarks/gpu_wheels.sh), MRTD_GPU_CHECK_BUDGET,
# MRTD_GPU_CHECK_ONLY (comma list of steps), MRTD_GIT_SHA (recorded when .git is absent),
# MRTD_GPU_CHECK_TESTS_K (pytest -k of the CUDA tests), MRTD_GPU_CHECK_TF32=1 (leave TF32 on).
set -u -o pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

DEVICE=${MRTD_GPU_CHECK_DEVICE:-cuda}
WHEELS=${MRTD_GPU_CHECK_WHEELS:-gpu_wheels}
BUDGET=${MRTD_GPU_CHECK_BUDGET:-}
ONLY=${MRTD_GPU_CHECK_ONLY:-}
PY=${PYTHON:-python3}
while [ $# -gt 0 ]; do
    case $1 in
        --device) DEVICE=${2:?--device needs cuda or cpu}; shift 2 ;;
        --device=*) DEVICE=${1#*=}; shift ;;
        --out) OUT=${2:?--out needs a folder}; shift 2 ;;
        --out=*) OUT=${1#*=}; shift ;;
        --wheels) WHEELS=${2:?}; shift 2 ;;
        --wheels=*) WHEELS=${1#*=}; shift ;;
        --budget) BUDGET=${2:?}; shift 2 ;;
        --budget=*) BUDGET=${1#*=}; shift ;;
        --only) ONLY=${2:?}; shift 2 ;;
        --only=*) ONLY=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "gpu_check.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
case $DEVICE in
    cuda|cuda:[0-9]*) MODE=cuda ;;
    cpu) MODE=cpu ;;
    *) echo "gpu_check.sh: --device must be cuda or cpu, got $DEVICE" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-./gpu_out}  # relative paths: from where the script was started
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd) || exit 2
case $WHEELS in /*) ;; gpu_wheels) WHEELS=$ROOT/gpu_wheels ;; *) WHEELS=$PWD/$WHEELS ;; esac
cd "$ROOT" || exit 2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX") || exit 2
mkdir -p "$WORK/json" "$WORK/status" "$WORK/logs" "$WORK/site"
LOG=$OUT/gpu_check.log
: >"$LOG"
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH="$WORK/site:$ROOT${PYTHONPATH:+:$PYTHONPATH}"

# ---- sizes and frame counts: the proof on CUDA, a quick pass over the same steps on the CPU ----
FIX=tests/fixtures
if [ "$MODE" = cuda ]; then
    BUDGET=${BUDGET:-520}
    # true float32 for the float32 pieces (the codec): cuDNN runs float32 convolutions in TF32 by
    # default, which the bench's codec parity gate (1e-5) does not allow; the bfloat16 language
    # model is unaffected. The speed is then the official float32 codec's (a lower bound).
    # MRTD_GPU_CHECK_TF32=1 keeps the libraries' defaults.
    [ -z "${MRTD_GPU_CHECK_TF32:-}" ] && export NVIDIA_TF32_OVERRIDE=${NVIDIA_TF32_OVERRIDE:-0}
    SMALL=mrt2_small; BASE=mrt2_base; LAT_SIZE=mrt2_small; LAT_TRIALS=5
    F_SMALL=(); F_EAGER=(--frames 300); F_BASE=(--frames 300); F_16=(--frames 300)
    TESTS_K=${MRTD_GPU_CHECK_TESTS_K:-cuda or gpu or graph}
else
    BUDGET=${BUDGET:-300}
    # the 2-core box: one thread each, tiny shapes, a handful of frames
    export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
    SMALL=mrt2_tiny; BASE=mrt2_tiny; LAT_SIZE=mrt2_tiny; LAT_TRIALS=2
    F_SMALL=(--frames 10 --warmup 2); F_EAGER=(--frames 5 --warmup 2); F_BASE=(--frames 5 --warmup 2)
    F_16=(--frames 5 --warmup 2)
    TESTS_K=${MRTD_GPU_CHECK_TESTS_K:-cuda}
fi
MRTD=("$PY" -m mrtd)
T0=$(date +%s)

say() { echo "$*" | tee -a "$LOG"; }
summary() { "$PY" -m mrtd.devtools.gpu_summary --work "$WORK" --out "$OUT" --mode "$MODE" "$@" 2>>"$LOG"; }
want() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
status() {  # NAME STATE RC SECONDS TIMEOUT REASON
    printf '{"state": "%s", "rc": %s, "seconds": %s, "timeout_s": %s, "reason": "%s"}\n' \
        "$2" "${3:-null}" "${4:-null}" "${5:-null}" "${6//\"/\'}" >"$WORK/status/$1.json"
}
skip() { want "$1" || return 0; status "$1" skipped null null null "$2"; say "--- [$1] skipped: $2"; summary; }

# step NAME TIMEOUT_S MIN_S [--stdout FILE] -- CMD...: run CMD under `timeout`, its output
# into the step's log (stdout into FILE with --stdout), never stopping the script.
step() {
    local name=$1 limit=$2 min=$3; shift 3
    local to=""
    if [ "$1" = --stdout ]; then to=$2; shift 2; fi
    [ "$1" = -- ] && shift
    want "$name" || return 0
    local left=$(( BUDGET - ($(date +%s) - T0) - 10 ))
    if [ "$left" -lt "$min" ]; then skip "$name" "budget: ${left}s left, needs ${min}s"; return 0; fi
    [ "$limit" -gt "$left" ] && limit=$left
    local slog=$WORK/logs/$name.log
    say "=== [$name] $(date -u +%H:%M:%S) (limit ${limit}s): $*"
    local t1 rc
    t1=$(date +%s.%N)
    if [ -n "$to" ]; then
        timeout -k 10 "$limit" "$@" >"$to" 2>"$slog"; rc=$?
    else
        timeout -k 10 "$limit" "$@" >"$slog" 2>&1; rc=$?
    fi
    local secs
    secs=$(awk -v a="$t1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    cat "$slog" >>"$LOG"
    tail -n 12 "$slog"
    local state=ok
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then state=timeout; elif [ "$rc" -ne 0 ]; then state=failed; fi
    status "$name" "$state" "$rc" "$secs" "$limit" ""
    say "--- [$name] $state (rc $rc, ${secs}s)"
    summary
}

say "gpu_check: mode $MODE, device $DEVICE, budget ${BUDGET}s, out $OUT, work $WORK, python $PY"

# ---- 1. environment -------------------------------------------------------------------------
SHA=${MRTD_GIT_SHA:-$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)}
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    DIRTY=$(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l)
else
    DIRTY=unknown
fi
export GC_SHA=$SHA GC_DIRTY=$DIRTY GC_MODE=$MODE
step env 60 5 --stdout "$WORK/json/env.json" -- "$PY" - <<'EOF'
import json, os, platform, shutil, subprocess, sys
e = {"python": platform.python_version(), "executable": sys.executable, "platform": platform.platform(),
     "hostname": platform.node(), "cpu_count": os.cpu_count(), "git_sha": os.environ.get("GC_SHA"),
     "git_dirty_files": os.environ.get("GC_DIRTY"), "mode": os.environ.get("GC_MODE"),
     "NVIDIA_TF32_OVERRIDE": os.environ.get("NVIDIA_TF32_OVERRIDE")}
try:
    import torch
    e.update(torch=torch.__version__, cuda=torch.version.cuda, cuda_available=torch.cuda.is_available(),
             cudnn=torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
             allow_tf32_matmul=torch.backends.cuda.matmul.allow_tf32, allow_tf32_cudnn=torch.backends.cudnn.allow_tf32)
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        e.update(gpu=p.name, capability=f"{p.major}.{p.minor}", gpu_memory_gib=round(p.total_memory / 2**30, 1),
                 multiprocessors=p.multi_processor_count)
except Exception as x:
    e["torch_error"] = repr(x)
from importlib import metadata
e["packages"] = {}
for n in ("numpy", "safetensors", "rich", "pytest", "pytest-timeout", "pedalboard", "soundfile", "cffi",
          "triton", "mido", "JACK-Client", "ai-edge-litert", "soxr", "sentencepiece", "huggingface_hub"):
    try:
        e["packages"][n] = metadata.version(n)
    except metadata.PackageNotFoundError:
        e["packages"][n] = None
e["numpy"] = e["packages"]["numpy"]
if shutil.which("nvidia-smi"):
    q = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit,"
                        "temperature.gpu,utilization.gpu", "--format=csv,noheader"], capture_output=True, text=True)
    e["nvidia_smi"] = q.stdout.strip() or q.stderr.strip()
    e["driver"] = (q.stdout.split(",")[1].strip() if q.stdout.count(",") >= 1 else None)
    e["nvidia_smi_full"] = subprocess.run(["nvidia-smi"], capture_output=True, text=True).stdout
print(json.dumps(e, indent=1))
EOF

# ---- 2. the carried wheels (never torch) and mrtd from the tree -------------------------------
if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
    step wheels 120 10 -- "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --disable-pip-version-check --target "$WORK/site" "$WHEELS"/*.whl
else
    skip wheels "no wheels in $WHEELS (benchmarks/gpu_wheels.sh makes them)"
fi
step imports 60 5 -- "$PY" -c "
import mrtd.devtools.bench, mrtd.devtools.verify, mrtd.devtools.codec_check, mrtd.devtools.latency
import mrtd.engine.engine, mrtd.engine.build, mrtd.model.mrt2.framestep
import sys; print('mrtd imports ok from', mrtd.__file__, 'on python', sys.version.split()[0])"

# ---- 3. parity on the device: the tiny official references ------------------------------------
step verify_f32 120 20 --stdout "$WORK/json/verify_f32.json" -- "${MRTD[@]}" verify \
    --checkpoint $FIX/mrt2_tiny.safetensors --manifest $FIX/mrt2_tiny.manifest.json \
    --reference $FIX/ref_mrt2_tiny_float32.npz --device "$DEVICE" --dtype float32
step verify_bf16 120 20 --stdout "$WORK/json/verify_bf16.json" -- "${MRTD[@]}" verify \
    --checkpoint $FIX/mrt2_tiny.safetensors --manifest $FIX/mrt2_tiny.manifest.json \
    --reference $FIX/ref_mrt2_tiny_bfloat16.npz --device "$DEVICE" --dtype bfloat16
step verify_encoder 120 20 --stdout "$WORK/json/verify_encoder.json" -- "${MRTD[@]}" verify \
    --checkpoint $FIX/mrt2_tiny.safetensors --encoder $FIX/mrt2_tiny_encoder.safetensors \
    --reference $FIX/ref_mrt2_tiny_encoder.npz --device "$DEVICE"

# ---- 4. speed: random weights of the official shapes, made by mrtd itself ---------------------
BENCH=("${MRTD[@]}" bench --device "$DEVICE" --dtype bfloat16)
step bench_small_graph 180 40 -- "${BENCH[@]}" --size $SMALL ${F_SMALL[@]+"${F_SMALL[@]}"} \
    --json "$WORK/json/bench_small_graph.json"
step bench_small_16streams 180 40 -- "${BENCH[@]}" --size $SMALL --streams 16 "${F_16[@]}" \
    --json "$WORK/json/bench_small_16streams.json"
step bench_base 240 90 -- "${BENCH[@]}" --size $BASE "${F_BASE[@]}" --json "$WORK/json/bench_base.json"

# ---- 5. control-to-audio latency through the real Engine on the device ------------------------
step latency 180 40 -- "$PY" -m mrtd.devtools.latency --size $LAT_SIZE --device "$DEVICE" \
    --trials $LAT_TRIALS --json "$WORK/json/latency.json"

# ---- 6. the CUDA tests: every test file that asks for CUDA, tests named for it ----------------
mapfile -t TFILES < <(grep -rlE 'cuda\.is_available\(\)|needs_cuda|mark\.cuda' tests --include='test_*.py' | sort)
if [ "${#TFILES[@]}" -gt 0 ]; then
    step tests 180 30 -- "$PY" -m pytest -q -p no:cacheprovider -rfEs -k "$TESTS_K" \
        --junitxml="$WORK/json/tests.xml" "${TFILES[@]}"
else
    skip tests "no test file mentions CUDA"
fi

# ---- 7. what the graph buys: the same small step eager ----------------------------------------
step bench_small_nograph 150 40 -- "${BENCH[@]}" --size $SMALL --no-graph "${F_EAGER[@]}" \
    --json "$WORK/json/bench_small_nograph.json"

# ---- 8. Magenta RT v1, when this mrtd has it: parity on the device, then chunk times -----------
if "${MRTD[@]}" verify --help 2>/dev/null | grep -q -- "--family" && [ -d $FIX/v1/checkpoint ]; then
    V1CASES=()
    [ "$MODE" = cpu ] && V1CASES=(--cases partial)
    for d in f32:float32:ref_fp32 bf16:bfloat16:ref_bf16; do
        IFS=: read -r tag dt ref <<<"$d"
        step verify_v1_$tag 150 30 --stdout "$WORK/json/verify_v1_$tag.json" -- "${MRTD[@]}" verify --family v1 \
            --checkpoint $FIX/v1/checkpoint --config $FIX/v1/config.json --reference $FIX/v1/$ref.npz \
            --device "$DEVICE" --dtype "$dt" ${V1CASES[@]+"${V1CASES[@]}"}
    done
else
    skip verify_v1_f32 "mrtd verify has no --family v1 (or no tests/fixtures/v1)"
    skip verify_v1_bf16 "mrtd verify has no --family v1 (or no tests/fixtures/v1)"
fi
BHELP=$("${MRTD[@]}" bench --help 2>/dev/null)
for v in v1_base v1_large; do
    if ! grep -q -- "$v" <<<"$BHELP"; then
        skip bench_$v "mrtd bench --help lists no $v"
    elif [ "$MODE" = cuda ] || [ -n "${MRTD_GPU_CHECK_V1_CPU:-}" ]; then
        step bench_$v 180 60 -- "${BENCH[@]}" --size $v --json "$WORK/json/bench_$v.json"
    elif [ $v = v1_base ]; then  # the dry run: the same v1 path on the tiny reference's dims
        step bench_$v 120 20 -- "${BENCH[@]}" --config $FIX/v1/config.json --chunks 1 --warmup 0 \
            --json "$WORK/json/bench_$v.json"
    else
        skip bench_$v "cpu dry run: v1 sizes are too large here (MRTD_GPU_CHECK_V1_CPU=1 runs them)"
    fi
done

# ---- the end: the step files as one archive, the summary table --------------------------------
tar -C "$WORK" -czf "$OUT/steps.tgz" json logs status 2>>"$LOG"
summary --print | tee -a "$LOG"
say "gpu_check: done in $(( $(date +%s) - T0 ))s; $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
rm -rf "$WORK"
exit 0
