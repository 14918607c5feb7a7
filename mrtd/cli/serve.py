"""``mrtd serve``: its options, the TOML config file merged under them, and the checks
that fail before anything starts. Argparse only at import time (no torch)."""

from __future__ import annotations

import argparse
import logging
import math
import secrets
import sys
import tomllib
from typing import Any

from mrtd.constants import DEFAULT_OSC_PORT, DEFAULT_OSCQUERY_PORT
from mrtd.errors import UserError


def add_serve(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "serve", help="run the real-time JACK daemon (audio out, OSC and MIDI in)",
        description="Run MRT2 live: a JACK client (out_L/out_R post-effects, dry_L/dry_R, in_L/in_R, "
        "midi_in) steered over OSC (UDP and TCP on one port), OSCQuery and JACK MIDI. Every option "
        "can also be set in a TOML file (--config); the command line wins.")
    from mrtd.cli.options import add_model_args

    p.add_argument("--config", metavar="FILE.toml", help="daemon config file: any option below, plus "
                   "[controls] (initial OSC values) and [midi.cc] (controller → control)")
    add_model_args(p, config_alias=False, required=False)
    p.add_argument("--latency-ms", type=float, default=None, help="latency budget in ms (default: 80)")
    p.add_argument("--adapt-threads", action="store_true",
                   help="under load (another program taking a core), use fewer CPU threads when that makes "
                   "frames faster, and take them back when it is gone (up to --threads; one voice only). "
                   "float32 rounds differently per thread count, so a take may then re-render equal to "
                   "rounding, not bit for bit")
    g = p.add_argument_group("JACK")
    g.add_argument("--jack-name", default="mrtd", help="JACK client name (default: mrtd)")
    g.add_argument("--jack-server", metavar="NAME", default=None, help="JACK server name (default: $JACK_DEFAULT_SERVER or 'default')")
    g.add_argument("--jack-start", choices=["dummy", "alsa", "net"],
                   help="start a private jackd with this backend (net: a netjack2 slave of --net-master's "
                   "netmanager, so mrtd's ports appear on another machine's JACK; see docs/network.md)")
    g.add_argument("--net-master", metavar="HOST[:PORT]", default=None,
                   help="with --jack-start net: the stage machine's IP address, and netmanager's UDP port if "
                   "not 19000 (default: found by multicast on the LAN)")
    g.add_argument("--connect", nargs="*", metavar="PORT", default=None,
                   help="connect out_L/out_R to these ports (no PORT: the system playback ports)")
    g.add_argument("--voices", type=int, default=1, metavar="N",
                   help="N independent voices from one loaded model, made in one batched step per frame; "
                   "with N > 1 each is its own JACK client NAME-1 .. NAME-N and OSC port (--osc-port + n - 1), "
                   "and /mrtd/voice/<n>/... on the main port (default: 1)")
    g = p.add_argument_group("network")
    g.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    g.add_argument("--osc-port", type=int, default=DEFAULT_OSC_PORT, help=f"OSC UDP and TCP port (default: {DEFAULT_OSC_PORT}; 0 = any)")
    g.add_argument("--oscquery-port", type=int, default=DEFAULT_OSCQUERY_PORT,
                   help=f"OSCQuery HTTP/WebSocket port (default: {DEFAULT_OSCQUERY_PORT}; 0 = any, -1 = off)")
    g.add_argument("--zeroconf", action="store_true", help="advertise OSCQuery with zeroconf (needs the zeroconf package)")
    g.add_argument("--meter-hz", type=float, default=20.0, help="meter rate to OSC subscribers (default: 20)")
    g.add_argument("--token", metavar="TOKEN", default=None,
                   help="with --host beyond this machine: the shared secret another host sends once "
                   "(/mrtd/auth TOKEN) before it may record, save/load banks, prefill or use audio prompts "
                   "(default: a random one, printed at start-up)")
    g.add_argument("--allow-remote-subscribe", action="store_true",
                   help="let /mrtd/subscribe HOST PORT name a host other than the sender's own "
                   "(off: feedback only goes back to where requests come from)")
    g = p.add_argument_group("recording and state")
    g.add_argument("--data-dir", metavar="DIR", default=None,
                   help="the data folder: recordings/, banks/, captures/, prompts/; every file name sent over "
                   "OSC or in [controls] is a name inside one of these (default: $XDG_DATA_HOME/mrtd, "
                   "i.e. ~/.local/share/mrtd)")
    g.add_argument("--record", metavar="FILE.wav", help="record the output (24-bit WAV) from start-up (any path)")
    g.add_argument("--record-events", metavar="FILE", help="write the event log (replay with 'mrtd render --events')")
    g.add_argument("--bank-dir", metavar="DIR", default=None, help="directory of state banks (default: DATA_DIR/banks)")
    g.add_argument("--save-bank-on-exit", type=int, metavar="N", default=0, help="save the state to bank N when stopping")
    g.add_argument("--capture-dir", metavar="DIR", default=None,
                   help="where /mrtd/prefill/input keeps its captured audio (default: DATA_DIR/captures)")
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    p.set_defaults(run=run_serve)
    return p


def load_config(path: str | None, parser_defaults: dict[str, Any]) -> dict[str, Any]:
    """The TOML file: top-level keys are option names (dashes or underscores)."""
    if not path:
        return {}
    try:
        with open(path, "rb") as f:
            raw = f.read(1 << 20)
    except OSError as e:
        raise UserError(f"cannot read config {path}: {e.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"config {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"config {path}: {e}") from None
    for key, value in data.items():
        if isinstance(value, dict):
            if key not in ("controls", "midi"):
                raise UserError(f"config {path}: unknown table [{key}] (known: [controls], [midi.cc])")
            continue
        if key.replace("-", "_") not in parser_defaults or key in ("config", "run"):
            raise UserError(f"config {path}: unknown option {key!r}")
    return data


def _serve_parser(suppress: bool = False) -> argparse.ArgumentParser:
    """The serve options alone (for config merging): with ``suppress`` only the options
    actually given on the command line end up in the namespace."""
    sp = add_serve(argparse.ArgumentParser(prog="mrtd", add_help=False).add_subparsers())
    if suppress:
        for action in sp._actions:
            action.default = argparse.SUPPRESS
    return sp


def _config_value(action: argparse.Action, key: str, value: Any) -> Any:
    """A config value checked like the command line would check it."""
    if action.nargs == "*":
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UserError(f"config: {key} must be a list of port names")
        return value
    if isinstance(action, (argparse._StoreTrueAction, argparse.BooleanOptionalAction)):
        if not isinstance(value, bool):
            raise UserError(f"config: {key} must be true or false")
        return value
    kind = action.type or str
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UserError(f"config: {key} must be a {getattr(kind, '__name__', 'value')}")
    try:
        value = kind(value)
    except (TypeError, ValueError):
        raise UserError(f"config: {key} = {value!r} is not a valid {getattr(kind, '__name__', 'value')}") from None
    if action.choices and value not in action.choices:
        raise UserError(f"config: {key} must be one of {', '.join(map(str, action.choices))}")
    return value


def run_serve(args: argparse.Namespace) -> int:
    actions = {a.dest: a for a in _serve_parser()._actions}
    config = load_config(args.config, {d: a.default for d, a in actions.items()})
    argv = getattr(args, "argv", None) or []
    given = set(vars(_serve_parser(suppress=True).parse_known_args(argv[1:])[0])) if argv else set()
    for key, value in config.items():
        dest = key.replace("-", "_")
        if not isinstance(value, dict) and dest not in given:
            setattr(args, dest, _config_value(actions[dest], key, value))
    chosen = [flag for flag, on in (("--size", args.size), ("--checkpoint", args.checkpoint), ("--demo", args.demo),
                                    ("--demo-random", getattr(args, "demo_random", False))) if on]
    if not chosen:
        raise UserError("give --size NAME, --checkpoint CKPT or --demo (or set one in --config)")
    if len(chosen) > 1:
        raise UserError(f"{' and '.join(chosen)} exclude each other")
    if getattr(args, "net_master", None) is not None:
        if getattr(args, "jack_start", None) != "net":
            raise UserError("--net-master needs --jack-start net (mrtd's own netjack2 slave server)")
        from mrtd.audio.jackd import parse_net_master

        parse_net_master(args.net_master)  # a bad HOST:PORT is said before the model loads
    from mrtd.cli.progress import show_loading_progress
    from mrtd.daemon import Daemon
    from mrtd.engine.build import resolve_device
    from mrtd.remote.hub import is_loopback

    resolve_device(args.device, args.dtype)  # no CUDA here: say so before starting anything
    show_loading_progress()
    from mrtd.daemon import MAX_VOICES

    if args.adapt_threads and args.voices > 1:
        raise UserError("--adapt-threads works with one voice (the voices' batched step runs on whichever "
                        "voice's thread completes a round)")

    if not 1 <= args.voices <= MAX_VOICES:
        raise UserError(f"--voices must be within 1..{MAX_VOICES}, got {args.voices}")
    if args.two_stage and args.voices > 1:
        raise UserError("--two-stage works with one voice (the voices share one batched step)")
    if args.two_stage and args.adapt_threads:
        raise UserError("--adapt-threads and --two-stage exclude each other (two stages keep a fixed thread "
                        "count per stage)")
    if args.adapt_threads:
        args.two_stage = False
    from mrtd.cli.options import resolve_fast_path

    resolve_fast_path(args, args.voices)
    if not math.isfinite(args.meter_hz) or not 10 <= args.meter_hz <= 100:
        raise UserError("--meter-hz must be within 10..100")
    if args.token is not None and not args.token:
        raise UserError("--token must not be empty")
    if not is_loopback(args.host):
        args.token = args.token or secrets.token_urlsafe(16)  # remote file access needs it
    logging.basicConfig(level=args.log_level.upper(), format="mrtd: %(name)s: %(message)s", stream=sys.stderr)
    return Daemon(args, config).run()
