"""The hub on a real demo engine: OSC address patterns, the token for remote file access,
and errors found on a message's frame going back to its sender."""

from __future__ import annotations

from pathlib import Path

import pytest

from mrtd.engine.demo import build_demo
from mrtd.engine.engine import Engine
from mrtd.errors import UserError
from mrtd.osc_schema import NAMESPACE, SchemaError
from mrtd.remote.hub import Hub, Sender


@pytest.fixture(scope="module")
def demo():
    return build_demo()


@pytest.fixture
def hub(demo, tmp_path: Path) -> Hub:
    return Hub(Engine(*demo, bank_dir=tmp_path / "banks"))


def test_patterns_follow_osc_1_0():
    def match(p: str) -> list[str]:
        return [x.address for x in NAMESPACE.match(p)]

    assert match("/mrtd/fx/*/on") == [f"/mrtd/fx/{n}/on" for n in
                                      ("filter", "drive", "chorus", "delay", "reverb", "compressor", "limiter", "gain")]
    assert match("/mrtd/prompt/[1-2]/weight") == ["/mrtd/prompt/1/weight", "/mrtd/prompt/2/weight"]
    assert match("/mrtd/prompt/[!1-7]/weight") == ["/mrtd/prompt/8/weight"]
    assert match("/mrtd/prompt/{3,5}/clear") == ["/mrtd/prompt/3/clear", "/mrtd/prompt/5/clear"]
    assert match("/mrtd/temp?rature") == ["/mrtd/temperature"]
    assert match("/mrtd/*/on") == ["/mrtd/note/on"]  # no wildcard crosses a /: not /mrtd/fx/x/on
    assert "/mrtd/style/tokens" not in match("/mrtd/style/*")  # read-only addresses cannot be sent
    for bad in ("/mrtd/[1-", "/mrtd/{a", "/mrtd/a]", "/mrtd/[9-1]", "mrtd/*"):
        with pytest.raises(SchemaError):
            NAMESPACE.match(bad)


def test_a_pattern_sets_every_matching_address_on_one_frame(hub):
    e = hub.engine
    assert hub.handle("/mrtd/fx/{reverb,delay}/on", [1]) is None
    hub.handle("/mrtd/prompt/[2-3]/weight", [0.5])
    e.step_frame()
    assert e.value("/mrtd/fx/reverb/on") == (True,) and e.value("/mrtd/fx/delay/on") == (True,)
    assert e.value("/mrtd/fx/chorus/on") == (False,)
    assert [e.value(f"/mrtd/prompt/{n}/weight")[0] for n in (1, 2, 3, 4)] == [1.0, 0.5, 0.5, 0.0]
    frames = {ev.frame for ev in e.applied if ev.address.startswith("/mrtd/fx/")}
    assert len(frames) == 1


def test_a_pattern_is_refused_as_a_whole_when_nothing_matches_or_values_do_not_fit(hub):
    with pytest.raises(UserError, match="no address matches"):
        hub.handle("/mrtd/nothing/*", [1])
    with pytest.raises(UserError, match=r"/mrtd/guidance/\*: /mrtd/guidance/style: .*out of range"):
        hub.handle("/mrtd/guidance/*", [99.0])
    with pytest.raises(UserError, match="unclosed"):
        hub.check("/mrtd/fx/[abc/on", [1])
    hub.check("/mrtd/fx/*/on", [1])  # a valid pattern passes the check without applying
    hub.engine.step_frame()
    assert hub.engine.value("/mrtd/fx/filter/on") == (False,)


def test_remote_file_access_needs_the_token(hub):
    remote = Sender("192.0.2.7")  # a documentation address: no traffic goes anywhere
    local = Sender("127.0.0.1")
    hub.handle("/mrtd/bank/save", [1], sender=remote)  # no token set: a loopback-only daemon
    hub.token = "s3cret"
    hub.handle("/mrtd/temperature", [1.0], sender=remote)  # playing needs no token
    for address, args in (("/mrtd/bank/save", [2]), ("/mrtd/record/start", ["x.wav"]),
                          ("/mrtd/prefill/audio", ["x.wav"]), ("/mrtd/prompt/1/audio", ["x.wav"]),
                          ("/mrtd/fx/*/on", [1]), ("/mrtd/bank/*", [3])):
        if address == "/mrtd/fx/*/on":
            hub.handle(address, args, sender=remote)
            continue
        with pytest.raises(UserError, match="/mrtd/auth"):
            hub.handle(address, args, sender=remote)
    hub.handle("/mrtd/bank/save", [2], sender=local)  # this machine needs none
    hub.handle("/mrtd/bank/save", [2])  # nor does the operator's config file
    with pytest.raises(UserError, match="wrong token"):
        hub.handle("/mrtd/auth", ["guess"], sender=remote)
    with pytest.raises(UserError, match="/mrtd/auth"):
        hub.handle("/mrtd/bank/save", [2], sender=remote)
    hub.handle("/mrtd/auth", ["s3cret"], sender=remote)
    hub.handle("/mrtd/bank/save", [2], sender=remote)
    with pytest.raises(UserError, match="/mrtd/auth"):  # authorisation is per host
        hub.handle("/mrtd/bank/save", [2], sender=Sender("192.0.2.8"))


def test_an_error_found_on_the_frame_goes_back_to_its_sender(hub, tmp_path):
    got: list[tuple[str, str]] = []
    told: list[tuple[str, tuple]] = []
    hub.add_listener(lambda a, v: told.append((a, v)))
    banks = tmp_path / "banks"
    banks.mkdir(parents=True, exist_ok=True)
    (banks / "bank_009.safetensors").write_bytes(b"not a bank")
    hub.handle("/mrtd/bank/load", [9], sender=Sender("127.0.0.1", lambda a, r: got.append((a, r))))
    hub.engine.step_frame()
    assert got and got[0][0] == "/mrtd/bank/load" and "not a readable bank" in got[0][1]
    assert ("/mrtd/error", got[0]) in told  # and the subscribers hear it too
    with pytest.raises(UserError, match="bank 7 is empty"):  # a missing bank: refused at once
        hub.handle("/mrtd/bank/load", [7], sender=Sender("127.0.0.1"))
