"""Voices on one port: the ``/mrtd/voice/<n>/...`` address form and its replies.

``mrtd serve --voices N`` runs N voices, each with its own hub and its own OSC server
(voice n on port P + n − 1, speaking the plain ``/mrtd/...`` addresses, so a Max patch
or TouchOSC layout made for one voice works unchanged on any voice's port). The main
port (voice 1's) also reaches every voice by address: ``/mrtd/voice/<n>/<rest>`` is
handled exactly as ``/mrtd/<rest>`` would be on voice n's own port — its hub, its
ping/status/get/(un)subscribe — only the addresses are spelled with the voice.

The rule for what comes back, chosen so that one prefix match (Max's CNMAT
``[OSC-route /mrtd/voice/2]``, a TouchOSC address filter) catches all of a voice, errors
included, and hands a plain patch's sub-addresses on unchanged: **whatever
voice n's own port would send, with ``/mrtd/`` replaced by ``/mrtd/voice/<n>/``, in the
message's address and in an error's address argument.** So
``/mrtd/voice/2/get /mrtd/temperature`` is answered ``/mrtd/voice/2/temperature 1.3``
(the argument of ``get`` stays plain: it names an address of that voice), a refusal is
``/mrtd/voice/2/error /mrtd/voice/2/temperature "reason"``, and
``/mrtd/voice/2/subscribe 9000`` streams voice 2's changes and meters to port 9000 as
``/mrtd/voice/2/...``. This holds per destination: a subscription made through the
voice form gets the voice form, one made on the voice's own port gets plain addresses.
Replies go, as on a voice's own port, to the sender and to that voice's subscribers
registered from the sender's host.

Only what cannot reach a voice is answered plainly, from the main port:
``/mrtd/error /mrtd/voice/9/temperature "no voice 9: this daemon has voices 1..3"``
(a voice number that is not one of them: 0, too large, not a decimal number, a
pattern). Patterns work inside a voice (``/mrtd/voice/2/fx/*/on 0``), not in the voice
number. A bundle may address several voices: each voice's messages land together on one
frame of that voice (voices run in lockstep, so a time tag maps to the same frame index
in each).

Everything here is pure (no sockets, no loop): parsing the voice form and rewriting
packets the daemon itself encoded.
"""

from __future__ import annotations

import re

VOICE_ROOT = "/mrtd/voice"
_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


class VoiceRefused(ValueError):
    """A ``/mrtd/voice/...`` address that names no voice of this daemon."""


def voice_prefix(n: int) -> str:
    """``/mrtd/voice/<n>``: what stands for ``/mrtd`` in voice n's addresses."""
    return f"{VOICE_ROOT}/{n}"


def voice_range(voices: object) -> str:
    """"1..3" (or "1"): the voices a refusal names."""
    ns = sorted(voices)  # type: ignore[call-overload]
    if not ns:
        return "none"
    return str(ns[0]) if len(ns) == 1 else f"{ns[0]}..{ns[-1]}"


def split_voice(address: str, voices: object) -> tuple[int, str] | None:
    """``(n, plain address)`` for ``/mrtd/voice/<n>/<rest>``; None for any other address
    (those stay with voice 1). VoiceRefused when the voice part is there but names no
    voice in ``voices`` (a container of voice numbers), or nothing follows it."""
    if not address.startswith(VOICE_ROOT) or address[len(VOICE_ROOT):len(VOICE_ROOT) + 1] not in ("", "/"):
        return None
    rest = address[len(VOICE_ROOT) + 1:]
    token, slash, tail = rest.partition("/")
    if not _NUMBER.fullmatch(token) or int(token) not in voices:  # type: ignore[operator]
        shown = token[:16] if token else "(none)"
        raise VoiceRefused(f"no voice {shown}: this daemon has voices {voice_range(voices)} "
                           f"(address a voice as {VOICE_ROOT}/<n>/...)")
    if not slash or not tail:
        raise VoiceRefused(f"an address must follow the voice: {VOICE_ROOT}/{token}/temperature, say")
    return int(token), "/mrtd/" + tail


def to_voice(address: str, prefix: str) -> str:
    """A plain ``/mrtd/...`` address in voice form (anything else is left as it is)."""
    if address.startswith("/mrtd/"):
        return prefix + address[5:]
    return prefix if address == "/mrtd" else address


def _padded(raw: bytes) -> bytes:
    return raw + b"\0" * (4 - len(raw) % 4)


def voice_packet(packet: bytes, prefix: str) -> bytes:
    """An OSC message the daemon encoded (a reply, feedback) rewritten to voice form: its
    address, and for ``/mrtd/error`` its first (address) argument. Only ever given the
    daemon's own well-formed messages; anything unexpected is passed on unchanged."""
    nul = packet.find(b"\0")
    if nul < 0 or not packet.startswith(b"/mrtd/"):
        return packet
    address = packet[:nul]
    rest = packet[(nul // 4 + 1) * 4:]
    if address == b"/mrtd/error" and rest.startswith(b",s"):
        tags_end = (rest.find(b"\0") // 4 + 1) * 4
        arg_nul = rest.find(b"\0", tags_end)
        if arg_nul >= 0:
            arg = rest[tags_end:arg_nul]
            if arg.startswith(b"/mrtd/") or arg == b"/mrtd":
                arg_end = tags_end + ((arg_nul - tags_end) // 4 + 1) * 4
                rest = rest[:tags_end] + _padded(prefix.encode() + arg[5:]) + rest[arg_end:]
    return _padded(prefix.encode() + address[5:]) + rest
