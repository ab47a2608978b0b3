"""What the audit log shows through the web: phone numbers, API tokens, password-like fields
and config secrets masked; names, times, addresses, ids and hashes left as they are."""

from __future__ import annotations

import pytest

from noc.audit_view import mask_text, masked_row


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("caller 13800138000 unknown", "caller 138****8000 unknown"),
        ("来电13800138000无效", "来电138****8000无效"),
        ("+86 13800138000", "138****8000"),
        ("0898-83301234", "0898-****1234"),
        ("local 83301234", "local ****1234"),
        ("intl +442079460123", "intl +44****0123"),
        ("token noc_" + "A" * 43, "token noc_AAAAAAAA…**********"),
        ("token noc_AbCd1234 revoked", "token noc_AbCd1234 revoked"),  # a listed prefix
        ("2026-11-30T08:00:00+08:00", "2026-11-30T08:00:00+08:00"),
        ("from 10.20.30.40", "from 10.20.30.40"),
        ("incident:12345", "incident:12345"),
        ("hash 3f1234567890ab", "hash 3f1234567890ab"),
        ("12345 hotline", "12345 hotline"),
        ("community s3cret-ro leaked", "community ********** leaked"),
    ],
)
def test_mask_text(text, shown):
    assert mask_text(text, ["s3cret-ro"]) == shown


def test_a_row_is_masked_in_its_text_fields_and_says_so():
    row = {
        "id": 7,
        "actor_user": "zhang",
        "source": "10.0.0.5",
        "target": "tickets.csv",
        "reason": "row 3: caller 13900001111",
        "before": None,
        "after": {"password": "Hunter-2-Hunter", "rows": 3, "callers": ["13900001111"]},
        "hash": "a" * 64,
    }
    out = masked_row(row)
    assert out["reason"] == "row 3: caller 139****1111"
    assert out["after"] == {"password": "**********", "rows": 3, "callers": ["139****1111"]}
    assert out["masked"] is True and out["hash"] == row["hash"] and out["source"] == "10.0.0.5"
    assert row["reason"].endswith("13900001111")  # the input is left alone
    plain = masked_row({**row, "reason": "", "after": {"rows": 3}})
    assert plain["masked"] is False
