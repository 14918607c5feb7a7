"""mrtd's OSC namespace: every address under ``/mrtd``, defined once.

Everything else — the OSC server's validation, the engine's control defaults,
``docs/osc.md``, OSCQuery, the Max patches and the TouchOSC layout — is derived
from :data:`NAMESPACE`. Defaults follow the official Python system and AU plugin
(temperature 1.3, top-k 40, guidance 3.0 / 1.0 / 1.0) so a patch sounds the way
the reference model does out of the box.
"""

from __future__ import annotations

from mrtd.osc_schema.schema import Arg, Namespace, Param

PROMPT_SLOTS = 8
STYLE_TOKENS = 12
PITCHES = 128
EMBEDDING_DIM = 768
MAX_PATH_BYTES = 4096
MAX_TEXT_BYTES = 1024
SPECTRUM_BANDS = 64  # /mrtd/spectrum: bytes per frame, one per log-spaced band

_PARAMS: list[Param] = []


def add(address: str, args: tuple[Arg, ...], access: str, doc: str, group: str, **kw) -> None:
    _PARAMS.append(Param("/mrtd" + address, args, access, doc, group, **kw))  # type: ignore[arg-type]


def add_daemon(address: str, args: tuple[Arg, ...], access: str, doc: str, group: str, **kw) -> None:
    add(address, args, access, doc, group, route="daemon", **kw)


def add_server(address: str, args: tuple[Arg, ...], access: str, doc: str, group: str, **kw) -> None:
    add(address, args, access, doc, group, route="server", **kw)


def f(name: str, lo: float, hi: float, unit: str = "") -> Arg:
    return Arg(name, "float", lo, hi, unit=unit)


def i(name: str, lo: int, hi: int, unit: str = "") -> Arg:
    return Arg(name, "int", lo, hi, unit=unit)


def b(name: str) -> Arg:
    return Arg(name, "bool")


def e(name: str, *choices: str) -> Arg:
    return Arg(name, "enum", choices=choices)


def s(name: str, max_bytes: int = MAX_PATH_BYTES) -> Arg:
    return Arg(name, "string", max_bytes=max_bytes)


TOKEN = i("token", 0, 1023)
NOTE_STATE = i("state", -1, 3)
PITCH = i("pitch", 0, 127)

# --------------------------------------------------------------------------- style prompts

for n in range(1, PROMPT_SLOTS + 1):
    g = "prompts"
    add(f"/prompt/{n}/text", (s("text", MAX_TEXT_BYTES),), "rw",
        f"Slot {n}: a text prompt (\"disco funk\"), encoded by MusicCoCa on its own thread (the slot keeps "
        "sounding as before until it is ready; status tells). Empty string clears.",
        g, default=("",), echoes=("/mrtd/style/tokens",))
    add(f"/prompt/{n}/audio", (s("name"),), "rw",
        f"Slot {n}: an audio file as the prompt (any format libsndfile reads, any rate/channels; 10 s clips, "
        "averaged): a name in the data folder's prompts/ (e.g. loops/intro.wav). Empty string clears.",
        g, default=("",), guarded=True, echoes=("/mrtd/style/tokens",))
    add(f"/prompt/{n}/embedding", (Arg("embedding", "blob", max_bytes=EMBEDDING_DIM * 4),), "w",
        f"Slot {n}: a raw 768-d MusicCoCa embedding, 768 little-endian float32 (3072 bytes).", g,
        echoes=("/mrtd/style/tokens",))
    add(f"/prompt/{n}/tokens", (TOKEN,), "w",
        f"Slot {n}: 12 raw MusicCoCa RVQ tokens (0..1023); work without MusicCoCa files. Tokens are not "
        "blended: when this is the highest-weight active slot they are used exactly, otherwise left out.",
        g, min_count=STYLE_TOKENS, max_count=STYLE_TOKENS, echoes=("/mrtd/style/tokens",))
    add(f"/prompt/{n}/weight", (f("weight", 0.0, 1.0),), "rw",
        f"Slot {n}: blend weight. The style is the weighted mean of the active slots' embeddings "
        "(weights normalised to sum 1), quantised to 12 tokens; 0 parks the slot.",
        g, default=(1.0 if n == 1 else 0.0,), echoes=("/mrtd/style/tokens",))
    add(f"/prompt/{n}/clear", (), "event", f"Slot {n}: forget its prompt and park it (weight 0).", g,
        echoes=(f"/mrtd/prompt/{n}/weight", "/mrtd/style/tokens"))
    add(f"/prompt/{n}/status", (e("status", "empty", "encoding", "ready", "error"),), "r",
        f"Slot {n}: what the slot holds: empty, encoding, ready, or error (see /mrtd/error).", g,
        default=("empty",))

add("/prompt/weights", (f("weight", 0.0, 1.0),), "rw",
    "All slot weights at once, slot 1 first (fewer values set the first slots only).",
    "prompts", min_count=1, max_count=PROMPT_SLOTS, default=(1.0,) + (0.0,) * (PROMPT_SLOTS - 1),
    echoes=tuple(f"/mrtd/prompt/{n}/weight" for n in range(1, PROMPT_SLOTS + 1)) + ("/mrtd/style/tokens",))
add("/style/tokens", (TOKEN,), "r",
    "The 12 MusicCoCa tokens the model is conditioned on now (the quantised blend).",
    "prompts", min_count=STYLE_TOKENS, max_count=STYLE_TOKENS)
add("/style/levels", (i("levels", 0, STYLE_TOKENS),), "rw",
    "How many MusicCoCa levels condition the model (coarse first); the rest are masked. "
    "12 = all (official Python), 6 = the official app's choice, 0 = no style at all.",
    "prompts", default=(STYLE_TOKENS,), field="style_levels", echoes=("/mrtd/style/tokens",))
add("/style/mapper", (b("on"),), "rw",
    "Map text embeddings into the audio embedding space before blending (the official apps do).",
    "prompts", default=(True,), field="style_mapper", echoes=("/mrtd/style/tokens",))

# --------------------------------------------------------------------------- notes and drums

g = "notes"
add("/note/on", (PITCH,), "event",
    "Note on (MIDI pitch). The onset is never lost, even if the note ends within one 40 ms frame. "
    "An optional second argument is the velocity 0..127; 0 means note off.",
    g, alt_args=((PITCH, i("velocity", 0, 127)),), role="playing")
add("/note/off", (PITCH,), "event", "Note off (MIDI pitch).", g, role="playing")
add("/notes/all_off", (), "event", "Release every held note and the sustain pedal (panic).", g, role="playing")
add("/notes/sustain", (b("down"),), "rw", "Sustain pedal: held notes stay on until it is released.", g,
    default=(False,), role="playing")
add("/notes/onset_mode", (e("mode", "auto_strum", "unmask"),), "rw",
    "auto_strum: a held note is 'on, model decides' (3); unmask: onset (2) on its first frame, then sustain (1).",
    g, default=("auto_strum",), field="onset_mode")
add("/notes/unmask_width", (i("semitones", 0, 127),), "rw",
    "Pitches within this many semitones of a held note are forced off; the rest stay free for the model. "
    "0 = accompany (only your notes are fixed), 127 = solo (nothing but your notes).",
    g, default=(0,), field="unmask_width")
add("/notes/pitch", (PITCH, NOTE_STATE), "w",
    "Raw state of one pitch: -1 masked (model free), 0 off, 1 sustain, 2 onset, 3 on (model decides).", g,
    echoes=("/mrtd/notes/frame",))
add("/notes/list", (NOTE_STATE, PITCH), "w",
    "One raw state for a list of pitches: state, then 1..128 pitches.", g, min_count=1, max_count=PITCHES,
    echoes=("/mrtd/notes/frame",))
add("/notes/frame", (NOTE_STATE,), "rw",
    "All 128 raw pitch states at once (pitch 0 first). Held notes are applied on top.",
    g, min_count=PITCHES, max_count=PITCHES, default=(-1,) * PITCHES)
add("/notes/clear", (), "event", "Set every raw pitch state back to -1 (masked).", g, echoes=("/mrtd/notes/frame",))
add("/drums", (e("mode", "auto", "off", "on"),), "rw",
    "Drums: auto (model decides), off (no drums), on (play drums).", g, default=("auto",), field="drums")
add("/drums/hit", (), "event", "Ask for drums on the next frame (what a MIDI channel-10 note does).", g,
    role="playing")
add("/midi/channel", (i("channel", 0, 16),), "rw",
    "MIDI input channel for notes, 1..16; 0 = all channels (channel 10 is drums either way).",
    g, default=(0,), route="daemon")

# ---- musical time: MIDI files
add_daemon("/midi/play", (s("name"),), "event",
    "Play a Standard MIDI File from the data folder's midi/ folder (e.g. grooves/verse.mid) through the note "
    "tracker, as if played on a keyboard: channel 10 is drums, CC 64 the sustain pedal. A second argument 1 "
    "loops it (restarting at the file's end). It starts once read, or on the next bar with /mrtd/midi/sync 1; "
    "a file already playing stops first. The notes land in the event log, so a take replays.",
    g, alt_args=((s("name"), b("loop")),), guarded=True)
add_daemon("/midi/stop", (), "event", "Stop the MIDI file playing; its held notes are released.", g)
add_daemon("/midi/sync", (b("on"),), "rw",
    "MIDI files follow the musical clock (/mrtd/tempo/*): each quarter note of the file is a beat of the clock's "
    "tempo, the file starts on the next bar and a loop is rounded to whole bars. 0 = the file's own tempo map, "
    "starting at once. Taken when a file starts.", g, default=(False,))
add_daemon("/midi/playing", (s("name"),), "r", "The MIDI file playing now (empty: none).", g, default=("",))

# --------------------------------------------------------------------------- sampling and guidance

g = "sampling"
add("/guidance/style", (f("scale", -1.0, 7.0),), "rw",
    "Prompt guidance (CFG, 0.2 steps): how strongly the style prompts are followed.", g, default=(3.0,),
    field="guidance.0")
add("/guidance/notes", (f("scale", -1.0, 7.0),), "rw",
    "Note guidance (CFG, 0.2 steps): how strongly the note states are followed.", g, default=(1.0,),
    field="guidance.1")
add("/guidance/drums", (f("scale", -1.0, 7.0),), "rw",
    "Drum guidance (CFG, 1.0 steps): how strongly the drum mode is followed.", g, default=(1.0,),
    field="guidance.2")
add("/temperature", (f("temperature", 0.0, 4.0),), "rw",
    "Sampling temperature; 0 = greedy (always the most likely token).", g, default=(1.3,),
    field="temperature")
add("/topk", (i("k", 1, 1024),), "rw", "Sample from the k most likely tokens of each RVQ level.", g,
    default=(40,), field="top_k")
add("/seed", (i("seed", 0, 2**31 - 1),), "rw",
    "Random seed; the same seed, model and events give the same audio. Applied at the next reset.",
    g, default=(0,), field="seed")
add("/seed/rotation", (i("rotation", 0, 2**31 - 1),), "rw",
    "Added to the seed at each reset, for a new variation from the same context.", g, default=(0,),
    field="rotation")

# --------------------------------------------------------------------------- transport and output

g = "transport"
add("/reset", (), "event", "Start over from the reset target (start-up, prefill or loaded bank), with a short fade.", g,
    role="action")
add("/reset/fade_ms", (f("ms", 0.0, 1000.0, "ms"),), "rw", "Fade length around a reset.", g, default=(20.0,),
    field="reset_fade_ms", role="output")
add("/pause", (b("paused"),), "rw", "Pause generation; the output fades to silence and resumes where it left off.",
    g, default=(False,), field="pause", role="output")
add("/bypass", (b("bypassed"),), "rw", "Output silence; generation idles.", g, default=(False,), field="bypass",
    role="output")
add("/volume", (f("gain", -60.0, 12.0, "dB"),), "rw", "Output volume (smoothed).", g, default=(0.0,),
    field="volume_db", role="output")
add("/mute", (b("muted"),), "rw", "Mute the output (smoothed).", g, default=(False,), field="mute", role="output")
add("/latency_ms", (f("ms", 20.0, 2000.0, "ms"),), "rw",
    "Latency budget: at most this much generated audio waits in the output queue.", g, default=(80.0,),
    field="latency_ms", role="output")
add("/responsive", (b("on"),), "rw",
    "On a control change, drop queued-but-unplayed audio (with a fade) so the change is heard sooner.",
    g, default=(False,), field="responsive", role="output")
add("/prefill/audio", (s("name"),), "event",
    "Seed the model's context with an audio file (48 kHz; its first 28 s) from the data folder's prompts/; "
    "it becomes the reset target. The file is read and encoded off the audio path; it lands on the first "
    "frame after that.", g, guarded=True, role="action")
add("/prefill/silence", (), "event",
    "Seed the context with silence; it becomes the reset target. Optional seconds (default 22).",
    g, alt_args=((f("seconds", 0.04, 28.0, "s"),),), role="action")
add("/prefill/input", (f("seconds", 0.04, 28.0, "s"),), "event",
    "Seed the context with the last seconds captured from the JACK inputs (kept in the data folder's "
    "captures/, the newest 32 only, so the event log can replay it).", g, guarded=True, route="daemon")
add("/bank/save", (i("bank", 1, 128),), "event",
    "Save the model state and controls to a bank (banks/bank_NNN.safetensors in the data folder).", g,
    guarded=True, role="action")
add("/bank/load", (i("bank", 1, 128),), "event", "Load a bank as the reset target and reset to it.", g,
    guarded=True, role="action", echoes=("*",))

# ---- musical time: tempo
QUANTIZE_UNITS = ("off", "beat", "bar")
MAX_BEATS_PER_BAR = 64
g = "tempo"
add("/tempo/source", (e("source", "internal", "jack", "link"),), "rw",
    "Where the beat grid comes from: internal (/mrtd/tempo/bpm and /mrtd/tempo/meter; frame 0 is bar 1), jack "
    "(bar, beat, tick and BPM of the JACK transport's timebase master: Ardour, Carla, any DAW) or link (an "
    "Ableton Link session on the network; needs the LinkPython-extern package: pip install 'mrtd[link]'). "
    "A followed position is logged as /mrtd/tempo/sync when it departs from the grid, so a take replays. "
    "With no timebase master, or a stopped transport, the grid runs on at its last tempo.",
    g, default=("internal",), role="output")
add("/tempo/bpm", (f("bpm", 20.0, 999.0, "BPM"),), "rw",
    "Tempo of the internal grid, from this frame on (the beat count runs on without a jump). With the link "
    "source it proposes the tempo to the Link session; with jack the timebase master sets it (refused).",
    g, default=(120.0,), role="output")
add("/tempo/meter", (i("beats_per_bar", 1, MAX_BEATS_PER_BAR), i("beat_unit", 1, 64)), "rw",
    "Meter: beats per bar and the beat's note value (4 4, 3 4, 7 8), from the next bar line. With jack the "
    "timebase master sets it (refused); with link the beats per bar are Link's quantum.",
    g, default=(4, 4), role="output")
add("/tempo/sync", (i("bar", -2**31, 2**31 - 1), f("beat", 1.0, MAX_BEATS_PER_BAR + 1.0),
                    f("bpm", 20.0, 999.0, "BPM"), i("beats_per_bar", 1, MAX_BEATS_PER_BAR), i("beat_unit", 1, 64)),
    "w",
    "Put the grid here: the frame this lands on plays bar, beat (from 1, with its fraction) at this tempo and "
    "meter. What the jack and link sources log when they move the grid; send it to align the internal grid "
    "to another clock by hand.", g, role="output")
add("/tempo/position", (i("bar", -2**31, 2**31 - 1), i("beat", 1, MAX_BEATS_PER_BAR)), "r",
    "The bar and beat (from 1) of the frame being made, sent to subscribers once a beat (as it is generated, "
    "up to the latency budget before it is heard).", g, default=(1, 1))
add("/tempo/transport", (b("on"),), "rw",
    "With the jack source: stopping the JACK transport pauses mrtd (as /mrtd/pause 1) and starting it "
    "resumes it. Off by default.", g, default=(False,), role="output")
add("/quantize", (e("unit", *QUANTIZE_UNITS),), "rw",
    "Quantised changes: an untimed change waits for the frame that plays the next beat or bar (one posted on "
    "that frame applies at once); timed ones (bundle timetags, MIDI) keep their frame. Quantised: prompts, "
    "style, guidance, temperature, top-k, drums mode, raw note states and note mode, reset, bank load, scene "
    "recall and morph, loops and rewind, effect on/off switches. Not: notes and drum hits as played, "
    "volume, mute, pause, latency, the seed, tempo and quantize themselves.",
    g, default=("off",), role="output")
add("/quantize/next", (e("unit", *QUANTIZE_UNITS),), "event",
    "Quantise a change its own way: in a bundle, the messages after it in the bundle (e.g. Max: a bundle of "
    "/mrtd/quantize/next bar, /mrtd/prompt/1/text \"dub\"); sent alone, the next quantised change to arrive "
    "(from any sender: a TouchOSC button sending /mrtd/quantize/next bar, then /mrtd/reset, resets on the next "
    "bar whatever /mrtd/quantize says). The event log writes it before each change applied other than "
    "/mrtd/quantize says, so a re-render lands it the same way.", g, role="output")

# --------------------------------------------------------------------------- effects

FX_CHAIN: dict[str, tuple[Arg, ...]] = {
    "filter": (
        e("mode", "lowpass12", "lowpass24", "highpass12", "highpass24", "bandpass12", "bandpass24"),
        f("cutoff_hz", 20.0, 20000.0, "Hz"), f("resonance", 0.0, 1.0), f("drive", 1.0, 10.0),
    ),
    "drive": (f("drive_db", 0.0, 40.0, "dB"),),
    "chorus": (
        f("rate_hz", 0.01, 10.0, "Hz"), f("depth", 0.0, 1.0), f("centre_delay_ms", 1.0, 30.0, "ms"),
        f("feedback", -0.95, 0.95), f("mix", 0.0, 1.0),
    ),
    "delay": (f("time_s", 0.01, 2.0, "s"), f("feedback", 0.0, 0.95), f("mix", 0.0, 1.0)),
    "reverb": (f("room_size", 0.0, 1.0), f("damping", 0.0, 1.0), f("width", 0.0, 1.0), f("mix", 0.0, 1.0)),
    "compressor": (
        f("threshold_db", -60.0, 0.0, "dB"), f("ratio", 1.0, 20.0), f("attack_ms", 0.1, 100.0, "ms"),
        f("release_ms", 10.0, 1000.0, "ms"),
    ),
    "limiter": (f("threshold_db", -30.0, 0.0, "dB"), f("release_ms", 10.0, 1000.0, "ms")),
    "gain": (f("gain_db", -60.0, 24.0, "dB"),),
}
FX_DEFAULTS: dict[str, dict[str, object]] = {
    "filter": {"mode": "lowpass24", "cutoff_hz": 2000.0, "resonance": 0.2, "drive": 1.0},
    "drive": {"drive_db": 12.0},
    "chorus": {"rate_hz": 1.0, "depth": 0.25, "centre_delay_ms": 7.0, "feedback": 0.0, "mix": 0.5},
    "delay": {"time_s": 0.375, "feedback": 0.35, "mix": 0.25},
    "reverb": {"room_size": 0.5, "damping": 0.5, "width": 1.0, "mix": 0.25},
    "compressor": {"threshold_db": -18.0, "ratio": 4.0, "attack_ms": 5.0, "release_ms": 100.0},
    "limiter": {"threshold_db": -1.0, "release_ms": 100.0},
    "gain": {"gain_db": 0.0},
}
add("/fx/bypass", (b("bypassed"),), "rw", "Bypass the whole post-effects chain (ramped).", "effects",
    default=(False,), route="effects")
for name, params in FX_CHAIN.items():
    add(f"/fx/{name}/on", (b("on"),), "rw", f"Switch the {name} effect in or out (ramped, no click).",
        "effects", default=(False,), route="effects")
    for arg in params:
        unit = f" ({arg.unit})" if arg.unit else ""
        add(f"/fx/{name}/{arg.name}", (arg,), "rw", f"{name.capitalize()}: {arg.name.replace('_', ' ')}{unit}.",
            "effects", default=(FX_DEFAULTS[name][arg.name],), route="effects")

# ---- musical time: scenes and LFOs
SCENES = 16
LFOS = 8
LFO_SHAPES = ("sine", "triangle", "saw", "square", "random_hold")
MAX_MORPH_BEATS = 256.0
g = "scenes"
add("/scene/save", (i("scene", 1, SCENES),), "event",
    "Save the sound controls as scene N: prompt slots and weights, guidance, temperature, top-k, drums, style "
    "levels, note mode and every effect setting (not the seed, output or held notes). Kept with the banks.",
    g, role="action", echoes=("/mrtd/scene/list",))
add("/scene/recall", (i("scene", 1, SCENES),), "event",
    "Recall scene N now (quantised like any control when /mrtd/quantize is on). A second argument morphs "
    "over that many beats instead: numbers and prompt weights glide frame by frame (each step a logged "
    "change of its control), switches and prompt texts change at the midpoint; 0 = at once.",
    g, alt_args=((i("scene", 1, SCENES), f("beats", 0.0, MAX_MORPH_BEATS, "beats")),), role="action")
add("/scene/morph", (i("scene", 1, SCENES), f("beats", 0.0, MAX_MORPH_BEATS, "beats")), "event",
    "Morph to scene N over this many beats (the same as /mrtd/scene/recall N beats).", g, role="action")
add("/scene/stop", (), "event", "Stop a morph where it is (each control keeps its current value).", g,
    role="action")
add("/scene/clear", (i("scene", 1, SCENES),), "event", "Forget scene N.", g, role="action",
    echoes=("/mrtd/scene/list",))
add("/scene/list", (i("scene", 1, SCENES),), "r", "The scenes saved (numbers, lowest first; none when empty).", g,
    min_count=0, max_count=SCENES)
g = "lfos"
for n in range(1, LFOS + 1):
    add(f"/lfo/{n}/target", (s("address", 255),), "rw",
        f"LFO {n}: the control it moves, any numeric one-value control (\"/mrtd/temperature\", "
        "\"/mrtd/fx/filter/cutoff_hz\", \"/mrtd/prompt/2/weight\"); binding centres the LFO on the control's "
        "value (offset). Each frame's value is applied and logged as a change of that control (marked \"via\" "
        "the LFO: a replay makes it again from the LFO's settings). Empty unbinds.",
        g, default=("",), role="action", echoes=(f"/mrtd/lfo/{n}/offset",))
    add(f"/lfo/{n}/shape", (e("shape", *LFO_SHAPES),), "rw",
        f"LFO {n}: wave shape; random_hold holds a new random value each cycle (the same ones for the same "
        "seed, so renders replay).", g, default=("sine",), role="action")
    add(f"/lfo/{n}/hz", (f("rate", 0.01, 12.5, "Hz"),), "rw",
        f"LFO {n}: rate in cycles per second (setting it makes the LFO free-running).", g, default=(0.5,),
        role="action")
    add(f"/lfo/{n}/beats", (f("beats", 0.0625, MAX_MORPH_BEATS, "beats"),), "rw",
        f"LFO {n}: one cycle every this many beats, locked to the beat grid (setting it syncs the LFO to the "
        "tempo; 4 = a bar in 4/4).", g, default=(4.0,), role="action")
    add(f"/lfo/{n}/depth", (f("depth", 0.0, 1.0),), "rw",
        f"LFO {n}: how far it swings either side of the offset, as a fraction of the control's range.", g,
        default=(0.0,), role="action")
    add(f"/lfo/{n}/offset", (f("offset", 0.0, 1.0),), "rw",
        f"LFO {n}: the centre, as a position in the control's range (0 = its minimum, 1 = its maximum); set "
        "to the control's value when bound, and moved wherever anything else (a fader, a scene) sets the "
        "control. Values beyond the range are clipped.", g, default=(0.5,),
        role="action")
    add(f"/lfo/{n}/phase", (f("phase", 0.0, 1.0),), "rw",
        f"LFO {n}: phase offset in cycles.", g, default=(0.0,), role="action")
    add(f"/lfo/{n}/on", (b("on"),), "rw",
        f"LFO {n}: run it (the control goes back to the offset when switched off).", g, default=(True,),
        role="action")

# ---- musical time: loops and rewind
MAX_LOOP_BARS = 64.0
g = "loops"
add("/loop", (f("bars", 0.0, MAX_LOOP_BARS, "bars"),), "event",
    "Loop the last N bars (at the current tempo; fractions are beats: 0.25 = one beat in 4/4) from the frame it "
    "lands on (a bar start when /mrtd/quantize is bar): each pass replays the frames the model made, sample for "
    "sample, with a 20 ms crossfade at the seam. Controls sent meanwhile change the state (heard after "
    "/mrtd/loop/off) but not the replay; with /mrtd/loop/vary 1 each pass is made again from the loop start "
    "with new noise and the current controls. Sent while looping: the last N bars of the loop's content. "
    "Refused beyond the history (the last 400 frames, 16 s) and under Magenta RT v1.",
    g, role="action", echoes=("/mrtd/loop/state",))
add("/loop/vary", (b("on"),), "rw",
    "0: every loop pass is an exact replay; 1: each pass is made again from the loop start with new noise "
    "(from the next pass on).", g, default=(False,), role="action", echoes=("/mrtd/loop/state",))
add("/loop/off", (), "event",
    "Release the loop: an exact loop goes on with what followed it when it was engaged (as if it had not "
    "happened; seamless on a pass boundary), a varying one goes on from its current pass.", g, role="action",
    echoes=("/mrtd/loop/state",))
add("/rewind", (f("bars", 0.0, MAX_LOOP_BARS, "bars"),), "event",
    "Jump back N bars and go on from the stream state there (same noise: with the same controls the same frames "
    "again), with a 20 ms crossfade; releases a loop. Controls are not rewound. Refused beyond the history and "
    "under Magenta RT v1.", g, role="action", echoes=("/mrtd/loop/state",))
add("/loop/state", (b("active"), f("bars", 0.0, MAX_LOOP_BARS, "bars"), i("pass", 0, 2**31 - 1), b("vary")),
    "r", "Loop status, sent to subscribers when it changes and at each pass: looping, its bars, the pass "
    "(from 1; 0 when off), vary.", g)

# --------------------------------------------------------------------------- recording

g = "recording"  # the daemon opens and closes the files
add_daemon("/record/start", (), "event",
    "Start recording the output to a 24-bit WAV in the data folder's recordings/ (default: a timestamped "
    "name). An existing file is kept unless the second argument is 1 (overwrite).",
    g, alt_args=((s("name"),), (s("name"), b("overwrite"))), guarded=True)
add_daemon("/record/stop", (), "event", "Stop recording and close the file.", g, guarded=True)
add_daemon("/record/events/start", (), "event",
    "Start writing the event log (frame-stamped OSC, JSON lines) that `mrtd render --events` replays, "
    "to recordings/ (default: a timestamped name). An existing file is kept unless the second argument "
    "is 1 (overwrite).",
    g, alt_args=((s("name"),), (s("name"), b("overwrite"))), guarded=True)
add_daemon("/record/events/stop", (), "event", "Stop writing the event log.", g, guarded=True)

# --------------------------------------------------------------------------- daemon and feedback

g = "daemon"  # answered by the network servers and the hub
add_server("/ping", (), "event", "Replies /mrtd/pong to the sender.", g, reply="/mrtd/pong")
add_server("/pong", (), "r", "Reply to /mrtd/ping.", g)
add_server("/status", (), "event",
    "Replies /mrtd/status with: model, device, frames/s, queue ms, underruns, xruns, latency ms, frame.",
    g, reply="/mrtd/status")
add_server("/subscribe", (i("port", 1, 65535),), "event",
    "Send every state change and the meters (10 Hz or more) to this port (of the sender's host, or the host given first); "
    "replies to this host's messages go there too. With no argument: to the sender itself (over TCP: this connection).",
    g, alt_args=((), (s("host", 255), i("port", 1, 65535))), reply="/mrtd/subscribed")
add_server("/subscribed", (s("host", 255), i("port", 1, 65535)), "r",
    "Reply to /mrtd/subscribe: where feedback now goes (the current state follows there).", g)
add_server("/unsubscribe", (i("port", 1, 65535),), "event",
    "Stop sending feedback to this port (same arguments as /mrtd/subscribe).",
    g, alt_args=((), (s("host", 255), i("port", 1, 65535))))
add_server("/auth", (s("token", 255),), "event",
    "Authorise the sender's host for recording, banks, prefill and audio prompts when the daemon listens "
    "beyond this machine (`mrtd serve --host`); the token is printed at start-up (or set with --token). "
    "Senders on this machine need none.", g)
add_server("/get", (s("address", 255),), "event", "Replies with the address's current value, as if it had been set.", g)
add_server("/error", (s("address", 255), s("reason", 1024)), "r", "Sent back when a message is refused; nothing changed.", g)
add_server("/meters", (f("peak_l", 0.0, 16.0), f("peak_r", 0.0, 16.0), f("rms_l", 0.0, 16.0), f("rms_r", 0.0, 16.0),
                f("fps", 0.0, 10000.0), f("queue_ms", 0.0, 100000.0, "ms")), "r",
    "Output levels (linear), generation frames/s and queued audio, sent to subscribers.", g)
add_server("/frame", (i("frame", 0, 2**31 - 1),), "r", "Index of the frame being generated (25 per second).", g)
add_server("/spectrum", (Arg("bands", "blob", max_bytes=SPECTRUM_BANDS),), "r",
    f"Output spectrum (after the effects) for meters and spectrograms: a {SPECTRUM_BANDS}-byte blob, one byte per "
    "log-spaced band from 40 Hz to 20 kHz (lowest first), each the band's mean power in dB (Hann-windowed "
    "2048-sample FFT of the mono mix, one every 50 ms) mapped linearly from -100 dB..0 dB (full scale) to "
    "0..255. Streamed to OSCQuery listeners at 10 Hz; not sent to OSC subscribers (read it with /mrtd/get).", g)

NAMESPACE = Namespace(_PARAMS)
