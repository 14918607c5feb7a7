#!/usr/bin/env bash
# One-step set-up of mrtd on Debian/Ubuntu (root or sudo): system packages, PyTorch,
# then mrtd itself. Safe to run again: what is already installed is kept.
#   ./setup.sh          the daemon and its tools
#   ./setup.sh --test   the same plus the test tools (pytest, selenium) and Debian's
#                       chromium and chromium-driver for the browser control surface's tests
#                       (the tests use these system binaries; nothing downloads a browser)
# PyTorch: an existing torch (e.g. a CUDA build you installed) is kept; otherwise
# torch==2.13.0 is installed before mrtd, so pip never pulls a second build.
set -euo pipefail
cd "$(dirname "$0")"

extra=""
testing=""
case "${1:-}" in
    --test) extra="[test]"; testing=1 ;;
    "") ;;
    *) echo "usage: ./setup.sh [--test]" >&2; exit 2 ;;
esac

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PY=${PYTHON:-python3}

need_apt=""
command -v jackd >/dev/null || need_apt="$need_apt jackd2"
command -v oscsend >/dev/null || need_apt="$need_apt liblo-tools"
# a C compiler builds the native int8 kernel of the CPU fast path (mrtd/model/mrt2/int8_kernel.py)
command -v cc >/dev/null || need_apt="$need_apt gcc libc6-dev"
if [ -n "$testing" ]; then
    command -v chromium >/dev/null || need_apt="$need_apt chromium"
    command -v chromedriver >/dev/null || need_apt="$need_apt chromium-driver"
    # a font, so headless Chromium draws text (screenshots) on a minimal system
    dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need_apt="$need_apt fonts-dejavu-core"
fi
if [ -n "$need_apt" ]; then
    echo "setup: installing system packages:$need_apt"
    export DEBIAN_FRONTEND=noninteractive
    echo "jackd2 jackd/tweak_rt_limits boolean false" | $SUDO debconf-set-selections
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
fi

if ! "$PY" -c "import torch" 2>/dev/null; then
    echo "setup: installing torch==2.13.0"
    "$PY" -m pip install -q torch==2.13.0
fi

echo "setup: installing mrtd$extra"
"$PY" -m pip install -q -e ".$extra"
echo "setup: done ($("$PY" -m mrtd --version))"
