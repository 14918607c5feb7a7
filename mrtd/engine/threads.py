"""How many CPU threads a frame uses, chosen from the frames themselves (``--adapt-threads``).

A live machine also runs a DAW. When another process takes one of two cores, a frame
on two threads does not get half slower: every parallel region waits for the thread
whose core is taken, a scheduler time slice at a time, and mrt2_small fell from 0.41x to
0.03x real time here, while one thread gave 0.27x (``benchmarks/README.md``, "Under
load"). :class:`ThreadGovernor` watches the median frame time over short windows: when
the current thread count has become clearly slower than it was on a quiet machine, it
tries one thread fewer for a few frames and keeps whichever was faster; every 10 s it
tries one more again (and leaves it at the first slow frame), so the frame gets its
cores back when the load goes away.

It is opt-in: float32 results depend on the thread count by rounding (measured: audio
1e-7, tokens equal), so a take played while the count changed re-renders equal to
rounding, not bit for bit.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

WINDOW = 25  # frames per judgement (1 s)
SLOWER = 1.3  # "clearly slower": the window's median over the quiet median at this count
PROBE_EVERY = 250  # frames between tries of one thread more (10 s)
TRIAL = 5  # frames a trial count is judged on (one more thread: left at its first slow frame)
MIN_FRAMES = 3


class ThreadGovernor:
    """Thread count between 1 and ``most``, from frame times fed to :meth:`after_frame`."""

    def __init__(self, most: int, set_threads: Callable[[int], None] | None = None, *, window: int = WINDOW,
                 slower: float = SLOWER, probe_every: int = PROBE_EVERY):
        if most < 1:
            raise ValueError("most must be >= 1")
        if set_threads is None:
            import torch

            set_threads = torch.set_num_threads
        self.most, self.n = most, most
        self._set = set_threads
        self.window, self.slower, self.probe_every = window, slower, probe_every
        self.quiet: dict[int, float] = {}  # the best window median seen at each count
        self.changes = 0  # switches made (status, benchmarks)
        self._times: list[float] = []
        self._trial_from: int | None = None  # the count a trial window is measured against
        self._last: dict[int, float] = {}  # the latest window median at each count
        self._since_probe = 0
        self._hold = 0  # frames before another downward try, after one that did not pay
        self._tried_fewer = False
        self._hold_at = 0.0  # the window median when that try was made

    def after_frame(self, seconds: float) -> None:
        """One frame's wall time (in seconds); may change the thread count."""
        trial = self._trial_from
        if trial is not None and trial < self.n and seconds > self.slower * self._last.get(trial, float("inf")):
            self._end_trial(keep=False)  # one more thread under load: back at the first slow frame
            return
        self._times.append(seconds)
        # a window is WINDOW frames, or at least MIN_FRAMES once they took a second
        # (frames that collapsed to a second each are judged in seconds, not minutes)
        want = TRIAL if trial is not None else self.window
        if len(self._times) < want and (len(self._times) < MIN_FRAMES or sum(self._times) < 1.0):
            return
        med, k = statistics.median(self._times), len(self._times)
        self._times.clear()
        n = self.n
        self._last[n] = med
        self.quiet[n] = min(med, self.quiet.get(n, med))
        if trial is not None:  # a trial window just ended: keep the faster count
            self._end_trial(keep=med <= self._last.get(trial, float("inf")))
            return
        self._since_probe += k
        if self._hold > 0:
            self._hold -= k
        # after a try of one thread fewer that did not pay, try again only when it has got
        # clearly worse than then, or a while later
        held = self._hold > 0 and med <= self.slower * self._hold_at
        if not held and n > 1 and (med > self.slower * self.quiet[n] or not self._tried_fewer):
            self._tried_fewer = True  # the first window tries one fewer too: loaded from the start
            self._try(n - 1)
        if self._trial_from is None and n < self.most and self._since_probe >= self.probe_every:
            self._try(n + 1)

    def _try(self, n: int) -> None:
        self._trial_from = self.n
        self._since_probe = 0
        self._times.clear()
        self._use(n)

    def _end_trial(self, keep: bool) -> None:
        base, self._trial_from = self._trial_from, None
        self._times.clear()
        if not keep:
            assert base is not None
            if base > self.n:  # one fewer did not pay: not again at once at this level
                self._hold, self._hold_at = self.probe_every, self._last.get(base, 0.0)
            self._use(base)

    def _use(self, n: int) -> None:
        if n != self.n:
            self.n = n
            self.changes += 1
            self._set(n)
