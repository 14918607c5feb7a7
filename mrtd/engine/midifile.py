"""MIDI files: a Standard MIDI File played through the note tracker, frame by frame.

A file is read once (with ``mido``) into a list of steps: each step is a time in the
file (its tick, its beat, its second under the file's own tempo map: every
``set_tempo`` meta event counts, whatever track it is in) and the controls it means,
mapped as live MIDI is (:mod:`mrtd.remote.midi`): note on/off → ``/mrtd/note/on|off``
with the velocity, channel 10 note on → ``/mrtd/drums/hit``, CC 64 → sustain, CC 120 and
123 → all notes off. Other CCs, program changes and system messages are ignored.

:class:`MidiPlayer` plays it: a frame hook on the generation thread posts, for the frame
about to be made, the controls of every step due by then (``engine.schedule.add(...,
frame)``), so they are applied, logged and told to subscribers like any control, and a
render or the event log replays them exactly. A step lands on the frame that plays at its
time, rounded to the nearest frame (as the musical clock rounds beats):

* own tempo (default): the file's seconds from the frame it starts on;
* synced (``/mrtd/midi/sync 1``): the file's beats (quarter notes) on the engine's
  musical clock, starting on the next bar; the clock's tempo replaces the file's.

Looping restarts at the file's end (its length rounded to whole bars when synced).
Stopping, a loop's end and the end of the file release the notes the file holds (and
its sustain pedal), so nothing hangs.

Reading and parsing is disk work: live, it runs on the engine's file thread and the file
starts on the first frame after it is parsed (offline and in tests, at once).
"""

from __future__ import annotations

import io
import logging
import math
import os
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mrtd.constants import FRAME_RATE
from mrtd.controls.events import Event
from mrtd.controls.midimap import message_controls
from mrtd.datadir import PathRefused
from mrtd.errors import ControlError, UserError

if TYPE_CHECKING:
    from mrtd.engine.engine import Engine
    from mrtd.engine.schedule import Reply

log = logging.getLogger("mrtd.midi")

FOLDER = "midi"  # the data folder's folder of MIDI files
MAX_MIDI_BYTES = 16 << 20
RELEASE_TAIL_S = 2.0  # `mrtd render --midi` without --seconds: the file, then this much
DEFAULT_TEMPO = 500000  # µs per quarter note (120 BPM) until the first set_tempo
PLAY, STOP = "/mrtd/midi/play", "/mrtd/midi/stop"


@dataclass(frozen=True)
class Step:
    """The controls of one moment of the file."""

    tick: int
    beats: float  # quarter notes from the start
    seconds: float  # under the file's tempo map
    controls: tuple[tuple[str, tuple], ...]


@dataclass(frozen=True)
class Song:
    """A parsed MIDI file: its steps in time order and its length."""

    name: str
    steps: tuple[Step, ...]
    beats: float  # length in quarter notes (the end of the longest track)
    seconds: float  # length under the file's tempo map

    @property
    def loop_seconds(self) -> float:
        """A pass of the loop under the file's own tempo (one frame at least)."""
        return max(self.seconds, 1.0 / FRAME_RATE)


def frame_of_seconds(t: float) -> int:
    """The frame that plays at ``t`` seconds from frame 0 (nearest frame start; halves up)."""
    return math.floor(t * FRAME_RATE + 0.5)


def controls_for(msg: Any) -> list[tuple[str, tuple]]:
    """One ``mido`` message of a file → the controls it means: live MIDI's mapping
    (:func:`mrtd.controls.midimap.message_controls`) with all channels and no CC table."""
    return message_controls(msg)


def parse_song(data: bytes, name: str = "") -> Song:
    """A Standard MIDI File's bytes → a :class:`Song`; UserError if it is not one or has
    nothing mrtd plays."""
    import mido

    where = name or "the MIDI file"
    try:
        mid = mido.MidiFile(file=io.BytesIO(data))
    except Exception as e:  # mido raises OSError, EOFError, ValueError, KeyError... on bad data
        raise UserError(f"{where} is not a readable MIDI file ({type(e).__name__}: {e})") from None
    tpb = mid.ticks_per_beat
    if not isinstance(tpb, int) or tpb <= 0:
        raise UserError(f"{where}: SMPTE time division is not supported (only ticks per quarter note)")
    tick, seconds, tempo = 0, 0.0, DEFAULT_TEMPO
    steps: list[Step] = []
    for msg in mido.merge_tracks(mid.tracks):  # type 0, 1 (and 2, played as one sequence)
        if msg.time:
            tick += msg.time
            seconds += msg.time * tempo / (tpb * 1e6)
        if msg.type == "set_tempo":
            tempo = msg.tempo
            continue
        controls = controls_for(msg)
        if not controls:
            continue
        if steps and steps[-1].tick == tick:
            last = steps[-1]
            steps[-1] = Step(last.tick, last.beats, last.seconds, last.controls + tuple(controls))
        else:
            steps.append(Step(tick, tick / tpb, seconds, tuple(controls)))
    if not steps:
        raise UserError(f"{where} has no notes (nothing on any channel that mrtd plays)")
    return Song(name, tuple(steps), tick / tpb, seconds)


def read_song(files: Any, name: str, kind: str = FOLDER) -> Song:
    """Read and parse ``name`` from the data folder's ``kind`` folder (confined: see
    :mod:`mrtd.datadir`); UserError (PathRefused) if it cannot be read."""
    fd, _ = files.open_read(kind, name, MAX_MIDI_BYTES)
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_MIDI_BYTES + 1)
    label = name if files.trusted and os.path.isabs(name) else f"{kind}/{name}"
    song = parse_song(data, label)
    return Song(name, song.steps, song.beats, song.seconds)  # named as the sender named it


@dataclass
class _Playback:
    """One file playing: where it started and how far it got (generation thread only)."""

    song: Song
    loop: bool
    sync: bool
    start: int  # own tempo: the frame of second 0
    start_beat: float = 0.0  # synced: the clock beat of the file's first quarter note
    beat_scale: float = 1.0  # synced: clock beats per quarter note (4 / the meter's beat unit)
    loop_beats: float = 0.0  # synced: the loop length in clock beats, whole bars
    passes: int = 0
    index: int = 0  # the next step of this pass
    held: set[int] = field(default_factory=set)
    pedal: bool = False


class MidiPlayer:
    """Plays one MIDI file at a time in step with the engine, through its frame hook.

    :meth:`play` and :meth:`stop` may be called from any thread; only the frame hook
    (generation thread) changes what plays."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.sync = False  # /mrtd/midi/sync: follow the engine's musical clock
        self.playing: _Playback | None = None
        self._inbox: deque[tuple] = deque()
        self._lock = threading.Lock()
        self._ticket = 0  # a play or stop supersedes the plays still being parsed
        engine.frame_hooks.append(self.on_frame)

    # ---- any thread --------------------------------------------------------------------
    def play(self, name: str, loop: bool = False, reply: Reply | None = None) -> None:
        """Play ``name`` from the data folder's midi/ folder (looping if ``loop``): refused at
        once (ControlError) if it cannot be read; the file is parsed on the engine's file
        thread and starts on the first frame after that (synced: on the next bar)."""
        e = self.engine
        if getattr(e.controls, "family", "mrt2") != "mrt2":
            raise ControlError(PLAY, "Magenta RT v1 (the model playing) has no note input")
        try:
            e.files.check_read(FOLDER, name, MAX_MIDI_BYTES)
        except PathRefused as err:
            raise ControlError(PLAY, f"{err}") from None
        with self._lock:
            self._ticket += 1
            ticket = self._ticket
        sync = self.sync

        def work() -> None:
            try:
                song = read_song(e.files, name)
            except UserError as err:
                self._post(ticket, ("error", f"{err}", reply))
            except Exception as err:  # never let a broken file kill the file thread quietly
                log.exception("%s %s failed", PLAY, name)
                self._post(ticket, ("error", f"{type(err).__name__}: {err}", reply))
            else:
                self._post(ticket, ("play", song, bool(loop), sync))

        if e.offline:
            work()
        else:
            e.actions.file_thread().submit(work)

    def play_song(self, song: Song, loop: bool = False, sync: bool | None = None) -> None:
        """Play an already parsed song from the next frame (render, tests)."""
        with self._lock:
            self._ticket += 1
            self._inbox.append(("play", song, bool(loop), self.sync if sync is None else bool(sync)))

    def stop(self) -> None:
        """Stop the file playing (and any still being read); its notes are released on the
        next frame."""
        with self._lock:
            self._ticket += 1
            self._inbox.append(("stop",))

    def _post(self, ticket: int, item: tuple) -> None:
        with self._lock:
            if ticket == self._ticket:  # not superseded by a later play or stop
                self._inbox.append(item)

    @property
    def name(self) -> str:
        p = self.playing
        return p.song.name if p is not None else ""

    # ---- generation thread ---------------------------------------------------------------
    def on_frame(self, frame: int) -> None:
        """The frame hook: take new orders, then post this frame's controls."""
        items: list[tuple[str, tuple]] = []
        changed = False
        while True:
            with self._lock:
                if not self._inbox:
                    break
                order = self._inbox.popleft()
            if order[0] == "error":
                self.engine.outbox.refused(frame, PLAY, ControlError(PLAY, order[1]), order[2])
                continue
            if self.playing is not None:
                self._release(self.playing, items)
                self.playing = None
                changed = True
            if order[0] == "play":
                self.playing = self._begin(order[1], order[2], order[3], frame)
                changed = True
        p = self.playing
        if p is not None:
            if self._advance(p, frame, items):
                self.playing = None
                changed = True
        if items:
            self.engine.schedule.add(items, frame)
        if changed:
            self.engine.outbox.tell(Event(frame, "/mrtd/midi/playing", (self.name,)))  # subscribers, not the log

    def _begin(self, song: Song, loop: bool, sync: bool, frame: int) -> _Playback:
        p = _Playback(song, loop, sync, frame)
        if sync:
            clock = self.engine.clock
            bpb = clock.beats_per_bar
            boundary = clock.next_boundary(frame, "bar")
            origin = float(getattr(clock, "bar_beat", 0.0))
            p.start_beat = origin + round((clock.beat_at(boundary) - origin) / bpb) * bpb  # the bar's exact beat
            p.beat_scale = 4.0 / clock.beat_unit
            p.loop_beats = max(1, math.floor(song.beats * p.beat_scale / bpb + 0.5)) * bpb  # nearest whole bars
        return p

    def _due(self, p: _Playback, step: Step, frame: int) -> bool:
        if p.sync:
            beat = p.start_beat + p.passes * p.loop_beats + step.beats * p.beat_scale
            return self.engine.clock.frame_of_beat(beat) <= frame
        return p.start + frame_of_seconds(p.passes * p.song.loop_seconds + step.seconds) <= frame

    def _pass_start(self, p: _Playback, k: int) -> int:
        if p.sync:
            return self.engine.clock.frame_of_beat(p.start_beat + k * p.loop_beats)
        return p.start + frame_of_seconds(k * p.song.loop_seconds)

    def _in_pass(self, p: _Playback, step: Step) -> bool:
        """A looping pass plays what starts before the loop's end."""
        if not p.loop:
            return True
        if p.sync:
            return step.beats * p.beat_scale < p.loop_beats - 1e-9
        return step.seconds < p.song.loop_seconds - 1e-9

    def _advance(self, p: _Playback, frame: int, items: list) -> bool:
        """Post the steps due at ``frame``; True when the file has ended (not looping)."""
        steps = p.song.steps
        while True:
            while p.index < len(steps) and self._in_pass(p, steps[p.index]) and self._due(p, steps[p.index], frame):
                for address, values in steps[p.index].controls:
                    self._track(p, address, values)
                    items.append((address, values))
                p.index += 1
            if p.loop:
                if frame >= self._pass_start(p, p.passes + 1):
                    self._release(p, items)  # the loop's end: nothing hangs into the next pass
                    p.passes += 1
                    p.index = 0
                    continue
                return False
            if p.index >= len(steps) and frame >= self._pass_start(p, 1):
                self._release(p, items)
                return True
            return False

    @staticmethod
    def _track(p: _Playback, address: str, values: tuple) -> None:
        if address == "/mrtd/note/on":
            p.held.add(values[0])
        elif address == "/mrtd/note/off":
            p.held.discard(values[0])
        elif address == "/mrtd/notes/sustain":
            p.pedal = bool(values[0])
        elif address == "/mrtd/notes/all_off":
            p.held.clear()
            p.pedal = False

    @staticmethod
    def _release(p: _Playback, items: list) -> None:
        """Note offs for the notes the file holds, and its pedal up."""
        items.extend(("/mrtd/note/off", (n,)) for n in sorted(p.held))
        if p.pedal:
            items.append(("/mrtd/notes/sustain", (False,)))
        p.held.clear()
        p.pedal = False


def register(hub: Any, player: MidiPlayer) -> None:
    """Wire ``/mrtd/midi/*`` (files) into the daemon's hub."""
    hub.register(PLAY, lambda v, sender: player.play(v[0], bool(v[1]) if len(v) > 1 else False,
                                                     sender.reply if sender is not None else None),
                 with_sender=True)
    hub.register(STOP, lambda v: player.stop())
    hub.register("/mrtd/midi/sync", lambda v: setattr(player, "sync", bool(v[0])), lambda: (player.sync,))
    hub.register("/mrtd/midi/playing", getter=lambda: (player.name,))
