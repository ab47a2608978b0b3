"""asyncio helpers that keep cancellation intact.

``asyncio.wait_for`` on Python 3.11 can swallow a cancellation that arrives just as the awaited
thing completes (bpo-42130, fixed in 3.12): a worker waiting on its wake-up event would then
miss its stop request and run on. ``asyncio.timeout`` does not have that flaw, so every
"sleep until woken or until the deadline" in the service goes through here.
"""

from __future__ import annotations

import asyncio


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
