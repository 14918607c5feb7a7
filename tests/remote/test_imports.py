"""The remote side (hub, OSC, OSCQuery, MIDI) imports without torch: it talks to the
engine through its methods only, so a network or MIDI change never drags the model in."""

from __future__ import annotations

import subprocess
import sys


def test_the_remote_package_imports_no_torch():
    code = ("import sys, mrtd.remote.hub, mrtd.remote.midi, mrtd.remote.loop, mrtd.remote.oscquery, "
            "mrtd.remote.osc.server; assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
