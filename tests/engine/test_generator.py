"""The stream generator interface: a generator that makes several frames per step (as
Magenta RT v1's 2 s chunks will) is played out frame by frame, with effects, output
controls and events at each frame's own index; conditioning lands on step boundaries;
a reset drops the frames made ahead."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mrtd.engine.demo import build_random_demo
from mrtd.engine.engine import Engine
from mrtd.engine.generator import Block, FrameControls
from mrtd.engine.mrt2 import MRT2Generator
from mrtd.engine.render import render


class Chunked(MRT2Generator):
    """MRT2 asked for ``k`` frames at a time: the conditioning of the chunk's first frame
    for all of them (a chunk model's contract)."""

    def __init__(self, model, decoder, k: int, seed: int):
        super().__init__(model, decoder, seed=seed)
        self.k, self.steps = k, 0

    def step(self, controls: FrameControls) -> Block:
        self.steps += 1
        rows = []
        for _ in range(self.k):  # a step's audio is its static buffer: copy it before the next
            b = super().step(controls)
            rows.append(Block(b.tokens, b.audio.copy(), b.valid, b.lag))
        return Block(torch.cat([b.tokens for b in rows]), np.concatenate([b.audio for b in rows]),
                     np.concatenate([b.valid for b in rows]), lag=1)


@pytest.fixture(scope="module")
def demo():
    return build_random_demo()


def frames(e: Engine, n: int) -> np.ndarray:
    return np.stack([e.step_frame().numpy().copy() for _ in range(n)])


def test_one_frame_chunks_are_the_mrt2_engine(demo):
    a = Engine(*demo, seed=3)
    b = Engine(generator=Chunked(*demo, k=1, seed=3), seed=3)
    for e in (a, b):
        e.post("/mrtd/temperature", 0.8, frame=4)
    assert np.array_equal(render(a, 0.5), render(b, 0.5))


def test_chunks_play_out_frame_by_frame(demo):
    """Five frames per step: the same audio as one per step while the conditioning does not
    change; effect and output controls still land on their own frame."""
    ref = Engine(*demo, seed=3)
    e = Engine(generator=Chunked(*demo, k=5, seed=3), seed=3)
    for x in (ref, e):
        x.post("/mrtd/volume", -6.0, frame=7)
        x.post("/mrtd/fx/drive/on", 1, frame=12)
    assert np.array_equal(render(ref, 0.8), render(e, 0.8))
    assert e.generator.steps == -(-e.frame // 5)
    assert [ev.frame for ev in e.applied] == [ev.frame for ev in ref.applied] == [7, 12]
    assert e.output.written == ref.output.written


def test_conditioning_lands_on_the_next_step_and_reset_drops_frames_ahead(demo):
    ref = Engine(generator=Chunked(*demo, k=5, seed=3), seed=3)
    e = Engine(generator=Chunked(*demo, k=5, seed=3), seed=3)
    e.post("/mrtd/topk", 1, frame=7)
    base, changed = frames(ref, 15), frames(e, 15)
    assert [ev.frame for ev in e.applied] == [7]  # logged at its frame
    assert np.array_equal(base[:10], changed[:10])  # the chunk of frames 5-9 was made at frame 5
    assert not np.array_equal(base[10:], changed[10:])
    steps = e.generator.steps
    e.post("/mrtd/reset", frame=e.frame + 2)  # mid-chunk (frames 15-19 made at 15)
    frames(e, 3)
    assert e.generator.steps == steps + 2  # frame 17 asked for a new chunk after the reset
