"""Actions with file work: prefill from a file or the inputs, bank load, bank save.

Reading and encoding a prompt, or writing and fsyncing a bank, takes far longer than a
40 ms frame, so the work runs on the engine's one file thread and the action is
*parked*: it takes effect on the first frame after the work is done, in the order the
actions were applied (a load after a save reads what was saved). A bank save takes its
snapshot on its own frame (cheap copies) and only the write is parked. Errors go back
to the message's sender and to the listeners, as for any control.

Offline (no generation thread: render, tests) the work runs in place and the action
completes on its own frame, so a render is deterministic.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mrtd.controls.banks import save_bank
from mrtd.controls.events import Event
from mrtd.datadir import PathRefused
from mrtd.engine.prefill import Capture, capture_codes, file_codes
from mrtd.engine.schedule import Reply
from mrtd.errors import ControlError, UserError

if TYPE_CHECKING:
    from mrtd.engine.engine import Engine

log = logging.getLogger("mrtd.engine")


@dataclass
class _Parked:
    """An action whose file work runs on the file thread; ``finish`` applies its result."""

    job: Future
    address: str
    values: tuple
    reply: Reply | None
    finish: Callable[[Any], None]


class FileActions:
    """The engine's file thread and its parked actions."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._parked: deque[_Parked] = deque()
        self._pool: ThreadPoolExecutor | None = None  # the file thread, started on first use
        self._banks_posted: set[int] = set()  # banks a save was posted for (a load may follow it)

    # ---- at receipt (any thread) ---------------------------------------------------------
    def check(self, address: str, values: tuple) -> tuple:
        """What can be told at once: an encoder for prefill, a prompt file inside the data
        folder, a bank folder, a bank that exists (or has a save posted before it)."""
        e = self.engine
        if address == "/mrtd/prefill/audio":
            if e.encoder is None:
                raise ControlError(address, "audio prefill needs the SpectroStream encoder (encoder.safetensors), "
                                   "none is loaded")
            try:
                values = (str(e.files.check_read("prompts", values[0])),)
            except PathRefused as err:
                raise ControlError(address, f"{err}") from None
        elif address == "/mrtd/bank/save":
            e.banks.path(values[0])
            self._banks_posted.add(values[0])
        elif address == "/mrtd/bank/load":
            path = e.banks.path(values[0])
            if values[0] not in self._banks_posted and not path.exists():
                raise ControlError(address, f"bank {values[0]} is empty (no {path.name} in the banks folder)")
        return values

    # ---- on the generation thread ----------------------------------------------------------
    def park(self, address: str, values: tuple, reply: Reply | None) -> bool:
        """Start the file work of an action that needs it; True if the action is now parked."""
        e = self.engine
        if address == "/mrtd/prefill/audio":
            src = values[0]
            if isinstance(src, Capture):
                work = lambda: capture_codes(e.files, e.generator, src)
                values = (str(src.path),)  # what the event log replays
            else:
                work = lambda: file_codes(e.files, e.generator, src)
            finish: Callable[[Any], None] = e.prefill
        elif address == "/mrtd/bank/load":
            n = values[0]
            work = lambda: e.banks.read(n)
            finish = lambda data: e.banks.install(n, *data)
        elif address == "/mrtd/bank/save" and not e.offline:
            path, tensors, meta = e.banks.snapshot(values[0])
            job = self.file_thread().submit(save_bank, path, tensors, meta)
            job.add_done_callback(lambda f: self._save_done(f, address, values[0], reply))
            return False  # the state was taken on this frame; writing it follows
        else:
            return False
        if e.offline:
            job = Future()
            try:
                job.set_result(work())
            except UserError as err:
                job.set_exception(err)
        else:
            job = self.file_thread().submit(work)
        self._parked.append(_Parked(job, address, values, reply, finish))
        return True

    def finish(self) -> bool:
        """Complete parked actions whose work is done, in the order they were applied."""
        e, changed = self.engine, False
        while self._parked and self._parked[0].job.done():
            p = self._parked.popleft()
            try:
                try:
                    data = p.job.result()
                except UserError:
                    raise
                except Exception as err:  # a file that breaks the decoder: the sender hears why
                    log.exception("%s failed", p.address)
                    raise ControlError(p.address, f"{type(err).__name__}: {err}") from None
                p.finish(data)
            except UserError as err:
                e.outbox.refused(e.frame, p.address, err, p.reply)
                continue
            e.outbox.applied(Event(e.frame, p.address, p.values))
            changed = True
        return changed

    # ---- file thread -------------------------------------------------------------------------
    def _save_done(self, job: Future, address: str, n: int, reply: Reply | None) -> None:
        """A bank write failed? Tell its sender and the listeners."""
        err = job.exception()
        if err is None:
            return
        if not isinstance(err, UserError):
            err = UserError(f"cannot write bank {n}: {type(err).__name__}: {err}")
        log.error("%s", err)
        if reply is not None:
            try:
                reply(address, str(err))
            except Exception:
                log.exception("replying to the sender of %s failed", address)
        self.engine.outbox.tell(Event(self.engine.frame, "/mrtd/error", (address, str(err))))

    def file_thread(self) -> ThreadPoolExecutor:
        """The engine's one thread for disk work (created on first use): reads and writes
        never run on the generation thread, and they run in the order posted."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="mrtd-files")
        return self._pool

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the file thread is idle; False on timeout."""
        if self._pool is None:
            return True
        try:
            self._pool.submit(lambda: None).result(timeout)
            return True
        except Exception:
            return False

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)  # a bank being written is finished
            self._pool = None
