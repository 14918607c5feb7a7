"""Render the OSC reference (``docs/osc.md``) from the schema.

The reference is generated, never edited by hand, so it cannot drift from what the
daemon accepts: ``python -m mrtd.devtools.docs > docs/osc.md`` writes it and a test
fails when the committed copy is stale. The repetitive parts are folded: the eight
prompt slots become one ``/mrtd/prompt/N/...`` entry each, and every effect's
parameters one table. Output is deterministic (no dates, no environment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mrtd.constants import DEFAULT_OSC_PORT, DEFAULT_OSCQUERY_PORT
from mrtd.osc_schema.namespace import NAMESPACE
from mrtd.osc_schema.schema import Arg, Namespace, Param

REGENERATE = "python -m mrtd.devtools.docs > docs/osc.md"

GROUP_TITLES = {
    "prompts": "Style prompts",
    "notes": "Notes and drums",
    "sampling": "Sampling and guidance",
    "transport": "Transport and output",
    "effects": "Effects",
    "tempo": "Tempo and quantise",
    "scenes": "Scenes",
    "lfos": "LFOs (modulation lanes)",
    "loops": "Loops and rewind",
    "recording": "Recording",
    "daemon": "Daemon and feedback",
}

ACCESS_WORDS = {
    "rw": "set and read back",
    "r": "read-only: mrtd sends it",
    "w": "set only (cannot be read back)",
    "event": "event (an action; nothing is stored)",
}

_SLOT = re.compile(r"^/mrtd/prompt/(\d+)/")
_FX = re.compile(r"^/mrtd/fx/([a-z_]+)/([a-z_]+)$")
_LONG_LIST = 16  # longer argument lists get a [prepend] example instead of a literal one

INTRO = """\
# mrtd OSC reference

<!-- Generated from mrtd/osc_schema/namespace.py by `{regen}`. Do not edit by hand. -->

Every address mrtd understands, generated from the one schema in
`mrtd/osc_schema/` (`python -m mrtd.osc_schema` prints it as JSON). Everything lives
under `/mrtd`.

## Connecting

- The daemon listens for OSC on **UDP and TCP on the same port**: `mrtd serve --osc-port`,
  default {osc_port}. It listens on 127.0.0.1 (this machine only) unless `--host` says
  otherwise. TCP takes OSC 1.0 size-prefixed or OSC 1.1 SLIP framing.
- From Max: `[udpsend 127.0.0.1 {osc_port}]` sends a message box such as `/mrtd/temperature 1.3`
  as OSC (the first word is the address). Stream a number box through
  `[prepend /mrtd/temperature]`. Receive replies with `[udpreceive MYPORT]` after sending
  `/mrtd/subscribe MYPORT`.
- Each message takes effect at the next **frame boundary** (one frame = 40 ms, 25 per
  second). A bundle whose timetag lies in the future is applied at the frame that plays
  at that time (at most a minute ahead); immediate or past timetags mean "the next
  frame". The messages of one bundle land on the same frame.

## Argument types

Controllers disagree on types, so each argument accepts what a controller plausibly sends
and mrtd converts it. Out-of-range values are **refused, not clipped**: nothing changes
and an error comes back.

| argument | mrtd sends | mrtd accepts |
| --- | --- | --- |
| float | `f` | `f`, `d`, `i`, `h` (any finite number; ints are fine, as Max sends them) |
| int | `i` | `i`, `h`, `f`, `d` (floats are rounded to the nearest whole number, as TouchOSC sends them) |
| bool | `i` 0/1 | `T`/`F`, or 0/1 as any number type |
| enum | `s` (the name) | the name, or its index from 0 as a number |
| string | `s` | `s` (with a byte limit) |
| blob | `b` | `b` (with a byte limit) |

NaN and infinity are refused. In signatures below, `f:gain` is a float named gain;
`×12` means the argument repeats 12 times, `×1..8` between 1 and 8 times.

## Files

Every file an OSC message names is a **name inside the daemon's data folder**
(`mrtd serve --data-dir`, default `~/.local/share/mrtd`): audio prompts and prefill read
from `prompts/` (`/mrtd/prompt/1/audio loops/intro.wav` is
`~/.local/share/mrtd/prompts/loops/intro.wav`), recordings and event logs are written to
`recordings/`, banks live in `banks/`, input captures in `captures/`. Absolute paths, `..`,
control characters and symbolic links that lead out of a folder are refused, and so are
FIFOs, devices, folders and files over 512 MiB. A recording never replaces an existing
file unless the message says so (`/mrtd/record/start take.wav 1`). Files are read and
encoded off the audio path: a prefill lands on the first frame after its file is ready.

## Address patterns

OSC 1.0 address patterns work for every address you can send: `*` (any run of characters
within one part), `?` (one character), `[1-4]` / `[!1-4]` (a character class) and
`{{reverb,delay}}` (a choice). `/mrtd/fx/*/on 0` switches every effect off, all on one
frame; `/mrtd/prompt/[2-8]/weight 0` parks slots 2 to 8. A pattern that matches nothing is
answered with `/mrtd/error`. Ping, status, get and (un)subscribe take plain addresses.

## Security

Anyone who can send to the OSC or OSCQuery port can play and steer the daemon: that is
what it is for. By default it listens on 127.0.0.1 only, so that means programs on this
machine. With `mrtd serve --host` set beyond loopback (say `0.0.0.0` for a LAN), it warns
at start-up, and a sender on **another host** must first send `/mrtd/auth TOKEN` (the token
is printed at start-up, or set with `--token`) before it may use recording, banks, prefill
or audio prompts; playing needs no token. `/mrtd/subscribe HOST PORT` may only name the
sender's own host (`--allow-remote-subscribe` lifts that). Connections are bounded:

- TCP: at most 64 connections; a new one makes room by closing the least recently active.
  A frame begun and not finished within 10 s closes its connection, and so does an hour
  without a message (a subscribed connection that reads its feedback stays). A connection
  closed this way is told `/mrtd/error "" "connection closed: …"` first.
- Subscribers: at most 32; a new one makes room by ending the one heard from least recently
  (its last subscribe, or any message from it or its host), which is told
  `/mrtd/error /mrtd/subscribe "subscription ended: …"`. A subscriber whose port is gone
  (ICMP port unreachable) is dropped. Nothing expires with time.
- OSCQuery: at most 128 connections; a new one closes the oldest idle HTTP connection,
  else it gets `503`. A request's headers must arrive within 10 s, the next request on a
  kept-alive connection within 15 s. At most 64 websockets; beyond that the upgrade gets
  `503`. Errors found when a websocket's message is applied go back to that websocket,
  and a bundle's messages land on one frame; time tags more than 60 s ahead are refused.

Run the daemon as an ordinary user, not as root.

## Replies and errors

- A refused message changes nothing and is answered with
  **`/mrtd/error <address> <reason>`** (two strings), for example
  `/mrtd/error /mrtd/temperature "temperature: 9 is out of range [0, 4]"`. This also holds
  for what is found only when the message is applied on its frame (a bank file that does
  not read, a prefill file that does not decode, a disk that is full): the error goes back
  to the sender, and to the subscribers.
- Replies (`/mrtd/pong`, `/mrtd/status`, `/mrtd/get` answers, `/mrtd/subscribed`, errors)
  go back to the sender (its UDP source port, or the same TCP connection) and to every
  subscriber registered from the sender's host. Max's `[udpsend]` sends from a throwaway
  port, so subscribe your `[udpreceive]` port once and replies arrive there.
- `/mrtd/get <address>` answers with the address and its current value, as if it had
  been set: `/mrtd/get /mrtd/temperature` gets `/mrtd/temperature 1.3` back.

## Feedback

- `/mrtd/subscribe PORT` (or `/mrtd/subscribe HOST PORT`) sends every state change to
  that port, whoever caused it (OSC, MIDI, a bank load), so faders follow each other. It
  starts with a snapshot of the current state; `/mrtd/meters` and `/mrtd/frame` follow at
  `mrtd serve --meter-hz`. `/mrtd/unsubscribe` stops it. A subscription lasts until it is
  unsubscribed, its port stops existing, or the table is full (32) and it is the one
  heard from least recently: subscribing again now and then keeps it fresh.
- State is what the entries below mark "set and read back" or "read-only".

## Voices

`mrtd serve --voices N` runs N independent voices, each with its own controls, prompts,
effects, queue, bank slot and event log. Every voice speaks the whole namespace below,
reachable two ways:

- **On its own port**: voice n listens on UDP and TCP port P + n − 1, where P is
  `--osc-port` (by default voice 1 on {osc_port}, voice 2 on {osc_port2}, …), with the plain
  `/mrtd/...` addresses: a Max patch or TouchOSC layout made for one voice works on any
  voice by changing the port. Voice 1's port is the main port, as with one voice.
- **By address, on the main port**: `/mrtd/voice/<n>/<rest>` is `/mrtd/<rest>` for voice n:
  `/mrtd/voice/2/temperature 1.3`, `/mrtd/voice/2/fx/*/on 0` (patterns work after the voice
  number, not in it). `/mrtd/...` without a voice is voice 1; so is `/mrtd/voice/1/...`.

What comes back for the voice form is what the voice's own port would send, with `/mrtd/`
replaced by `/mrtd/voice/<n>/` in the address and in the address an error names:

| sent to the main port | answered |
| --- | --- |
| `/mrtd/voice/2/get /mrtd/temperature` | `/mrtd/voice/2/temperature 1.3` |
| `/mrtd/voice/2/ping` | `/mrtd/voice/2/pong` |
| `/mrtd/voice/2/status` | `/mrtd/voice/2/status …` (voice 2's figures) |
| `/mrtd/voice/2/temperature 9` | `/mrtd/voice/2/error /mrtd/voice/2/temperature "…out of range…"` |
| `/mrtd/voice/2/subscribe 9100` | `/mrtd/voice/2/subscribed 127.0.0.1 9100`, then voice 2's state, its changes, `/mrtd/voice/2/meters` and `/mrtd/voice/2/frame` on port 9100 |

So one prefix match catches everything of voice 2, errors included: Max's
`[OSC-route /mrtd/voice/2]` (CNMAT) passes it on as `/temperature 1.3`, `/error …`, just
as `[OSC-route /mrtd]` does for a plain patch. The argument of `get` stays plain: it names
an address of that voice.

- Replies go to the sender and to the subscribers **of that voice** registered from the
  sender's host: subscribe your receive port to each voice you talk to
  (`/mrtd/voice/2/subscribe 9100`). The same port may also hold a plain subscription; the
  two are kept apart, each in its own form. Subscriptions made on a voice's own port get
  plain addresses. No subscription may point at one of the daemon's voice ports.
- A voice that does not exist is refused from the main port, in the plain form:
  `/mrtd/error /mrtd/voice/9/temperature "no voice 9: this daemon has voices 1..3 …"` (also
  for 0, `02`, `two` or a pattern in the voice number); nothing changes anywhere.
- A bundle may mix voices: each voice's messages land together on one frame of that voice.
  The voices run in lockstep, so a time tag means the same frame in each.
- OSCQuery shows each voice's copy of the tree under `/mrtd/voice/<n>/` (voice 1's too),
  with that voice's values; LISTEN and OSC frames work on those paths, answered in the
  voice form. The `/mrtd/voice/<n>` node's `DESCRIPTION` names the voice's own OSC port, and
  `GET /?HOST_INFO` lists them as `MRTD_VOICE_OSC_PORTS` (voice 1's first). The control
  surface gets a voice selector; `/ui/?voice=2` opens it on voice 2.
- One token for the whole daemon: a host that sent `/mrtd/auth TOKEN` to any voice, on any
  port or in either form, may use the guarded addresses (files) of every voice.
- With one voice (the default) there are no `/mrtd/voice/...` addresses.

## OSCQuery

The daemon also serves its namespace over **OSCQuery**, HTTP and WebSocket on one port
(`mrtd serve --oscquery-port`, default {oscquery_port}; `--zeroconf` advertises it as
`_oscjson._tcp.`), generated from the same schema:

- `GET /` is the whole tree; `GET /mrtd/temperature` one node; `GET /mrtd/temperature?VALUE`
  one attribute; `GET /?HOST_INFO` the OSC port and the supported extensions.
- Attributes: `TYPE`, `ACCESS` (3 set and read back, 1 read-only, 2 set only or event),
  `VALUE`, `RANGE` (`MIN`/`MAX`, or `VALS` for enums), `DESCRIPTION`, `UNIT`, `TAGS` (the
  group name). No `CLIPMODE`: out-of-range values are refused, not clipped.
- `TYPE` expands repeated arguments: `/mrtd/notes/frame` is 128 × `i`. Where the count
  varies, readable addresses give the longest form (it matches `VALUE`), the others the
  shortest; the accepted counts are listed below. Addresses without arguments have no `TYPE`.
- WebSocket: send `{{"COMMAND":"LISTEN","DATA":"/mrtd/temperature"}}` as a text frame and
  every change of that address arrives as a binary frame holding the OSC message;
  `IGNORE` stops it. Binary frames you send are OSC messages to apply, answered with
  `/mrtd/error` when refused. `/mrtd/meters` and `/mrtd/frame` stream at 10 Hz.
"""


@dataclass
class _Entry:
    """One documented address: a plain param, or one standing for all prompt slots."""

    address: str
    params: list[Param]

    @property
    def first(self) -> Param:
        return self.params[0]


# --------------------------------------------------------------------------- formatting


def _num(x: float | int) -> str:
    if isinstance(x, bool):
        return "1" if x else "0"
    if isinstance(x, float):
        return f"{x:g}"
    return str(x)


def _value(v: Any) -> str:
    if isinstance(v, str):
        return f'"{v}"' if v == "" or " " in v else v
    return _num(v)


def _values(vals: tuple[Any, ...]) -> str:
    if len(vals) > 3 and len(set(vals)) == 1:
        return f"`{_value(vals[0])}` × {len(vals)}"
    return "`" + " ".join(_value(v) for v in vals) + "`" if vals else "(none)"


def _count(p: Param) -> str:
    lo, hi = p.min_count or 0, p.max_count
    return f"×{hi}" if lo == hi else f"×{lo}..{hi}"


def signature(p: Param, args: tuple[Arg, ...] | None = None, address: str | None = None) -> str:
    """``/mrtd/x f:name i:other×12``: the address, then each argument's type and name."""
    args = p.args if args is None else args
    parts = [f"{a.osc_type}:{a.name}" for a in args]
    if args is p.args and p.repeats and parts:
        parts[-1] += _count(p)
    return " ".join([address or p.address, *parts])


def describe_arg(a: Arg) -> str:
    """What one argument takes, in words: range, choices, unit, limits."""
    if a.kind in ("float", "int"):
        lo = "−∞" if a.min is None else _num(a.min)
        hi = "∞" if a.max is None else _num(a.max)
        text = f"{a.kind} {lo} … {hi}"
    elif a.kind == "bool":
        text = "bool: 0/1 or T/F"
    elif a.kind == "enum":
        text = "one of " + ", ".join(f"`{c}`" for c in a.choices) + f" (or 0..{len(a.choices) - 1})"
    elif a.kind == "string":
        text = f"string, up to {a.max_bytes} bytes" if a.max_bytes else "string"
    else:
        text = f"blob, up to {a.max_bytes} bytes" if a.max_bytes else "blob"
    return text + (f" {a.unit}" if a.unit else "")


# plausible example values by argument name (a chord for repeated pitches)
_EXAMPLES: dict[str, tuple[str, ...]] = {
    "pitch": ("60", "64", "67"), "velocity": ("100",), "state": ("2",), "port": ("7400",),
    "bank": ("1",), "seconds": ("10",), "host": ("127.0.0.1",), "path": ("loops/intro.wav",),
    "address": ("/mrtd/temperature",), "text": ("disco funk",),
}


def _example_value(a: Arg, k: int = 0) -> str:
    named = _EXAMPLES.get(a.name)
    if named is not None:
        word = named[k % len(named)]
        return f'"{word}"' if " " in word else word
    if a.kind == "float":
        lo, hi = a.min or 0.0, a.max if a.max is not None else 1.0
        return _num(round(lo + (hi - lo) / 2, 3))
    if a.kind == "int":
        lo, hi = int(a.min or 0), int(a.max if a.max is not None else 100)
        return str(lo + (k * 37 + 5) % (hi - lo + 1)) if hi > lo else str(lo)
    if a.kind == "bool":
        return "1"
    if a.kind == "enum":
        return a.choices[-1]
    return "disco" if a.kind == "string" else ""


def max_example(p: Param, address: str | None = None) -> str:
    """A line a Max user can type into a message box (or the [prepend] to use)."""
    addr = address or p.address
    if any(a.kind == "blob" for a in p.args):
        return "not sendable from a Max message box (it needs a blob)"
    n = len(p.args) - 1 + (p.max_count or 1) if p.repeats else len(p.args)
    if p.repeats and (p.min_count or 0) > _LONG_LIST:
        return f"a {n}-element list into `[prepend {addr}]`"
    if p.default is not None and p.access == "rw" and len(p.default) == n and n <= _LONG_LIST:
        words = [_value(v) for v in p.default]
        if words and words[0] == '""':
            words = [_example_value(p.args[0])]
    else:
        fixed = len(p.args) - 1
        count = n if not p.repeats else fixed + min(max(p.min_count or 1, 3), p.max_count or 3)
        words = [_example_value(p.args[min(k, fixed)] if p.repeats else p.args[k], max(0, k - fixed) if p.repeats else 0)
                 for k in range(count)]
    msg = " ".join([addr, *words])
    if len(p.args) == 1 and not p.repeats and p.args[0].kind in ("float", "int", "bool"):
        return f"`{msg}`, or a number box into `[prepend {addr}]`"
    return f"`{msg}`"


# --------------------------------------------------------------------------- entries


def _entries(params: list[Param]) -> list[_Entry]:
    """Fold the prompt slots' addresses into one entry per ``/mrtd/prompt/N/...`` tail."""
    out: list[_Entry] = []
    folded: dict[str, _Entry] = {}
    for p in params:
        m = _SLOT.match(p.address)
        if m is None:
            out.append(_Entry(p.address, [p]))
            continue
        key = _SLOT.sub("/mrtd/prompt/N/", p.address)
        if key not in folded:
            folded[key] = _Entry(key, [])
            out.append(folded[key])
        folded[key].params.append(p)
    return out


def _slot_doc(p: Param) -> str:
    """A slot's doc without its "Slot 3: " prefix (the entry stands for every slot)."""
    doc = re.sub(r"^Slot \d+: ", "", p.doc)
    return doc[:1].upper() + doc[1:]


def _defaults(e: _Entry) -> str | None:
    ds = [p.default for p in e.params]
    if ds[0] is None:
        return None
    if len(e.params) == 1 or all(d == ds[0] for d in ds):
        return _values(tuple(ds[0]))
    parts: dict[str, list[int]] = {}
    for n, d in enumerate(ds, 1):
        parts.setdefault(_values(tuple(d)), []).append(n)
    return "; ".join(f"{v} (slot{'s' if len(ns) > 1 else ''} {_slots(ns)})" for v, ns in parts.items())


def _slots(ns: list[int]) -> str:
    return f"{ns[0]}–{ns[-1]}" if len(ns) > 1 and ns == list(range(ns[0], ns[-1] + 1)) else ", ".join(map(str, ns))


def render_entry(e: _Entry) -> list[str]:
    p = e.first
    folded = len(e.params) > 1
    lines = [f"### `{e.address}`", "", f"`{signature(p, address=e.address)}`"]
    for alt in p.alt_args:
        lines[-1] += f" · or `{signature(p, alt, e.address)}`"
    lines += ["", _slot_doc(p) if folded else p.doc, ""]
    if folded:
        lines.append(f"- slots: N = 1..{len(e.params)}")
    lines.append(f"- access: {ACCESS_WORDS[p.access]}")
    for a in _all_args(p):
        lines.append(f"- `{a.name}`: {describe_arg(a)}")
    if p.repeats:
        lo, hi = p.min_count or 0, p.max_count
        what = f"{hi}" if lo == hi else f"{lo} to {hi}"
        lines.append(f"- `{p.args[-1].name}` repeats: {what} values")
    d = _defaults(e)
    if d is not None:
        lines.append(f"- default: {d}")
    if p.reply:
        lines.append(f"- reply: `{p.reply}`")
    if p.access != "r":
        lines.append(f"- Max: {max_example(p, e.address.replace('/N/', '/1/'))}")
    lines.append("")
    return lines


def _all_args(p: Param) -> list[Arg]:
    """The arguments of every accepted form, each name once, in first-seen order."""
    seen: dict[str, Arg] = {}
    for a in (*p.args, *(a for alt in p.alt_args for a in alt)):
        seen.setdefault(a.name, a)
    return list(seen.values())


def render_fx_table(name: str, params: list[Param]) -> list[str]:
    """One effect's parameters as a table (they are alike: one value, set and read back)."""
    lines = [f"### `/mrtd/fx/{name}/...`", "",
             "| address | type | range | default | what |", "| --- | --- | --- | --- | --- |"]
    for p in params:
        a = p.args[0]
        default = _values(tuple(p.default)) if p.default is not None else ""
        lines.append(f"| `{p.address}` | `{p.typetag}` | {describe_arg(a)} | {default} | {p.doc} |")
    example = next((p for p in params if not p.address.endswith("/on")), params[0])
    lines += ["", f"All {ACCESS_WORDS['rw']}. Max: {max_example(example)}", ""]
    return lines


def render_group(group: str, params: list[Param]) -> list[str]:
    lines = [f"## {GROUP_TITLES.get(group, group.capitalize())}", ""]
    fx: dict[str, list[Param]] = {}
    rest: list[Param] = []
    for p in params:
        m = _FX.match(p.address)
        if m and len(p.args) == 1 and p.access == "rw":
            fx.setdefault(m.group(1), []).append(p)
        else:
            rest.append(p)
    for e in _entries(rest):
        lines += render_entry(e)
    for name, ps in fx.items():
        lines += render_fx_table(name, ps)
    return lines


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")


def render_markdown(ns: Namespace = NAMESPACE) -> str:
    """The whole reference as Markdown, one section per schema group in schema order."""
    groups = ns.groups()
    lines = INTRO.format(regen=REGENERATE, osc_port=DEFAULT_OSC_PORT, osc_port2=DEFAULT_OSC_PORT + 1,
                         oscquery_port=DEFAULT_OSCQUERY_PORT).splitlines()
    lines += ["", "## Contents", ""]
    for g in groups:
        title = GROUP_TITLES.get(g, g.capitalize())
        lines.append(f"- [{title}](#{_anchor(title)})")
    lines.append("")
    for g in groups:
        lines += render_group(g, [p for p in ns if p.group == g])
    return "\n".join(lines).rstrip() + "\n"


def check(path: str, ns: Namespace = NAMESPACE) -> str | None:
    """None when ``path`` holds the current rendering, else what is wrong and the fix."""
    try:
        with open(path, encoding="utf-8") as fh:
            current = fh.read()
    except OSError as e:
        return f"{path}: cannot read it ({e.strerror}); regenerate it: {REGENERATE}"
    if current != render_markdown(ns):
        return f"{path} is out of date with the OSC schema; regenerate it: {REGENERATE}"
    return None


def main(argv: list[str] | None = None) -> int:
    """``python -m mrtd.devtools.docs`` prints the reference; ``--check FILE`` exits 1 when
    FILE is stale."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m mrtd.devtools.docs", description=main.__doc__)
    parser.add_argument("--check", metavar="FILE", help="exit 1 if FILE differs from a fresh rendering")
    args = parser.parse_args(argv)
    if args.check:
        problem = check(args.check)
        if problem:
            print(problem, file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(render_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
