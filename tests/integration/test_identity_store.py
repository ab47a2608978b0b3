"""Accounts, tokens, sessions, lockout and the audit log in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from support.identity import drop_audit_guards, fast_hashing  # noqa: F401

from noc.core.errors import AuthError, ConflictError, ForbiddenError, InputError
from noc.identity import Actor, SecurityPolicy
from noc.identity.audit import AuditEntry
from noc.identity.passwords import check_password, verify_password
from noc.store import Store
from noc.store import db as dbmod
from noc.store.accounts import Accounts, ensure_bootstrap_admin
from noc.store.audit_log import AuditLog
from noc.store.auth_sessions import SessionRepo
from noc.store.identity_tables import IDENTITY_TABLES, UserRow
from noc.store.login_failures import LoginFailureRepo
from noc.store.logins import Logins
from noc.store.types import utcnow

pytestmark = pytest.mark.usefixtures("fast_hashing")

ROOT = Actor("root", "admin", "cli", "root@noc1", extra=frozenset({"user.manage"}))
SUE = Actor("sue", "security", "cli", "sue@noc1")
AL = Actor("al", "admin", "api", "192.0.2.10", credential="session:1")
AUDITOR = Actor("ann", "auditor", "console", "192.0.2.11", credential="session:2")


@pytest.fixture
async def store(db_url):
    s = await Store.open(db_url)
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def accounts(store):
    acc = Accounts(store)
    await acc.add_user(ROOT, "sue", "security", os_user="sue")
    await acc.add_user(SUE, "al", "admin")
    await acc.add_user(SUE, "bob", "operator", password="Operator-2026")
    return acc


def entry(action: str = "user.add", target: str = "x", **kw) -> AuditEntry:
    return AuditEntry.by(SUE, action, target, **kw)


async def append(store: Store, n: int, at: dt.datetime | None = None) -> None:
    log = AuditLog(store)
    for i in range(n):
        async with store.transaction() as tx:
            await log.append(tx, entry(target=f"t{i}", after={"i": i}), at=at)


async def table_names(store: Store) -> set[str]:
    async with store.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def sql(store: Store, statement: str) -> None:
    async with store.engine.begin() as conn:
        await conn.exec_driver_sql(statement)


# -- schema and guards ---------------------------------------------------------------------


async def test_migration_0002_adds_the_tables_and_goes_back(db_url):
    store = Store(db_url)
    try:
        await dbmod.upgrade(store.engine)
        assert set(IDENTITY_TABLES) <= await table_names(store)
        assert await AuditLog(store).head() == (0, "0" * 64)
        await dbmod.downgrade(store.engine, "0001")
        assert not set(IDENTITY_TABLES) & await table_names(store)
        assert "incidents" in await table_names(store)
        await dbmod.upgrade(store.engine)
        assert set(IDENTITY_TABLES) <= await table_names(store)
    finally:
        await store.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET target = 'someone-else' WHERE id = 1",
        "UPDATE audit_log SET outcome = 'ok'",
        "DELETE FROM audit_log WHERE id = 1",
        "DELETE FROM audit_log",
        "UPDATE audit_head SET last_id = 0",
        "DELETE FROM audit_head",
    ],
)
async def test_the_database_refuses_to_change_audit_rows(store, statement):
    await append(store, 2)
    with pytest.raises(DBAPIError):
        await sql(store, statement)
    assert (await AuditLog(store).verify()).ok


async def test_postgresql_refuses_truncate(pg_url):
    store = await Store.open(pg_url)
    try:
        await append(store, 1)
        for table in ("audit_log", "audit_head"):
            with pytest.raises(DBAPIError, match="cannot be truncated"):
                await sql(store, f"TRUNCATE {table}")
    finally:
        await store.close()


async def test_rows_older_than_180_days_can_be_deleted_but_verify_notices(store):
    await append(store, 2, at=utcnow() - dt.timedelta(days=200))
    await append(store, 1)
    with pytest.raises(DBAPIError):  # the floor is the row's age, whoever asks
        await sql(store, "DELETE FROM audit_log WHERE id = 3")
    await sql(store, "DELETE FROM audit_log WHERE id = 1")  # old enough: the database allows it
    report = await AuditLog(store).verify()
    assert report.broken.row_id == 2 and report.broken.reason.code == "head_missing"


# -- the chain -----------------------------------------------------------------------------


async def test_append_and_verify_then_a_row_changed_by_hand_is_found(store):
    await append(store, 5)
    log = AuditLog(store)
    report = await log.verify()
    assert report.ok and report.checked == 5 and report.last_id == 5
    rows = await log.rows()
    assert [r.id for r in rows] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert rows[0].after == {"i": 0} and rows[0].before is None

    await drop_audit_guards(store)
    await sql(store, "UPDATE audit_log SET target = 'nobody' WHERE id = 3")
    report = await log.verify()
    assert report.broken.row_id == 3 and report.broken.reason.code == "changed"


async def test_rows_removed_from_the_end_by_hand_are_found(store):
    await append(store, 4)
    await drop_audit_guards(store)
    await sql(store, "DELETE FROM audit_log WHERE id >= 3")
    report = await AuditLog(store).verify()
    assert report.broken.row_id == 3 and report.broken.reason.code == "tail_missing"


async def test_concurrent_appenders_form_one_chain(db_url):
    one, two = await Store.open(db_url), await Store.open(db_url, migrate=False)
    try:
        await asyncio.gather(*(append(s, 5) for s in (one, two, one, two)))
        log = AuditLog(one)
        report = await log.verify()
        assert report.ok and report.checked == 20
        assert [r.id for r in await log.rows()] == list(range(1, 21))
    finally:
        await one.close()
        await two.close()


async def test_acting_writes_one_row_with_the_act_or_alone_when_refused(store):
    log = AuditLog(store)
    now = utcnow()

    def user(name: str) -> UserRow:
        return UserRow(
            name=name,
            role="viewer",
            password_hash="x",
            must_change=True,
            password_changed_at=now,
            disabled=False,
            created_at=now,
        )

    async with log.acting(SUE, "user.add", "vic") as act:
        act.tx.add(user("vic"))
        act.after = {"role": "viewer"}
    with pytest.raises(ConflictError):
        async with log.acting(SUE, "user.add", "val") as act:
            act.tx.add(user("val"))
            await act.tx.flush()
            raise ConflictError("val exists")
    with pytest.raises(RuntimeError):  # a bug is not a refusal: nothing recorded, nothing done
        async with log.acting(SUE, "user.add", "vin") as act:
            act.tx.add(user("vin"))
            raise RuntimeError("bug")
    async with store.sessions() as s:
        names = set((await s.scalars(sa.select(UserRow.name))).all())
    assert names == {"vic"}
    rows = await log.rows()
    assert [(r.target, r.outcome, r.reason, r.after) for r in rows] == [
        ("vic", "ok", "", {"role": "viewer"}),
        ("val", "refused", "val exists", None),
    ]
    assert all(
        (r.actor_user, r.actor_role, r.channel, r.source) == ("sue", "security", "cli", "sue@noc1")
        for r in rows
    )


# -- retention -----------------------------------------------------------------------------


async def test_purge_deletes_only_rows_older_than_the_retention(store):
    now = utcnow()
    await append(store, 2, at=now - dt.timedelta(days=400))
    await append(store, 2, at=now - dt.timedelta(days=300))
    await append(store, 2, at=now - dt.timedelta(days=10))
    year = Accounts(store, SecurityPolicy(audit_retention=dt.timedelta(days=365)))
    with pytest.raises(ForbiddenError):
        await year.purge_audit(AL)
    first = await year.purge_audit(AUDITOR)
    assert (first.deleted, first.through_id) == (2, 2)
    log = AuditLog(store)
    report = await log.verify()
    assert report.ok and report.first_id == 3

    second = await Accounts(store).purge_audit(AUDITOR)  # 180 days
    assert (second.deleted, second.through_id) == (2, 4)
    rows = await log.rows()
    assert [r.id for r in rows] == [5, 6, 7, 8, 9]
    assert [r.action for r in rows[-3:]] == ["audit.purge"] * 3
    assert rows[-1].outcome == "ok" and rows[-1].after["through_id"] == 4
    assert rows[-3].outcome == "refused"  # admin is not the auditor
    assert (await log.verify()).ok

    nothing = await Accounts(store).purge_audit(AUDITOR)
    assert nothing.deleted == 0 and (await log.verify()).ok


async def test_retention_below_180_days_is_refused(store):
    with pytest.raises(ValueError):
        SecurityPolicy(audit_retention=dt.timedelta(days=90))
    async with store.transaction() as tx:
        with pytest.raises(InputError):
            await AuditLog(store).delete_older(tx, utcnow() - dt.timedelta(days=100))


# -- accounts, tokens, sessions, lockout ---------------------------------------------------


async def test_bootstrap_admin_on_a_fresh_store(store):
    made = await ensure_bootstrap_admin(store)
    assert made is not None and made.name == "admin"
    assert check_password(made.password, "admin") == []
    assert await ensure_bootstrap_admin(store) is None
    acc = Accounts(store)
    (admin,) = await acc.users.list()
    assert (admin.role, admin.must_change, admin.disabled) == ("admin", True, False)
    assert admin.password_hash.startswith("$argon2id$") and made.password not in admin.password_hash
    assert verify_password(admin.password_hash, made.password)
    (row,) = await acc.audit.rows()
    assert (row.action, row.target, row.actor_user) == ("user.bootstrap", "admin", "system")
    assert made.password not in str(row.after) and "argon2" not in str(row.after)


async def test_tokens_work_until_revoked_or_expired(accounts):
    acc = accounts
    issued, info = await acc.issue_token(AL, "bob", "ingest", scopes=["ingest"])
    assert issued.secret.startswith("noc_") and info["prefix"] == issued.secret[:12]
    now = utcnow()
    found = await acc.tokens.authenticate(issued.secret, now)
    assert found.user.name == "bob" and found.scopes == {"ingest"}
    assert found.credential == f"token:{info['id']}"
    async with acc.store.transaction() as tx:
        await acc.tokens.mark_used(tx, found.token.id, now)

    with pytest.raises(AuthError, match="expired"):
        await acc.tokens.authenticate(issued.secret, now + dt.timedelta(days=90))
    with pytest.raises(AuthError, match="invalid token"):
        await acc.tokens.authenticate("noc_" + "A" * 43, now)

    await acc.revoke_token(SUE, info["prefix"])
    with pytest.raises(AuthError, match="revoked") as exc:
        await acc.tokens.authenticate(issued.secret, utcnow())
    assert exc.value.reason == "token_revoked"
    with pytest.raises(ConflictError):
        await acc.revoke_token(AL, str(info["id"]))

    ((listed, holder),) = await acc.tokens.list()
    assert holder == "bob" and listed.last_used_at is not None
    async with acc.store.sessions() as s:
        stored = (await s.execute(sa.text("SELECT * FROM api_tokens"))).one()
    assert issued.secret not in [str(v) for v in stored]


async def test_a_token_stops_when_its_holder_is_disabled_or_becomes_a_duty_role(accounts):
    acc = accounts
    one, _ = await acc.issue_token(AL, "bob")
    await acc.set_disabled(SUE, "bob", True)
    with pytest.raises(AuthError, match="disabled"):
        await acc.tokens.authenticate(one.secret, utcnow())
    await acc.set_disabled(SUE, "bob", False)
    assert (await acc.tokens.authenticate(one.secret, utcnow())).user.name == "bob"
    await acc.set_role(SUE, "bob", "auditor")
    with pytest.raises(AuthError):
        await acc.tokens.authenticate(one.secret, utcnow())
    with pytest.raises(ForbiddenError):
        await acc.issue_token(AL, "bob")
    with pytest.raises(ForbiddenError):
        await acc.issue_token(SUE, "al")  # the security officer issues no tokens


async def test_sessions_end_when_idle_expired_revoked_or_disabled(accounts):
    acc, repo = accounts, SessionRepo(accounts.store)
    now = utcnow()
    bob = await acc.users.get("bob")
    async with acc.store.transaction() as tx:
        issued, row = await repo.create(tx, bob, "192.0.2.7", now)
        other, _ = await repo.create(tx, bob, "192.0.2.7", now)
    assert issued.secret != other.secret
    later = now + dt.timedelta(minutes=20)
    live = await repo.authenticate(issued.secret, later)
    assert live.user.name == "bob" and live.credential == f"session:{row.id}"
    assert (await repo.authenticate(issued.secret, later + dt.timedelta(minutes=29))).user
    with pytest.raises(AuthError) as idle:
        await repo.authenticate(other.secret, now + dt.timedelta(minutes=30))
    assert idle.value.reason == "session_idle"
    with pytest.raises(AuthError) as expired:
        await repo.authenticate(issued.secret, now + dt.timedelta(hours=12))
    assert expired.value.reason == "session_expired"
    with pytest.raises(AuthError) as unknown:
        await repo.authenticate("nope", now)
    assert unknown.value.reason == "session_unknown"

    async with acc.store.transaction() as tx:
        assert await repo.revoke(tx, row.id, utcnow())
    with pytest.raises(AuthError) as revoked:
        await repo.authenticate(issued.secret, utcnow())
    assert revoked.value.reason == "session_revoked"

    async with acc.store.transaction() as tx:
        third, _ = await repo.create(tx, bob, "192.0.2.7", utcnow())
    await acc.set_disabled(SUE, "bob", True)
    with pytest.raises(AuthError):
        await repo.authenticate(third.secret, utcnow())


async def test_lockout_counts_from_the_store_and_is_released_by_security(accounts):
    acc, repo = accounts, LoginFailureRepo(accounts.store)
    now = utcnow()
    async with acc.store.transaction() as tx:
        for i in range(4):
            await repo.record(tx, "Bob", "192.0.2.7", now + dt.timedelta(minutes=i))
    assert not (await repo.lock_state("bob", "192.0.2.7", now + dt.timedelta(minutes=4))).locked
    async with acc.store.transaction() as tx:
        await repo.record(tx, "bob", "198.51.100.3", now + dt.timedelta(minutes=5))
    lock = await repo.lock_state("bob", "203.0.113.1", now + dt.timedelta(minutes=5))
    assert lock.by == ("user",) and lock.until == now + dt.timedelta(minutes=20)
    assert not (await repo.lock_state("al", "192.0.2.7", now + dt.timedelta(minutes=5))).locked
    with pytest.raises(ForbiddenError):
        await acc.release_lockout(AL, "bob")
    assert await acc.release_lockout(SUE, "bob") == 5
    assert not (await repo.lock_state("bob", "203.0.113.1", now + dt.timedelta(minutes=5))).locked
    rows = await acc.audit.rows(action="lockout.release")
    assert [(r.actor_user, r.outcome) for r in rows] == [("al", "refused"), ("sue", "ok")]


async def test_account_rules_hold_in_the_store(accounts):
    acc = accounts
    with pytest.raises(ForbiddenError):
        await acc.set_role(SUE, "sue", "admin")
    with pytest.raises(ForbiddenError):
        await acc.set_role(AL, "bob", "lead")  # admin manages no accounts once sue exists
    with pytest.raises(InputError, match="too_short|at least 10"):
        await acc.add_user(SUE, "vic", "viewer", password="Short-1")
    with pytest.raises(ConflictError):
        await acc.add_user(SUE, "bob", "viewer")
    with pytest.raises(ConflictError):
        await acc.add_user(SUE, "vic", "viewer", os_user="sue")
    assert (await acc.set_role(SUE, "bob", "lead"))["role"] == "lead"
    reset = await acc.change_password(SUE, "bob")
    bob = await acc.users.get("bob")
    assert bob.must_change and verify_password(bob.password_hash, reset)
    bob_actor = Actor("bob", "lead", "cli", "bob@noc1")
    with pytest.raises(InputError):
        await acc.change_password(bob_actor, "bob", reset)  # must differ
    await acc.change_password(bob_actor, "bob", "Bob-new-pass-1", current_password=reset)
    assert not (await acc.users.get("bob")).must_change
    with pytest.raises(ForbiddenError):
        await acc.change_password(bob_actor, "bob", "Bob-new-pass-2", current_password="wrong")
    actions = [(r.action, r.actor_user, r.outcome) for r in await acc.audit.rows()][3:]
    assert actions == [
        ("user.role", "sue", "refused"),
        ("user.role", "al", "refused"),
        ("user.add", "sue", "refused"),
        ("user.add", "sue", "refused"),
        ("user.add", "sue", "refused"),
        ("user.role", "sue", "ok"),
        ("user.password_reset", "sue", "ok"),
        ("user.password", "bob", "refused"),
        ("user.password", "bob", "ok"),
        ("user.password", "bob", "refused"),
    ]
    assert (await acc.audit.verify()).ok


# -- login and logout ----------------------------------------------------------------------


async def test_login_locks_after_five_failures_and_releases_after_the_window(accounts):
    logins = Logins(accounts.store)
    t0 = utcnow()
    minute = dt.timedelta(minutes=1)
    answers = set()
    for i in range(5):
        with pytest.raises(AuthError) as failed:
            await logins.login("bob", "Wrong-pass-1", "192.0.2.7", now=t0 + i * minute)
        answers.add(str(failed.value))
    with pytest.raises(AuthError) as unknown:
        await logins.login("nosuchuser", "Wrong-pass-1", "198.51.100.1", now=t0)
    answers.add(str(unknown.value))
    assert answers == {"用户名或口令错误 / wrong user name or password"}

    for when in (t0 + 5 * minute, t0 + 18 * minute):  # locked, even with the right password
        with pytest.raises(AuthError) as locked:
            await logins.login("bob", "Operator-2026", "203.0.113.5", now=when)
        assert locked.value.reason == "locked"
    done = await logins.login("bob", "Operator-2026", "203.0.113.5", now=t0 + 19 * minute)
    assert done.actor.user == "bob" and done.actor.role == "operator" and done.must_change

    rows = await accounts.audit.rows(since=None)
    tail = [(r.action, r.outcome, r.actor_user, r.target) for r in rows][3:]
    assert tail == [
        *[("login", "refused", None, "bob")] * 5,
        ("lockout", "ok", None, "bob 192.0.2.7"),
        ("login", "refused", None, "nosuchuser"),
        ("login", "refused", None, "bob"),
        ("login", "refused", None, "bob"),
        ("login", "ok", "bob", "bob"),
    ]
    assert rows[-1].credential == f"session:{done.session_id}"
    assert "unknown user" in rows[9].reason  # the auditor sees why; the person does not


async def test_each_login_gets_a_new_session_and_logout_ends_it(accounts):
    logins, repo = Logins(accounts.store), SessionRepo(accounts.store)
    first = await logins.login("bob", "Operator-2026", "192.0.2.7")
    second = await logins.login("bob", "Operator-2026", "192.0.2.7")
    assert first.session.secret != second.session.secret
    assert first.session_id != second.session_id
    live = await repo.authenticate(first.session.secret, utcnow())
    await logins.logout(live)
    with pytest.raises(AuthError):
        await repo.authenticate(first.session.secret, utcnow())
    assert (await repo.authenticate(second.session.secret, utcnow())).user.name == "bob"
    last = (await accounts.audit.rows())[-1]
    assert (last.action, last.actor_user, last.credential) == (
        "logout",
        "bob",
        f"session:{first.session_id}",
    )
    async with accounts.store.sessions() as s:
        stored = (await s.execute(sa.text("SELECT id_hash FROM sessions"))).scalars().all()
    assert first.session.secret not in stored and first.session.id_hash in stored


async def test_the_account_overview_and_ending_someones_sessions(accounts):
    acc, repo = accounts, SessionRepo(accounts.store)
    now = utcnow()
    bob = await acc.users.get("bob")
    async with acc.store.transaction() as tx:
        await repo.create(tx, bob, "192.0.2.7", now - dt.timedelta(hours=2))  # idle by now
        await repo.create(tx, bob, "192.0.2.7", now - dt.timedelta(minutes=1))
        for _ in range(5):
            await LoginFailureRepo(acc.store).record(tx, "al", "198.51.100.9", now)
    seen = await acc.overview(now + dt.timedelta(seconds=1))
    users = {u["name"]: u for u in seen["users"]}
    assert users["bob"]["live_sessions"] == 1
    last = dt.datetime.fromisoformat(users["bob"]["last_login_at"])
    assert abs(last - (now - dt.timedelta(minutes=1))) < dt.timedelta(seconds=1)
    assert users["sue"]["last_login_at"] is None and users["sue"]["live_sessions"] == 0
    assert users["al"]["locked_until"] is not None and users["bob"]["locked_until"] is None
    assert seen["locked_sources"] == [
        {"source": "198.51.100.9", "locked_until": users["al"]["locked_until"]}
    ]
    changed = dt.datetime.fromisoformat(users["bob"]["password_changed_at"])
    assert users["bob"]["password_expires_at"] == (changed + dt.timedelta(days=90)).isoformat()
    assert "password_hash" not in str(seen)

    with pytest.raises(ForbiddenError):
        await acc.revoke_sessions(AL, "bob")  # admin: not an account manager
    with pytest.raises(ForbiddenError, match="log out"):
        await acc.revoke_sessions(SUE, "sue")
    assert await acc.revoke_sessions(SUE, "bob") == 2  # the idle one is ended for good too
    assert (await acc.overview())["users"][1]["live_sessions"] == 0
    rows = await acc.audit.rows(action="session.revoke")
    assert [(r.actor_user, r.outcome, r.target) for r in rows] == [
        ("al", "refused", "bob"),
        ("sue", "refused", "sue"),
        ("sue", "ok", "bob"),
    ]
    assert rows[-1].after == {"sessions_ended": 2}


async def test_audit_rows_by_target_outcome_and_page(store):
    await append(store, 12)
    async with store.transaction() as tx:
        log = AuditLog(store)
        await log.append(tx, entry(target="100%_done", outcome="refused", reason="no"))
    log = AuditLog(store)
    assert [r.target for r in await log.rows(target="t1")] == ["t1", "t10", "t11"]
    assert [r.target for r in await log.rows(target="%_")] == ["100%_done"]  # not wildcards
    assert [r.id for r in await log.rows(outcome="refused")] == [13]
    page = await log.rows(limit=5, offset=5, newest_first=True)
    assert [r.id for r in page] == [8, 7, 6, 5, 4]
