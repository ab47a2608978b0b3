"""Session timeouts and ids; API token format, hashing and states."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest

from noc.identity.sessions import (
    SessionPolicy,
    csrf_matches,
    new_session,
    secret_hash,
    session_state,
)
from noc.identity.tokens import bearer_token, new_token, token_state

T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def state(last_seen_min: float, now_min: float, revoked_min: float | None = None, **policy):
    s = new_session(T0, SessionPolicy(**policy))
    return session_state(
        last_seen_at=T0 + last_seen_min * MIN,
        expires_at=s.expires_at,
        revoked_at=None if revoked_min is None else T0 + revoked_min * MIN,
        now=T0 + now_min * MIN,
        policy=SessionPolicy(**policy),
    )


def test_idle_after_30_minutes_without_a_request():
    assert state(0, 29.9) == "active"
    assert state(0, 30) == "idle"
    assert state(100, 129) == "active"


def test_absolute_end_after_12_hours_however_active():
    assert state(719, 719.9) == "active"
    assert state(719.9, 720) == "expired"


def test_revoked_is_final_and_timeouts_are_configurable():
    assert state(0, 5, revoked_min=4) == "revoked"
    assert state(0, 5, idle=dt.timedelta(minutes=5)) == "idle"
    assert state(59, 60, idle=dt.timedelta(minutes=10), absolute=dt.timedelta(hours=1)) == "expired"
    with pytest.raises(ValueError):
        SessionPolicy(idle=dt.timedelta(hours=2), absolute=dt.timedelta(hours=1))


def test_session_ids_are_random_and_only_their_hash_is_kept():
    a, b = new_session(T0), new_session(T0)
    assert a.secret != b.secret and a.csrf_token != b.csrf_token
    assert a.id_hash == hashlib.sha256(a.secret.encode()).hexdigest() != a.secret
    assert len(a.secret) >= 43 and a.expires_at == T0 + dt.timedelta(hours=12)
    assert csrf_matches(a.csrf_token, a.csrf_token)
    assert not csrf_matches(a.csrf_token, b.csrf_token) and not csrf_matches(a.csrf_token, None)


def test_token_format():
    t = new_token()
    assert re.fullmatch(r"noc_[A-Za-z0-9_-]{43}", t.secret)
    assert t.prefix == t.secret[:12] and t.token_hash == secret_hash(t.secret)
    assert new_token().secret != t.secret


def test_bearer_header():
    t = new_token().secret
    assert bearer_token(f"Bearer {t}") == t
    assert bearer_token(f"bearer   {t} ") == t
    assert bearer_token(f"Basic {t}") is None
    assert bearer_token("Bearer something-else") is None
    assert bearer_token(None) is None


def test_token_states():
    end = T0 + dt.timedelta(days=90)
    assert token_state(expires_at=end, revoked_at=None, now=T0) == "active"
    assert token_state(expires_at=end, revoked_at=None, now=end) == "expired"
    assert token_state(expires_at=end, revoked_at=T0, now=T0 + MIN) == "revoked"
