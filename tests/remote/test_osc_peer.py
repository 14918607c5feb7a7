"""liblo's oscsend/oscdump work as the independent OSC peer the daemon tests rely on."""

from __future__ import annotations

from support.liblo import oscsend


def test_oscsend_reaches_oscdump(udp_port, osc_dump):
    dump = osc_dump(udp_port)
    oscsend(udp_port, "/mrtd/test", "ifs", 7, 0.5, "disco")
    msg = dump.wait_for(lambda m: m.address == "/mrtd/test")
    assert msg.types == "ifs"
    assert msg.args[0] == "7" and float(msg.args[1]) == 0.5 and msg.args[2] == '"disco"'


def test_oscsend_over_tcp(osc_port, osc_dump):
    dump = osc_dump(osc_port, tcp=True)
    oscsend(osc_port, "/mrtd/ping", tcp=True)
    assert dump.wait_for(lambda m: m.address == "/mrtd/ping").types == ""
