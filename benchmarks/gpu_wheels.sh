#!/usr/bin/env bash
# Downloads the wheels that benchmarks/gpu_check.sh carries to the GPU machine (which
# reaches no package registry), into an ignored folder, and checks what the device call
# would send against its 64 MiB limit.
#
#   bash benchmarks/gpu_wheels.sh                                  # cp312 into gpu_wheels/
#   bash benchmarks/gpu_wheels.sh --python-version 3.11 --dest /tmp/w311   # for a local dry run
#
# Why these: the GPU image already has torch, numpy, safetensors, rich, pytest and
# pytest-timeout (KINDS.md of the device tool), which is all that `mrtd verify` and
# `mrtd bench` import. The real Engine (the latency step and the CUDA engine tests) also
# imports mrtd.effects (pedalboard) and mrtd.engine.prefill (soundfile, which needs cffi
# and pycparser); the image has none of them. JACK-Client, mido, ai-edge-litert and soxr
# are never imported on this path and stay behind. Pinned to the versions the project's
# machines run, one version each (two of one package stop the install).
set -euo pipefail

PYV=3.12
DEST=gpu_wheels
while [ $# -gt 0 ]; do
    case $1 in
        --python-version) PYV=${2:?}; shift 2 ;;
        --dest) DEST=${2:?}; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "gpu_wheels.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

WHEELS=(pedalboard==0.9.26 soundfile==0.14.0 cffi==2.0.0 pycparser==3.0)
PLATFORMS=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 \
         manylinux1_x86_64 any; do
    PLATFORMS+=(--platform "$p")
done
mkdir -p "$DEST"
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$PYV" --implementation cp \
    "${PLATFORMS[@]}" -d "$DEST" "${WHEELS[@]}" 2>&1 | grep -v "is ignored: it is neither" || true
# keep one version of each package: an older download beside a newer one stops the install
for w in "${WHEELS[@]}"; do
    name=${w%%==*}; ver=${w#*==}
    for f in "$DEST"/"$name"-*.whl; do
        [ -e "$f" ] || { echo "gpu_wheels.sh: $name $ver was not downloaded" >&2; exit 1; }
        case $(basename "$f") in "$name-$ver-"*) ;; *) echo "removing $(basename "$f") (not $ver)"; rm -f "$f" ;; esac
    done
done
ls -l "$DEST"/*.whl | awk '{printf "  %8.2f MiB  %s\n", $5 / 1048576, $NF}'
wheels=$(du -cb "$DEST"/*.whl | tail -n 1 | cut -f1)
printf 'wheels: %.1f MiB in %s\n' "$(echo "$wheels / 1048576" | bc -l)" "$DEST"

# what a device call sends: tracked and untracked-not-ignored files, plus the carried folder
if git rev-parse --git-dir >/dev/null 2>&1; then
    tree=$(git ls-files -co --exclude-standard -z | xargs -0 -r stat -c %s 2>/dev/null |
        awk '{s += $1} END {print s + 0}')
    case $(realpath "$DEST") in "$ROOT"/*) carried=$wheels ;; *) carried=0 ;; esac
    total=$(( tree + carried ))
    printf 'device call: working tree %.1f MiB + carried %.1f MiB = %.1f MiB (limit 64 MiB)\n' \
        "$(echo "$tree / 1048576" | bc -l)" "$(echo "$carried / 1048576" | bc -l)" "$(echo "$total / 1048576" | bc -l)"
    if [ "$total" -gt $(( 64 * 1048576 )) ]; then
        echo "gpu_wheels.sh: OVER the device tool's 64 MiB: the call would be refused. Largest files:" >&2
        git ls-files -co --exclude-standard -z | xargs -0 -r du -k 2>/dev/null | sort -rn | head -n 8 >&2 || true
        exit 3
    fi
fi
