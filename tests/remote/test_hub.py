"""The hub on a real demo engine: routing to the daemon's handlers or the engine, the
button convention, bundles, reading state back, listeners and the schema's echoes, OSC
address patterns, the token for remote file access, and errors found on a message's
frame going back to its sender. No network: the hub is called directly, and the engine's
frames are stepped by hand (no generation thread), so every assertion is exact."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.errors import ControlError, UserError
from mrtd.osc_schema import NAMESPACE, SchemaError
from mrtd.remote.hub import Hub, Sender


@pytest.fixture(scope="module")
def demo():
    return build_random_demo()


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


def test_voices_share_one_token_and_one_set_of_authorised_hosts(hub, demo, tmp_path):
    """``--voices N``: a host that sent the token to any voice may use every voice's files."""
    hub.token = "s3cret"
    two = Hub(Engine(*demo, bank_dir=tmp_path / "banks-2"))
    two.share_auth(hub)
    remote = Sender("192.0.2.7")
    with pytest.raises(UserError, match="/mrtd/auth"):
        two.handle("/mrtd/bank/save", [1], sender=remote)
    two.handle("/mrtd/auth", ["s3cret"], sender=remote)  # told to voice 2 ...
    hub.handle("/mrtd/bank/save", [1], sender=remote)  # ... good for voice 1 too
    two.handle("/mrtd/bank/save", [1], sender=remote)


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


# --------------------------------------------------------------------------- helpers


def listen(hub: Hub) -> list[tuple[str, tuple]]:
    told: list[tuple[str, tuple]] = []
    hub.add_listener(lambda a, v: told.append((a, v)))
    return told


def applied_since(hub: Hub, n: int) -> list[tuple[int, str, tuple]]:
    return [(ev.frame, ev.address, ev.args) for ev in list(hub.engine.applied)[n:]]


def step_until(hub: Hub, done: Callable[[], bool], timeout: float = 10.0) -> None:
    """Step frames until ``done()``: work parked on the engine's file thread (bank
    saves and loads) lands on a later frame than the one it was due on."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out stepping frames"
        hub.engine.step_frame()
        time.sleep(0.01)


# --------------------------------------------------------------------------- routing


def test_daemon_controls_go_to_their_handler_at_once_and_engine_controls_wait_for_a_frame(hub):
    got: list[tuple] = []
    hub.register("/mrtd/midi/channel", got.append, lambda: (5,))
    told = listen(hub)
    n = len(hub.engine.applied)
    assert hub.handle("/mrtd/midi/channel", [3]) == (3,)
    assert got == [(3,)] and told == [("/mrtd/midi/channel", (3,))]  # applied and told at once
    assert hub.value("/mrtd/midi/channel") == (5,)  # read back through the getter
    assert hub.handle("/mrtd/temperature", [1.7]) == (1.7,)
    assert told == [("/mrtd/midi/channel", (3,))]  # the engine's share waits for its frame
    hub.engine.step_frame()
    assert ("/mrtd/temperature", (1.7,)) in told and hub.value("/mrtd/temperature") == (1.7,)
    assert [a for _, a, _ in applied_since(hub, n)] == ["/mrtd/temperature"]  # the handler's is not the engine's


def test_an_address_nobody_registered_is_refused_and_register_knows_only_the_schema(hub):
    with pytest.raises(ControlError, match="not an engine control") as e:
        hub.handle("/mrtd/midi/channel", [3])
    assert e.value.address == "/mrtd/midi/channel"
    with pytest.raises(KeyError):
        hub.register("/mrtd/not/an/address", lambda v: None)


def test_a_refused_daemon_control_changes_nothing_and_tells_nobody(hub):
    calls: list[tuple] = []
    hub.register("/mrtd/midi/channel", calls.append)
    told = listen(hub)
    with pytest.raises(ControlError, match="out of range") as e:
        hub.handle("/mrtd/midi/channel", [17])
    assert e.value.address == "/mrtd/midi/channel" and calls == [] and told == []

    def refuse(values: tuple) -> None:
        raise ControlError("/mrtd/midi/channel", "the device is gone")

    hub.register("/mrtd/midi/channel", refuse)
    with pytest.raises(ControlError, match="the device is gone"):
        hub.handle("/mrtd/midi/channel", [2])
    assert told == []


def test_with_sender_handlers_get_who_sent_the_message(hub):
    got: list[tuple] = []
    hub.register("/mrtd/record/start", lambda values, sender: got.append((values, sender)), with_sender=True)
    hub.register("/mrtd/record/stop", lambda values: got.append((values,)))
    alice = Sender("127.0.0.1", lambda a, r: None, ("udp", "127.0.0.1", 5000))
    hub.handle("/mrtd/record/start", ["take.wav"], sender=alice)
    hub.handle("/mrtd/record/start", ["again.wav"])  # the operator (config file): no sender
    hub.handle("/mrtd/record/stop", [], sender=alice)  # a plain handler gets only the values
    assert got == [(("take.wav",), alice), (("again.wav",), None), ((),)]


# --------------------------------------------------------------------------- the button convention


def test_buttons_press_with_a_non_zero_number_and_release_with_zero(hub):
    e = hub.engine
    n = len(e.applied)
    assert hub.handle("/mrtd/reset", [0]) is None  # release: ignored
    assert hub.handle("/mrtd/reset", [0.0]) is None
    e.step_frame()
    assert applied_since(hub, n) == []
    assert hub.handle("/mrtd/reset", [1]) == ()  # press: the trigger, without arguments
    e.step_frame()
    assert [(a, v) for _, a, v in applied_since(hub, n)] == [("/mrtd/reset", ())]
    assert hub.handle("/mrtd/reset", [0.5]) == () and hub.handle("/mrtd/reset", []) == ()


def test_a_nan_button_is_refused_and_a_bool_is_not_a_button_value(hub):
    n = len(hub.engine.applied)
    with pytest.raises(ControlError, match="NaN") as e:
        hub.handle("/mrtd/reset", [math.nan])
    assert e.value.address == "/mrtd/reset"
    with pytest.raises(UserError, match="expected 0 arguments"):
        hub.handle("/mrtd/reset", [True])  # a bool stays an argument: the schema refuses it
    hub.engine.step_frame()
    assert applied_since(hub, n) == []
    assert Hub.button_args("/mrtd/temperature", [0]) == [0]  # only argument-less events are buttons


def test_a_daemon_button_release_never_reaches_its_handler(hub):
    calls: list[tuple] = []
    hub.register("/mrtd/record/stop", calls.append)
    told = listen(hub)
    assert hub.handle("/mrtd/record/stop", [0]) is None
    assert calls == [] and told == []
    hub.handle("/mrtd/record/stop", [1])
    assert calls == [()] and told == [("/mrtd/record/stop", ())]


# --------------------------------------------------------------------------- bundles


def test_a_bundle_lands_on_one_frame_and_a_bad_message_does_not_stop_the_others(hub):
    e = hub.engine
    channel: list[tuple] = []
    hub.register("/mrtd/midi/channel", channel.append)
    n = len(e.applied)
    target = e.frame + 3
    results = hub.handle_many([("/mrtd/temperature", [1.5]), ("/mrtd/topk", [5000]), ("/mrtd/midi/channel", [4]),
                               ("/mrtd/no/such", [1]), ("/mrtd/topk", [7]), ("/mrtd/reset", [0])], target)
    assert results[0] == (1.5,) and results[2] == (4,) and results[4] == (7,) and results[5] is None
    assert isinstance(results[1], ControlError) and results[1].address == "/mrtd/topk"
    assert "out of range" in results[1].reason
    assert isinstance(results[3], UserError)
    assert channel == [(4,)]  # the daemon's share: at once
    while e.frame <= target:
        e.step_frame()
    assert applied_since(hub, n) == [(target, "/mrtd/temperature", (1.5,)), (target, "/mrtd/topk", (7,))]


def test_handle_many_returns_errors_and_handle_raises_them(hub):
    results = hub.handle_many([("/mrtd/temperature", [9.0])])
    assert isinstance(results[0], ControlError) and results[0].address == "/mrtd/temperature"
    with pytest.raises(ControlError) as e:
        hub.handle("/mrtd/temperature", [9.0])
    assert e.value.reason == results[0].reason


# --------------------------------------------------------------------------- state out


def test_value_status_and_meters(hub, demo, tmp_path):
    e = hub.engine
    assert hub.value("/mrtd/temperature") == e.value("/mrtd/temperature")
    assert hub.value("/mrtd/frame") == (e.frame,)
    assert hub.value("/mrtd/reset") is None and hub.value("/mrtd/no/such") is None
    assert hub.meters()[:4] == (0.0, 0.0, 0.0, 0.0)  # no audio side: silent levels
    hub.levels = lambda: (0.5, 0.25, 0.125, 0.0625)
    m = hub.meters()
    assert m[:4] == (0.5, 0.25, 0.125, 0.0625) and hub.value("/mrtd/meters") == m
    assert m[4:] == (float(e.status()["fps"]), float(e.status()["queued_ms"]))

    s = hub.status()
    assert s["device"] == "cpu" and s["xruns"] == 0 and s["model"] == e.status()["model"]

    class Clock:
        def stream_sample_at(self, t_wall: float) -> int | None:
            return None if t_wall < 0 else 48000

        def status(self) -> dict:
            return {"xruns": 3, "jack": "dummy"}

    other = Hub(Engine(*demo, bank_dir=tmp_path / "other"), device="cuda:0")
    assert other.frame_for_time(time.time()) is None  # no clock: cannot map
    other.clock = Clock()
    s = other.status()
    assert s["device"] == "cuda:0" and s["xruns"] == 3 and s["jack"] == "dummy"
    assert other.frame_for_time(-1.0) is None
    assert other.frame_for_time(1.0) == other.engine.frame_for_sample(48000)


def test_prompt_weights_echo_each_slot_weight_and_the_style_tokens(hub):
    told = listen(hub)
    hub.handle("/mrtd/prompt/weights", [0.2, 0.3])
    hub.engine.step_frame()
    slots = [(f"/mrtd/prompt/{n}/weight", (w,)) for n, w in zip(range(1, 9), (0.2, 0.3, 0, 0, 0, 0, 0, 0))]
    assert told[0] == ("/mrtd/prompt/weights", (0.2, 0.3))
    assert [(a, pytest.approx(v)) for a, v in told[1:9]] == slots
    assert told[9] == ("/mrtd/style/tokens", hub.value("/mrtd/style/tokens")) and len(told) == 10


def test_a_bank_load_echoes_every_readable_setting(hub):
    hub.register("/mrtd/midi/channel", lambda v: None, lambda: (7,))  # a daemon setting is echoed too
    hub.handle("/mrtd/temperature", [2.0])
    hub.handle("/mrtd/bank/save", [3])
    told = listen(hub)
    step_until(hub, lambda: ("/mrtd/bank/save", (3,)) in told)
    hub.handle("/mrtd/temperature", [1.0])
    hub.engine.step_frame()
    told.clear()
    hub.handle("/mrtd/bank/load", [3])
    step_until(hub, lambda: any(a == "/mrtd/bank/load" for a, _ in told))
    assert hub.value("/mrtd/temperature") == (2.0,)
    i = [a for a, _ in told].index("/mrtd/bank/load")
    echoed = dict(told[i + 1:])
    readable = {p.address for p in NAMESPACE if p.access == "rw" and hub.value(p.address) is not None}
    assert readable <= set(echoed) and echoed["/mrtd/temperature"] == (2.0,) and echoed["/mrtd/midi/channel"] == (7,)
    assert "/mrtd/bank/load" not in echoed and "/mrtd/style/tokens" not in echoed  # rw only


def test_a_failing_listener_does_not_stop_the_others(hub, caplog):
    def broken(address: str, values: tuple) -> None:
        raise RuntimeError("listener bug")

    hub.add_listener(broken)
    told = listen(hub)
    hub.register("/mrtd/midi/channel", lambda v: None)
    hub.handle("/mrtd/midi/channel", [2])
    hub.handle("/mrtd/prompt/weights", [0.5])
    hub.engine.step_frame()  # the engine thread's notifications survive it too
    assert told[0] == ("/mrtd/midi/channel", (2,))
    assert ("/mrtd/prompt/weights", (0.5,)) in told and ("/mrtd/prompt/1/weight", (0.5,)) in told
    assert "listener bug" in caplog.text
    hub.remove_listener(broken)
    caplog.clear()
    hub.handle("/mrtd/midi/channel", [3])
    assert told[-1] == ("/mrtd/midi/channel", (3,)) and "listener bug" not in caplog.text
