"""The event store on both backends: migrations, inventory sync, the append-only log, UTC."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from noc.config import parse_config
from noc.store import Store
from noc.store import db as dbmod
from noc.store.tables import Incident, IncidentEvent

UTC = dt.UTC
TABLES = {
    "assets",
    "check_transitions",
    "incidents",
    "incident_events",
    "notifications",
    "notification_attempts",
    "maintenance_windows",
    "monitor_runs",
    "check_coverage",
}


async def table_names(store: Store) -> set[str]:
    async with store.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def test_migrate_up_down_up(db_url):
    store = Store(db_url)
    try:
        assert await dbmod.current_revision(store.engine) is None
        await dbmod.upgrade(store.engine)
        assert TABLES <= await table_names(store)
        assert await dbmod.current_revision(store.engine) == dbmod.head_revision()
        await dbmod.downgrade(store.engine, "base")
        assert not (TABLES & await table_names(store))
        await dbmod.upgrade(store.engine)
        await dbmod.upgrade(store.engine)  # idempotent at head
        assert TABLES <= await table_names(store)
    finally:
        await store.close()


async def test_sqlite_runs_in_wal_mode(sqlite_url):
    store = await Store.open(sqlite_url)
    try:
        async with store.engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            fks = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        assert (mode, fks) == ("wal", 1)
    finally:
        await store.close()


async def test_sync_assets_adds_updates_and_retires(db_url, lingshui_config):
    store = await Store.open(db_url)
    try:
        first = await store.sync_assets(lingshui_config)
        assert len(first.added) == 24 and not first.updated and not first.retired
        again = await store.sync_assets(lingshui_config)
        assert (again.added, again.updated, again.retired, again.unchanged) == ([], [], [], 24)

        smaller = parse_config(
            "site: {name: lingshui, title: {zh: 陵水}}\n"
            "assets:\n"
            "  - {name: ce-router, kind: router, address: 198.18.10.9}\n"
            "  - {name: voice-gw, kind: voice_gateway, address: 198.18.10.2,"
            " title: {zh: 语音网关/呼叫中心平台}, sip: {uri: 'sip:options@198.18.10.2:5060'},"
            " checks: [{type: icmp}, {type: sip}, {type: sip, name: trunk, uri: 'sip:options@198.18.1.2:5060', depends_on: [ce-router]}]}\n"
        )
        third = await store.sync_assets(smaller)
        assert third.updated == ["ce-router", "voice-gw"]
        assert len(third.retired) == 22 and "phone-19" in third.retired
        assert [a.name for a in await store.list_assets()] == ["ce-router", "voice-gw"]
        assert len(await store.list_assets(include_retired=True)) == 24
        ce = await store.get_asset("ce-router")
        assert ce.address == "198.18.10.9" and ce.first_seen_at < ce.updated_at
    finally:
        await store.close()


async def test_secrets_are_not_stored(db_url, lingshui_config):
    store = await Store.open(db_url)
    try:
        await store.sync_assets(lingshui_config)
        ce = await store.get_asset("ce-router")
        assert ce.spec["snmp"]["auth_key"] == "**********"
        assert ce.spec["snmp"]["priv_key"] == "**********"
        assert ce.spec["snmp"]["user"] == "noc"
        secret = lingshui_config.asset("ce-router").snmp.auth_key.get_secret_value()
        assert secret not in repr(ce.spec)
    finally:
        await store.close()


async def test_instants_round_trip_in_utc(db_url):
    store = await Store.open(db_url)
    try:
        shanghai = dt.timezone(dt.timedelta(hours=8))
        at = dt.datetime(2026, 11, 30, 8, 0, 0, 123000, tzinfo=shanghai)  # 00:00 UTC
        await store.append_transition(
            site="lingshui",
            asset="mstp-voice",
            check="icmp",
            from_state="UP",
            to_state="DOWN",
            at=at,
            reason="timeout",
        )
        [row] = await store.transitions(asset="mstp-voice")
        assert row.at == at and row.at.tzinfo is not None
        assert row.at.utcoffset() == dt.timedelta(0)
        assert row.at.isoformat() == "2026-11-30T00:00:00.123000+00:00"
        with pytest.raises(Exception, match="naive datetime"):
            await store.append_transition(
                site="lingshui",
                asset="x",
                check="icmp",
                from_state="UP",
                to_state="DOWN",
                at=dt.datetime(2026, 1, 1),
            )
    finally:
        await store.close()


async def _incident(session, key: str, status: str = "open") -> Incident:
    now = dt.datetime.now(UTC)
    incident = Incident(
        site="lingshui",
        fault_key=key,
        fault_type="circuit_down",
        root_asset="mstp-voice",
        severity="I",
        peak_severity="I",
        status=status,
        fault_started_at=now,
        detected_at=now,
        impact={},
    )
    session.add(incident)
    await session.flush()
    return incident


async def test_log_tables_are_append_only(db_url):
    store = await Store.open(db_url)
    try:
        t0 = dt.datetime(2026, 11, 1, tzinfo=UTC)
        await store.append_transition(
            site="lingshui",
            asset="mstp-voice",
            check="icmp",
            from_state="UP",
            to_state="DOWN",
            at=t0,
        )
        async with store.sessions.begin() as session:
            incident = await _incident(session, "circuit_down:mstp-voice")
            first = await store.append_incident_event(session, incident.id, "opened", t0)
            second = await store.append_incident_event(
                session, incident.id, "graded", t0, data={"severity": "I"}
            )
        assert (first.seq, second.seq) == (1, 2)
        assert [e.kind for e in await store.incident_events(incident.id)] == ["opened", "graded"]

        for statement in (
            "UPDATE check_transitions SET to_state = 'UP'",
            "DELETE FROM check_transitions",
            "UPDATE incident_events SET kind = 'closed'",
            "DELETE FROM incident_events",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                async with store.engine.begin() as conn:
                    await conn.exec_driver_sql(statement)
        assert len(await store.transitions()) == 1
        assert len(await store.incident_events(incident.id)) == 2
    finally:
        await store.close()


async def test_one_open_incident_per_fault(db_url):
    store = await Store.open(db_url)
    try:
        async with store.sessions.begin() as session:
            await _incident(session, "circuit_down:mstp-voice", status="closed")
            await _incident(session, "circuit_down:mstp-voice", status="recovered")
            await _incident(
                session, "circuit_down:mstp-voice", status="open"
            )  # closed/recovered twins are fine
        with pytest.raises(IntegrityError):
            async with store.sessions.begin() as session:
                await _incident(session, "circuit_down:mstp-voice", status="acknowledged")
        assert [i.status for i in await store.open_incidents()] == ["recovered", "open"]
    finally:
        await store.close()


async def test_incident_event_seq_is_unique(db_url):
    store = await Store.open(db_url)
    try:
        async with store.sessions.begin() as session:
            incident = await _incident(session, "k")
        now = dt.datetime.now(UTC)
        with pytest.raises(IntegrityError):
            async with store.sessions.begin() as session:
                session.add(
                    IncidentEvent(
                        incident_id=incident.id, seq=1, kind="a", at=now, recorded_at=now, data={}
                    )
                )
                session.add(
                    IncidentEvent(
                        incident_id=incident.id, seq=1, kind="b", at=now, recorded_at=now, data={}
                    )
                )
    finally:
        await store.close()


async def test_maintenance_windows(db_url):
    store = await Store.open(db_url)
    try:
        start = dt.datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
        await store.add_maintenance(
            site="lingshui",
            assets=["mstp-voice"],
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            reason="运营商割接",
            created_by="noc",
        )
        with pytest.raises(ValueError, match="end after it starts"):
            await store.add_maintenance(
                site="lingshui", assets=["x"], starts_at=start, ends_at=start
            )
        assert len(await store.maintenance_windows(active_at=start + dt.timedelta(minutes=30))) == 1
        assert await store.maintenance_windows(active_at=start + dt.timedelta(hours=2)) == []
        [w] = await store.maintenance_windows()
        assert w.assets == ["mstp-voice"] and w.reason == "运营商割接"
    finally:
        await store.close()


def test_urls_map_to_async_drivers():
    assert dbmod.async_url("sqlite:///noc.db").drivername == "sqlite+aiosqlite"
    assert dbmod.async_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert dbmod.async_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(dbmod.DatabaseURLError, match="unsupported database 'mysql'"):
        dbmod.async_url("mysql://u:pw@h/db")
    assert "pw" not in dbmod.mask_url("postgresql://u:pw@h/db")
