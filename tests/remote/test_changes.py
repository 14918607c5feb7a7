"""The change queue between the engine thread and the network loop: coalesced state,
every event kept, bounded, one wake-up per burst."""

from __future__ import annotations

import asyncio
import threading

from mrtd.remote.changes import ChangeQueue


def test_state_is_coalesced_events_are_kept_and_the_queue_is_bounded():
    got: list[tuple[list, int]] = []

    async def main() -> None:
        q = ChangeQueue(lambda items, dropped: got.append((items, dropped)), limit=4)
        q.put("/mrtd/temperature", (1.0,))  # no loop bound yet: ignored
        q.bind(asyncio.get_running_loop())

        def burst() -> None:  # from another thread, as the engine does
            for t in (1.1, 1.2, 1.3):
                q.put("/mrtd/temperature", (t,))
            q.put("/mrtd/drums/hit", ())
            q.put("/mrtd/drums/hit", ())
            q.put("/mrtd/topk", (7,))
            q.put("/mrtd/reset", ())  # the fifth distinct entry: over the limit of 4

        t = threading.Thread(target=burst)
        t.start()
        t.join()
        await asyncio.sleep(0.05)

    asyncio.run(main())
    assert len(got) == 1  # one wake-up for the whole burst
    items, dropped = got[0]
    assert items == [("/mrtd/temperature", (1.3,)), ("/mrtd/drums/hit", ()), ("/mrtd/drums/hit", ()),
                     ("/mrtd/topk", (7,))]
    assert dropped == 1
