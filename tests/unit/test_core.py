"""noc.core, the floor: the one validation toolkit, mask, display width and vocabulary that every
package shares (they were copied, and drifted: masks of 8 and 10 stars, two width rules)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, TypeAdapter, ValidationError

from noc.core.secrets import MASK, SecretScrubber, mask_secrets
from noc.core.text import display_width, pad, table
from noc.core.validation import (
    LocalizedText,
    Name,
    StrictModel,
    did_you_mean,
    duplicate_issues,
    duplicates,
    unknown,
)
from noc.core.vocabulary import (
    BURN_ALERTS,
    BURN_RATE_LOOKBACKS,
    FAULT_NAMES,
    FAULT_TYPES,
    LEVELS,
    LOOKBACK_SECONDS,
    Level,
    more_severe,
    most_severe,
    normalize_level,
)
from noc.core.yamlsource import load_located

# --- display width ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("", 0),
        ("abc", 3),
        ("专线中断", 8),  # CJK ideographs: wide
        ("ＡＢ", 4),  # fullwidth Latin
        ("级：", 4),  # fullwidth colon, as in Chinese labels
        ("ｱ", 1),  # halfwidth katakana
        ("e\u0301", 1),  # e + combining acute: one column
        ("a\u200db", 2),  # zero-width joiner takes none
        ("α", 1),  # ambiguous width counts one (a non-CJK terminal)
        ("가", 2),  # Hangul syllable: wide
        ("✓", 1),
    ],
)
def test_display_width(text, width):
    assert display_width(text) == width


def test_table_aligns_chinese_and_combining_text():
    rows = [["名称 name", "x"], ["专线", "1"], ["cafe\u0301", "22"]]
    lines = table(rows[0], rows[1:])
    # the second column starts at the same terminal column on every line
    starts = [
        display_width(line) - display_width(row[1]) for line, row in zip(lines, rows, strict=True)
    ]
    assert starts == [display_width("名称 name") + 2] * 3
    assert lines[1] == "专线" + " " * (display_width("名称 name") - 4) + "  1"
    assert pad("中", 1) == "中"  # never cut, never negative


# --- secrets ------------------------------------------------------------------------------------


def test_one_mask_and_it_is_pydantics():
    assert MASK == str(SecretStr("community")) == "**********"


def test_mask_secrets_longest_first():
    text = "public public-rw and rw"
    assert mask_secrets(text, ["public", "public-rw", None, ""]) == f"{MASK} {MASK} and rw"
    assert SecretScrubber(["public", "public-rw"]).scrub(text) == mask_secrets(
        text, ["public-rw", "public"]
    )


# --- validation toolkit ---------------------------------------------------------------------------


@pytest.mark.parametrize("good", ["a", "voice-gw", "mstp_ticket", "0x", "a" * 63])
def test_name_accepts(good):
    assert TypeAdapter(Name).validate_python(good) == good


@pytest.mark.parametrize("bad", ["", "-a", "_a", "Voice", "a b", "a.b", "a" * 64, "语音"])
def test_name_rejects(bad):
    with pytest.raises(ValidationError, match="lowercase letters"):
        TypeAdapter(Name).validate_python(bad)


def test_strict_model_is_frozen_and_forbids_unknown_keys():
    class Thing(StrictModel):
        name: Name

    with pytest.raises(ValidationError, match="extra"):
        Thing(name="a", nmae="b")
    thing = Thing(name="a")
    with pytest.raises(ValidationError):
        thing.name = "b"


def test_localized_text_falls_back_to_chinese():
    text = LocalizedText(zh="陵水", en="Lingshui")
    assert (text.get("zh-CN"), text.get("en"), text.get()) == ("陵水", "Lingshui", "陵水")
    assert LocalizedText(zh="陵水").get("en") == "陵水"


def test_did_you_mean_and_unknown():
    known = ["mstp-voice", "mstp-ticket", "internet"]
    assert did_you_mean("mstp-voce", known) == " (did you mean 'mstp-voice'?)"
    assert did_you_mean("zzz", known) == ""
    assert unknown("asset", "mstp-voce", known) == (
        "unknown asset 'mstp-voce' (did you mean 'mstp-voice'?)"
    )


def test_duplicates_point_at_the_first():
    assert list(duplicates(["a", "b", "a", "c", "b", "a"])) == [(2, 0), (4, 1), (5, 0)]
    src = load_located("things:\n  - name: a\n  - name: b\n  - name: a\n", "t.yaml")
    (issue,) = duplicate_issues(src, ("things",), ["a", "b", "a"], "thing name")
    assert str(issue) == "t.yaml:4 things[2].name: duplicate thing name 'a' (first at line 2)"


# --- vocabulary -----------------------------------------------------------------------------------


def test_levels_and_aliases():
    assert LEVELS == ("I", "II", "III", "IV")
    for i, level in enumerate(LEVELS, start=1):
        assert normalize_level(f"P{i}") == normalize_level(f"p{i}") == normalize_level(i) == level
    assert normalize_level("V") == "V"  # left for the validator to refuse
    assert TypeAdapter(Level).validate_python("P2") == "II"
    with pytest.raises(ValidationError):
        TypeAdapter(Level).validate_python("P5")
    assert more_severe("III", "II") == "II" and most_severe([]) == "IV"
    assert most_severe(["IV", "II", "III"]) == "II"


def test_fault_types_have_both_names():
    assert FAULT_TYPES == tuple(FAULT_NAMES)
    assert all(zh and en for zh, en in FAULT_NAMES.values())


def test_burn_table_is_sloths():
    """Sloth's multi-window table: 14.4× 1h/5m, 6× 6h/30m, 3× 1d/2h, 1× 3d/6h."""
    assert [(a.short, a.long, a.factor) for a in BURN_ALERTS] == [
        ("5m", "1h", 14.4),
        ("30m", "6h", 6.0),
        ("2h", "1d", 3.0),
        ("6h", "3d", 1.0),
    ]
    assert [a.severity for a in BURN_ALERTS] == ["page", "page", "ticket", "ticket"]
    windows = {w for a in BURN_ALERTS for w in (a.short, a.long)}
    assert windows <= set(BURN_RATE_LOOKBACKS) == set(LOOKBACK_SECONDS)
    seconds = [LOOKBACK_SECONDS[w] for w in BURN_RATE_LOOKBACKS]
    assert seconds == sorted(seconds)


async def test_loop_thread_runs_off_the_callers_loop_keeps_state_and_cancels():
    import asyncio
    import threading

    from noc.core.aio import LoopThread

    worker = LoopThread("test worker")
    here = threading.get_ident()

    async def where(state: dict) -> tuple[int, int]:
        state["calls"] = state.get("calls", 0) + 1
        return threading.get_ident(), state["calls"]

    first, second = await worker.run(where), await worker.run(where)
    assert first[0] == second[0] != here
    assert (first[1], second[1]) == (1, 2)  # one state across calls (a store opened once)

    started, cancelled = threading.Event(), threading.Event()

    async def forever(state: dict) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    task = asyncio.create_task(worker.run(forever))
    await asyncio.to_thread(started.wait)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(cancelled.wait, 10)  # the coroutine in the thread was cancelled

    closed = []

    async def closing(state: dict) -> None:
        closed.append(state["calls"])

    await worker.close(closing)
    assert closed == [2]
