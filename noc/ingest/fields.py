"""One parser per kind of value, each with the exact reason it gives when a value is wrong.

The same parsers read JSON (typed values), CSV (strings) and XLSX cells (datetimes, numbers),
so a file and an API client get the same answer for the same value. A parser returns the
value, or ``None`` for an empty one, or raises :class:`Invalid` with a reason that names no
field (the caller adds the field, the row and the column).

Times without an offset are site time (``Asia/Shanghai`` in Lingshui) and come out in UTC.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

UTC = dt.UTC


class Invalid(ValueError):
    """A value that cannot be accepted; the message is the reason, without the field name."""


@dataclass(frozen=True)
class Vocabulary:
    """A closed set of codes, each with its Chinese label; either (or an alias) is accepted."""

    labels: Mapping[str, str]  # code → 中文
    aliases: Mapping[str, str] | None = None  # extra spelling → code

    def parse(self, value: Any) -> str | None:
        text = _text(value)
        if text is None:
            return None
        key = text.strip()
        if key.lower() in self.labels:
            return key.lower()
        for code, label in self.labels.items():
            if key == label:
                return code
        if self.aliases and key.lower() in self.aliases:
            return self.aliases[key.lower()]
        raise Invalid(f"{text!r} is not one of {self.choices()}")

    def choices(self) -> str:
        return ", ".join(f"{label} ({code})" for code, label in self.labels.items())

    def label(self, code: str | None) -> str | None:
        return self.labels.get(code) if code else None


CALL_OUTCOMES = Vocabulary(
    {
        "answered": "接通",
        "abandoned": "放弃",
        "timeout": "超时",
        "transferred": "转接",
        "ivr_only": "仅自助语音",
    }
)
CHANNELS = Vocabulary(
    {
        "phone": "电话",
        "web": "网站",
        "wechat": "微信",
        "app": "手机应用",
        "sms": "短信",
        "email": "电子邮件",
        "letter": "来信",
        "province": "省平台",
    },
    {"邮件": "email", "信件": "letter", "微信公众号": "wechat", "网络": "web"},
)
TICKET_TYPES = Vocabulary(
    {
        "enquiry": "咨询",
        "help": "求助",
        "complaint": "投诉",
        "suggestion": "建议",
        "report": "举报",
        "praise": "表扬",
        "other": "其他",
    }
)
SATISFACTION = Vocabulary(
    {
        "satisfied": "满意",
        "basically_satisfied": "基本满意",
        "dissatisfied": "不满意",
        "unrated": "未评价",
    }
)
CALLBACK_METHODS = Vocabulary({"phone": "电话", "sms": "短信"})
TICKET_SOURCES = Vocabulary({"local": "本地", "province": "省派"})
SPOT_RESULTS = Vocabulary({"pass": "合格", "fail": "不合格"})
COMMENDATION_KINDS = Vocabulary({"call": "来电", "letter": "来信", "banner": "锦旗"})
EVENT_KINDS = Vocabulary(
    {
        "created": "受理",
        "dispatched": "派单",
        "closed": "办结",
        "callback": "回访",
        "rated": "评价",
        "spot_checked": "抽检",
        "complaint_ruled": "投诉认定",
        "commended": "表扬",
        "reopened": "重办",
    }
)


def _text(value: Any) -> str | None:
    """A cell or JSON value as text; ``None`` for empty. Whole floats lose their ``.0``
    (Excel keeps phone and ticket numbers as numbers)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


def text(value: Any, max_len: int) -> str | None:
    out = _text(value)
    if out is not None and len(out) > max_len:
        raise Invalid(f"is longer than {max_len} characters ({len(out)})")
    return out


_ID_RE = re.compile(r"^[^\s\x00-\x1f]+$")


def identifier(value: Any, max_len: int = 64) -> str | None:
    """An external id (ticket number, call id): no spaces or control characters."""
    out = text(value, max_len)
    if out is not None and not _ID_RE.match(out):
        raise Invalid(f"{out!r} must not contain spaces or control characters")
    return out


_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y年%m月%d日 %H:%M:%S")
TIME_HINT = "use e.g. 2026-11-03 08:15:00 (site time) or ISO 8601 with an offset"


def instant(value: Any, tz: ZoneInfo) -> dt.datetime | None:
    """A point in time, returned in UTC; a value without an offset is site time."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    else:
        raw = _text(value)
        if raw is None:
            return None
        parsed = _parse_time_text(raw)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def _parse_time_text(raw: str) -> dt.datetime:
    candidate = raw.replace("Z", "+00:00") if raw.endswith("Z") else raw
    try:
        return dt.datetime.fromisoformat(candidate)
    except ValueError:
        pass
    for fmt in _TIME_FORMATS:
        try:
            return dt.datetime.strptime(raw, fmt)
        except ValueError:
            continue
    raise Invalid(f"cannot read time {raw!r}; {TIME_HINT}")


def date(value: Any) -> dt.date | None:
    """A calendar date (site calendar); a datetime keeps only its date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = _text(value)
    if raw is None:
        return None
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(raw).date()
    except ValueError:
        raise Invalid(f"cannot read date {raw!r}; use e.g. 2026-11-03") from None


_TRUE = {"true", "1", "yes", "y", "是", "对", "√"}
_FALSE = {"false", "0", "no", "n", "否", "不是", "×"}


def boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    raw = _text(value)
    if raw is None:
        return None
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise Invalid(f"{raw!r} must be 是 or 否 (true or false)")


_HMS_RE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def seconds(value: Any) -> float | None:
    """A duration in seconds: a number, or ``[h:]mm:ss`` as call-centre exports write it."""
    if isinstance(value, bool):
        raise Invalid(f"{value!r} must be seconds (e.g. 42 or 00:00:42)")
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, dt.time):
        out = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    elif isinstance(value, dt.timedelta):
        out = value.total_seconds()
    else:
        raw = _text(value)
        if raw is None:
            return None
        match = _HMS_RE.match(raw)
        try:
            if match:
                hours, minutes, secs = match.groups()
                out = int(hours or 0) * 3600 + int(minutes) * 60 + float(secs)
            else:
                out = float(raw)
        except ValueError:
            raise Invalid(f"{raw!r} must be seconds (e.g. 42 or 00:00:42)") from None
    if math.isnan(out) or math.isinf(out) or out < 0:
        raise Invalid(f"{value!r} must be a number of seconds ≥ 0")
    return out


def positive_int(value: Any) -> int | None:
    raw = _text(value)
    if raw is None:
        return None
    try:
        out = int(raw)
    except ValueError:
        raise Invalid(f"{raw!r} must be a whole number") from None
    if out < 1:
        raise Invalid(f"{raw!r} must be ≥ 1")
    return out


_TAG_SPLIT = re.compile(r"[,，、;；|]")


def tags(value: Any) -> list[str]:
    """A list of tags, or one string of them separated by , ， 、 ; or |."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else _TAG_SPLIT.split(str(value))
    out: list[str] = []
    for item in items:
        tag = _text(item)
        if tag is None:
            continue
        if len(tag) > 32:
            raise Invalid(f"tag {tag!r} is longer than 32 characters")
        if tag not in out:
            out.append(tag)
    if len(out) > 20:
        raise Invalid(f"has {len(out)} tags; at most 20")
    return out
