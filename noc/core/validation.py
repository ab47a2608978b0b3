"""The validation toolkit the config, alerting and runbook models share, so they speak alike.

* :class:`StrictModel`: frozen, unknown keys rejected (every typed document derives from it);
* :data:`Name`: the one name rule (``voice-gw``, ``mstp_ticket``) for assets, services,
  receivers, sites, runbook and step ids;
* :class:`LocalizedText`: a label in Chinese (shown by default) and English;
* pass-2 helpers: :func:`did_you_mean` / :func:`unknown` for a dangling name, and
  :func:`duplicates` for a name given twice;
* pydantic errors → short messages an operator can act on: "must be 2c or 3",
  "unknown key (did you mean 'bandwidth'?)", "required key is missing";
* :data:`NumberAsText`: a key whose text is often a bare number (SNMP ``version: 3``, an
  interface named ``1``, a label ``floor: 3``) takes the YAML integer as that text. Only keys
  where no leading zero, hex or sign can matter use it; a number anywhere else text is meant
  (names, users, secrets, engine IDs) is refused with "put it in quotes", since YAML reads
  ``0123`` as 83 and ``0x1F`` as 31 and the text typed would be lost (docs/config.md lists the
  keys).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Annotated, Any, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from noc.core.yamlsource import LocatedData, SourceIssue
from noc.core.yamlsource import Path as DataPath

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class StrictModel(BaseModel):
    """Frozen, and an unknown key is an error (a typo never passes silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError(
            "must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit"
        )
    return value


Name = Annotated[str, AfterValidator(check_name)]


def _int_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


NumberAsText = BeforeValidator(_int_as_text)
"""``Annotated[str, NumberAsText]``: an unquoted YAML integer is taken as its digits."""

QUOTE_NUMBER = (
    "must be text: put it in quotes (YAML reads an unquoted 0123 as the number 83, 0x1F as 31)"
)


class LocalizedText(StrictModel):
    """A label in Chinese (shown by default) and English (optional: Chinese stands in)."""

    zh: str
    en: str = ""

    def get(self, locale: str = "zh-CN") -> str:
        return self.en if locale.startswith("en") and self.en else self.zh


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest known name, or nothing."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown(kind: str, name: str, known: Iterable[str]) -> str:
    """``unknown asset 'mstp-voce' (did you mean 'mstp-voice'?)``."""
    return f"unknown {kind} {name!r}{did_you_mean(name, known)}"


def duplicates(names: Iterable[str]) -> Iterator[tuple[int, int]]:
    """``(index, first index)`` for every name that repeats an earlier one."""
    first: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in first:
            yield i, first[name]
        else:
            first[name] = i


def duplicate_issues(
    src: LocatedData, base: DataPath, names: Sequence[str], what: str, key: str = "name"
) -> list[SourceIssue]:
    """``duplicate asset name 'x' (first at line 12)`` at ``base[i].key`` for each repeat."""
    issues = []
    for i, first in duplicates(names):
        line = src.line_of((*base, first, key))
        message = f"duplicate {what} {names[i]!r} (first at line {line})"
        issues.append(src.issue((*base, i, key), message))
    return issues


def error_message(err: dict[str, Any], field_names: Iterable[str]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key" + did_you_mean(str(err["loc"][-1]), field_names)
    if kind == "literal_error":
        return f"must be {str(ctx.get('expected', '')).replace(chr(39), '')}"
    if kind == "union_tag_invalid":
        return f"must be one of {str(ctx.get('expected_tags', '')).replace(chr(39), '')}"
    if kind == "union_tag_not_found":
        return "required key is missing"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be an integer"
    if kind in ("float_parsing", "float_type"):
        return "must be a number"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false"
    if kind in ("string_type",):
        number = isinstance(err.get("input"), int | float) and not isinstance(err["input"], bool)
        return QUOTE_NUMBER if number else "must be a string"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "must be a mapping (key: value)"
    if kind in ("list_type", "tuple_type"):
        return "must be a list"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} item(s)"
    for bound, op in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
        if bound in ctx and kind.startswith(("greater", "less")):
            return f"must be {op} {ctx[bound]}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"])).removeprefix("Value error, ")
    if kind == "assertion_error":
        return err["msg"].removeprefix("Assertion failed, ")
    return err["msg"]


def first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = first_model(arg)
        if found is not None:
            return found
    return None
