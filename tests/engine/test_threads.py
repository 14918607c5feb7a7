"""The thread governor (``--adapt-threads``) on frame times it is fed: it sheds a thread
when the frames collapse under load, and takes it back when the load is gone."""

from __future__ import annotations

from mrtd.engine.threads import ThreadGovernor


def feed(g: ThreadGovernor, times: dict[int, float], frames: int) -> None:
    """``frames`` frames, each taking ``times[thread count now]`` seconds."""
    for _ in range(frames):
        g.after_frame(times[g.n])


def test_quiet_machine_keeps_every_thread():
    calls: list[int] = []
    g = ThreadGovernor(2, calls.append)
    feed(g, {1: 0.15, 2: 0.10}, 1000)
    assert g.n == 2 and calls[-1:] in ([], [2])  # probes of "one more" never start at the top


def test_a_busy_core_sheds_a_thread_and_gets_it_back():
    calls: list[int] = []
    g = ThreadGovernor(2, calls.append)
    feed(g, {1: 0.15, 2: 0.10}, 100)  # quiet: 2 threads, 100 ms
    feed(g, {1: 0.15, 2: 1.07}, 60)  # a busy process: 2 threads collapse, 1 thread holds
    assert g.n == 1 and calls[-1] == 1 and len(calls) <= 3  # (the first quiet window tried 1 thread once)
    feed(g, {1: 0.15, 2: 1.07}, 600)  # tries 2 again now and then, leaves at its first slow frame
    assert g.n == 1 and all(c in (1, 2) for c in calls)
    slow_frames_at_2 = calls.count(2)
    assert slow_frames_at_2 <= 600 // 250 + 1
    feed(g, {1: 0.15, 2: 0.10}, 300)  # the load is gone: back to 2
    assert g.n == 2


def test_when_fewer_threads_do_not_help_it_stays():
    calls: list[int] = []
    g = ThreadGovernor(2, calls.append)
    feed(g, {1: 0.15, 2: 0.10}, 50)
    feed(g, {1: 0.40, 2: 0.20}, 500)  # slower overall (a memory-bound neighbour), 2 still better
    assert g.n == 2
    assert len(calls) <= 2 * (500 // 250 + 1)  # a trial now and then, not back and forth


def test_loaded_from_the_start_it_finds_the_better_count_within_seconds():
    calls: list[int] = []
    g = ThreadGovernor(2, calls.append)
    spent = 0.0
    while g.n == 2 and spent < 30:
        t = {1: 0.15, 2: 1.07}[g.n]
        g.after_frame(t)
        spent += t
    assert g.n == 1 and spent < 5.0  # three collapsed frames, then one thread
