"""asyncio helpers that keep cancellation intact.

``asyncio.wait_for`` on Python 3.11 can swallow a cancellation that arrives just as the awaited
thing completes (bpo-42130, fixed in 3.12): a worker waiting on its wake-up event would then
miss its stop request and run on. ``asyncio.timeout`` does not have that flaw, so every
"sleep until woken or until the deadline" in the service goes through here.
"""

from __future__ import annotations

import asyncio
import threading


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait until ``event`` is set or ``timeout`` seconds pass; True if it was set."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
        return True
    except TimeoutError:
        return False


async def cancel_and_wait(tasks: list[asyncio.Task], patience: float = 10.0) -> None:
    """Cancel ``tasks`` and wait for them to end, cancelling again every half second: a single
    cancellation can still be lost inside a library's own ``wait_for`` (see above)."""
    pending = {t for t in tasks if not t.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
    if not pending:  # collect their results so no "exception never retrieved" is logged
        await asyncio.gather(*tasks, return_exceptions=True)


class LoopThread:
    """An event loop of its own in a daemon thread, for heavy work off the service's loop.

    ``await worker.run(factory)`` runs the coroutine ``factory(state)`` there and returns its
    result; ``state`` is a dict the coroutines share across calls (a store opened once on that
    loop, say). Cancelling the awaiting task cancels the coroutine in the thread at its next
    await. :meth:`close` runs ``closing(state)`` there, then stops the loop; the thread is a
    daemon, so a computation that will not end never holds the process at exit.

    Why: pure Python work of seconds (turning 80,000 rows into a month's KPIs) on the service's
    loop would stall every probe and scrape for as long; in a thread the interpreter switches
    between the two every few milliseconds.
    """

    def __init__(self, name: str):
        self._loop = asyncio.new_event_loop()
        self._state: dict = {}
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    async def run(self, factory):  # noqa: ANN001, ANN201 - (state) -> Awaitable[T]; returns T
        future = asyncio.run_coroutine_threadsafe(factory(self._state), self._loop)
        return await asyncio.wrap_future(future)

    async def close(self, closing=None, patience: float = 2.0) -> None:  # noqa: ANN001
        """Run ``closing(state)`` in the thread (at most ``patience`` seconds), stop the loop."""
        if closing is not None and not self._loop.is_closed():
            future = asyncio.run_coroutine_threadsafe(closing(self._state), self._loop)
            try:
                async with asyncio.timeout(patience):
                    await asyncio.wrap_future(future)
            except Exception:  # noqa: BLE001 - best effort (a timeout too): the thread is a daemon
                future.cancel()
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join, patience)
        if not self._thread.is_alive():
            self._loop.close()
