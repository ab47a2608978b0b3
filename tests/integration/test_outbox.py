"""The outbox against both databases, delivering for real through Apprise to local sinks."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import func, select

from alerting.model import Message
from alerting.notify import Notifier, NotifierConfigError, send_test
from alerting.outbox import Outbox
from noc.store.repo import Store
from noc.store.tables import Incident, Notification, NotificationAttempt
from noc.store.types import utcnow

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAR_FUTURE = dt.timedelta(days=2)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    s = await Store.open(db_url)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
def notifiers() -> AsyncIterator[Callable[..., Notifier]]:
    made: list[Notifier] = []

    def make(receivers, **kw) -> Notifier:
        n = Notifier(receivers, **kw)
        made.append(n)
        return n

    yield make
    for n in made:
        n.close()


async def add_incident(store: Store, key: str, started_ago: float = 60.0) -> int:
    now = utcnow()
    row = Incident(
        site="lingshui",
        fault_key=key,
        fault_type="circuit_down",
        root_asset="mstp-voice",
        title=key,
        severity="I",
        peak_severity="I",
        status="open",
        fault_started_at=now - dt.timedelta(seconds=started_ago),
        detected_at=now,
    )
    async with store.sessions.begin() as session:
        session.add(row)
    return row.id


def msg(
    key: str,
    receiver: str = "noc",
    incident_id: int | None = None,
    title: str | None = None,
    kind: str = "opened",
) -> Message:
    return Message(
        receiver=receiver,
        dedup_key=key,
        incident_id=incident_id,
        event_kind=kind,
        severity="I",
        title=title or f"【I级】告警 {key}",
        body=f"灵水热线 {key}：语音专线中断",
    )


async def rows(store: Store) -> list[Notification]:
    async with store.sessions() as session:
        return list((await session.scalars(select(Notification).order_by(Notification.id))).all())


async def attempts_of(store: Store, notification_id: int) -> list[NotificationAttempt]:
    async with store.sessions() as session:
        q = select(NotificationAttempt).where(
            NotificationAttempt.notification_id == notification_id
        )
        return list((await session.scalars(q.order_by(NotificationAttempt.id))).all())


async def until(predicate, timeout: float = 15.0, what: str = "condition") -> None:
    """Wait for an async predicate (a behaviour, not a duration) or fail."""

    async def loop() -> None:
        while not await predicate():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(loop(), timeout)
    except TimeoutError:
        pytest.fail(f"timed out waiting for {what}")


async def stop(worker: asyncio.Task) -> None:
    """Cancel a worker; a stop that hangs fails the test instead of hanging it."""
    worker.cancel()
    done, _ = await asyncio.wait([worker], timeout=15)
    assert done, "the outbox worker did not stop within 15 s of being cancelled"


async def all_delivered(store: Store, n: int) -> bool:
    return sum(r.status == "delivered" for r in await rows(store)) == n


async def test_json_delivered_once_and_alarms_incident(store, http_sink, notifiers):
    outbox = Outbox(store, notifiers({"noc": [http_sink.json_url()]}))
    incident = await add_incident(store, "circuit_down:mstp-voice", started_ago=90)
    assert await outbox.enqueue([msg("inc1:opened:noc", incident_id=incident)]) == 1
    assert await outbox.drain_once() == 1

    [req] = http_sink.requests
    assert req.path == "/hook"
    assert req.json["title"] == "【I级】告警 inc1:opened:noc"
    assert "语音专线中断" in req.json["message"]
    [row] = await rows(store)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 1, None)
    assert row.delivered_at is not None
    [attempt] = await attempts_of(store, row.id)
    assert attempt.ok and attempt.error is None

    async with store.sessions() as session:
        alarmed_at = (await session.get(Incident, incident)).alarmed_at
    assert alarmed_at == row.delivered_at

    # a second message of the same incident neither moves alarmed_at nor alarms again
    await outbox.enqueue([msg("inc1:regraded:noc", incident_id=incident, kind="regraded")])
    assert await outbox.drain_once() == 1
    assert await outbox.drain_once() == 0
    assert len(http_sink.requests) == 2
    async with store.sessions() as session:
        assert (await session.get(Incident, incident)).alarmed_at == alarmed_at
    alarmed = [e for e in await store.incident_events(incident) if e.kind == "alarmed"]
    assert len(alarmed) == 1
    assert alarmed[0].data["receiver"] == "noc"
    assert alarmed[0].data["delay_seconds"] >= 90
    stats = await outbox.stats()
    assert stats.attempts == {("noc", "ok"): 2}
    assert stats.queue_depth == {"noc": 0}


async def test_mail_arrives_with_chinese_subject(store, smtp_sink, notifiers):
    outbox = Outbox(store, notifiers({"mail": [smtp_sink.mailto_url()]}))
    title = "【I级】灵水热线语音专线中断"
    await outbox.enqueue(
        [Message("mail", "m1", None, "opened", "I", title, "影响：全部坐席外呼。")]
    )
    await outbox.drain_once()
    [row] = await rows(store)
    assert row.status == "delivered", row.last_error
    [mail] = smtp_sink.messages
    assert mail.subject == title
    assert "影响：全部坐席外呼。" in mail.text
    assert mail.rcpt_tos == ["noc@hotline.example"]
    assert mail.login == smtp_sink.user


async def test_outage_then_everything_in_order_exactly_once(store, http_sink, notifiers):
    http_sink.mode = "refuse"
    outbox = Outbox(
        store, notifiers({"noc": [http_sink.json_url()]}), base_backoff=0.05, max_backoff=0.2
    )
    incidents = [await add_incident(store, f"fault:{i}") for i in range(3)]
    worker = asyncio.create_task(outbox.run())
    try:
        keys = []
        for round_ in range(2):  # three incidents, messages arriving over time
            batch = [msg(f"inc{i}:{round_}", incident_id=inc) for i, inc in enumerate(incidents)]
            keys += [m.dedup_key for m in batch]
            await outbox.enqueue(batch)
            refused = http_sink.refused
            await until(
                lambda n=refused + 3: _true(http_sink.refused >= n), what="retries while down"
            )
        assert http_sink.requests == []
        assert {r.status for r in await rows(store)} <= {"pending", "sending"}
        async with store.sessions() as session:
            assert (
                await session.scalar(
                    select(func.count())
                    .select_from(Incident)
                    .where(Incident.alarmed_at.is_not(None))
                )
            ) == 0

        http_sink.mode = "ok"
        await until(lambda: all_delivered(store, 6), what="delivery after the outage")
    finally:
        await stop(worker)
    assert await outbox.drain_once(utcnow() + FAR_FUTURE) == 0
    titles = [b["title"] for b in http_sink.bodies()]
    assert titles == [f"【I级】告警 {k}" for k in keys]  # enqueue order, none twice
    first = (await rows(store))[0]
    assert first.attempts > 1
    assert len(await attempts_of(store, first.id)) == first.attempts
    assert not (await attempts_of(store, first.id))[0].ok
    async with store.sessions() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Incident).where(Incident.alarmed_at.is_not(None))
            )
        ) == 3
    stats = await outbox.stats()
    assert stats.attempts[("noc", "ok")] == 6 and stats.attempts[("noc", "error")] >= 6


async def _true(value: bool) -> bool:
    return value


WORKER = """
import asyncio, sys
from alerting.notify import Notifier
from alerting.outbox import Outbox
from noc.store.repo import Store

async def main(db, url):
    store = await Store.open(db, migrate=False)
    await Outbox(store, Notifier({"noc": [url]}), base_backoff=0.05).run()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def test_crash_resumes_from_the_table_at_least_once(store, db_url, http_sink, notifiers):
    """SIGKILL a worker after the sink took message 3 but before it answered.

    The bound: exactly the row left ``sending`` by the crash is sent again; every row that was
    marked ``delivered`` is never resent, and nothing is lost.
    """
    keys = [f"crash:{i}" for i in range(1, 6)]
    await Outbox(store, notifiers({})).enqueue([msg(k) for k in keys])
    http_sink.hold, http_sink.hold_from = asyncio.Event(), 2
    proc = subprocess.Popen([sys.executable, "-c", WORKER, db_url, http_sink.json_url()], cwd=REPO)
    try:
        await http_sink.wait_for(3, timeout=30)
        await until(lambda: _true(proc.poll() is None), what="worker alive")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
    assert [r.status for r in await rows(store)] == [
        "delivered",
        "delivered",
        "sending",
        "pending",
        "pending",
    ]

    http_sink.hold.set()  # the killed worker's held request is answered into the void
    http_sink.hold = None
    outbox = Outbox(store, notifiers({"noc": [http_sink.json_url()]}))
    assert await outbox.drain_once() == 3
    titles = [b["title"].split()[-1] for b in http_sink.bodies()]
    assert titles == ["crash:1", "crash:2", "crash:3", "crash:3", "crash:4", "crash:5"]
    after = await rows(store)
    assert [r.status for r in after] == ["delivered"] * 5
    assert [r.attempts for r in after] == [1, 1, 2, 1, 1]  # the killed attempt is counted …
    assert len(await attempts_of(store, after[2].id)) == 1  # … but left no attempt record
    assert await outbox.drain_once(utcnow() + FAR_FUTURE) == 0


async def test_same_dedup_key_is_one_row_one_delivery(store, http_sink, notifiers):
    outbox = Outbox(store, notifiers({"noc": [http_sink.json_url()]}))
    assert await outbox.enqueue([msg("dup"), msg("dup")]) == 1
    assert await outbox.enqueue([msg("dup")]) == 0
    await outbox.drain_once()
    assert await outbox.enqueue([msg("dup")]) == 0  # also after delivery
    await outbox.drain_once(utcnow() + FAR_FUTURE)
    assert len(await rows(store)) == 1
    assert len(http_sink.requests) == 1


async def test_receiver_without_service_fails_once_with_reason(store, http_sink, notifiers):
    outbox = Outbox(store, notifiers({"noc": [http_sink.json_url()], "ghost": []}))
    await outbox.enqueue([msg("g1", receiver="ghost"), msg("g2", receiver="ghost")])
    assert await outbox.drain_once() == 2
    assert await outbox.drain_once(utcnow() + FAR_FUTURE) == 0
    for row in await rows(store):
        assert (row.status, row.attempts) == ("failed", 1)
        assert row.last_error == "no service matched receiver ghost"
    assert http_sink.requests == []
    result = await send_test(outbox.notifier, "ghost")
    assert result.config_error and not result.ok


async def test_gives_up_after_max_attempts_with_backoff(store, http_sink, notifiers):
    http_sink.mode = "refuse"
    outbox = Outbox(
        store, notifiers({"noc": [http_sink.json_url()]}), base_backoff=10, max_attempts=3
    )
    await outbox.enqueue([msg("a"), msg("b")])
    assert await outbox.drain_once() == 1  # "b" waits behind "a"
    [a, b] = await rows(store)
    assert (a.status, b.status, b.attempts) == ("pending", "pending", 0)
    assert dt.timedelta(seconds=5) <= a.next_attempt_at - a.created_at <= dt.timedelta(seconds=11)
    assert await outbox.drain_once() == 0  # backing off
    await outbox.drain_once(utcnow() + FAR_FUTURE)
    [a, b] = await rows(store)
    assert (a.status, a.attempts) == ("failed", 3)
    assert "503" in a.last_error or "failure" in a.last_error
    assert b.status == "failed"  # a failed head no longer blocks the queue
    assert [x.backoff(n) <= 300 for x in [outbox] for n in range(1, 40)] == [True] * 39


async def test_one_hanging_receiver_does_not_delay_another(
    store, http_sink, make_http_sink, notifiers
):
    stuck = await make_http_sink()
    stuck.hold = asyncio.Event()
    outbox = Outbox(store, notifiers({"a": [stuck.json_url()], "b": [http_sink.json_url()]}))
    worker = asyncio.create_task(outbox.run())
    try:
        await outbox.enqueue([msg("a1", receiver="a")])
        await stuck.wait_for(1)
        await outbox.enqueue([msg("b1", receiver="b"), msg("b2", receiver="b")])
        await http_sink.wait_for(2)
        await until(
            lambda: _statuses(store, {"a1": "sending", "b1": "delivered", "b2": "delivered"}),
            what="b delivered while a hangs",
        )
        stuck.hold.set()
        await until(lambda: all_delivered(store, 3), what="a delivered once it answers")
    finally:
        await stop(worker)
    assert len(stuck.requests) == 1


async def _statuses(store: Store, expected: dict[str, str]) -> bool:
    return {r.dedup_key: r.status for r in await rows(store)} == expected


async def test_a_closed_port_is_retried_until_it_listens(store, http_sink, notifiers):
    await http_sink.close_port()
    outbox = Outbox(
        store, notifiers({"noc": [http_sink.json_url()]}), base_backoff=0.05, max_backoff=0.1
    )
    await outbox.enqueue([msg("c1"), msg("c2")])
    worker = asyncio.create_task(outbox.run())
    try:
        await until(lambda: _first_attempts(store, 3), what="retries against a closed port")
        await http_sink.listen()
        await until(lambda: all_delivered(store, 2), what="delivery once the port listens")
    finally:
        await stop(worker)
    assert [b["title"].split()[-1] for b in http_sink.bodies()] == ["c1", "c2"]


async def _first_attempts(store: Store, n: int) -> bool:
    r = await rows(store)
    return bool(r) and r[0].attempts >= n


SECRET = "Tok3nZq9SECRETx"


async def test_channel_secrets_never_leak(store, http_sink, notifiers, caplog):
    caplog.set_level(logging.DEBUG)
    await http_sink.close_port()
    url = f"json://noc:{SECRET}@{http_sink.base}/hook"
    notifier = notifiers({"noc": [url], "wecom": [f"wecombot://{SECRET}"]})
    assert all(SECRET not in u for r in ("noc", "wecom") for u in notifier.masked_urls(r))
    outbox = Outbox(store, notifier, max_attempts=1)
    await outbox.enqueue([msg("s1")])  # (the wecom URL is only configured: no traffic off loopback)
    await outbox.drain_once()
    for row in await rows(store):
        assert row.status == "failed" and row.last_error
        assert SECRET not in row.last_error
        assert all(SECRET not in (a.error or "") for a in await attempts_of(store, row.id))
    assert "apprise" in {r.name for r in caplog.records}  # Apprise did log about the failures …
    assert SECRET not in caplog.text  # … without the token
    with pytest.raises(NotifierConfigError) as err:
        Notifier({"pager": [f"nosuchscheme://{SECRET}@host/x"]})
    assert "pager" in str(err.value) and SECRET not in str(err.value)


async def test_stop_lets_a_send_finish_then_cancels_a_hanging_one(store, http_sink, notifiers):
    """A stop waits ``stop_grace`` for the row in flight; past it the row stays ``sending``."""
    http_sink.hold = asyncio.Event()
    outbox = Outbox(store, notifiers({"noc": [http_sink.json_url()]}), stop_grace=10)
    await outbox.enqueue([msg("g1"), msg("g2")])
    worker = asyncio.create_task(outbox.run())
    await http_sink.wait_for(1)
    asyncio.get_running_loop().call_later(0.1, http_sink.hold.set)
    await stop(worker)
    assert [r.status for r in await rows(store)] == ["delivered", "pending"]  # g2 not started

    http_sink.hold = asyncio.Event()
    outbox.stop_grace = 0.05
    worker = asyncio.create_task(outbox.run())
    await http_sink.wait_for(2)
    await stop(worker)
    assert [r.status for r in await rows(store)] == ["delivered", "sending"]
    http_sink.hold.set()
    http_sink.hold = None
    await outbox.drain_once()
    assert [b["title"].split()[-1] for b in http_sink.bodies()] == ["g1", "g2", "g2"]
    assert [r.status for r in await rows(store)] == ["delivered", "delivered"]
