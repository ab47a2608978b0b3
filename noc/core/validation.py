"""pydantic validation errors → short messages an operator can act on.

Shared by the inventory config and the runbook loader so both speak the same way:
"must be 2c or 3", "unknown key (did you mean 'bandwidth'?)", "required key is missing".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, get_args

from pydantic import BaseModel


def error_message(err: dict[str, Any], field_names: Iterable[str]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        close = difflib.get_close_matches(key, list(field_names), n=1)
        return f"unknown key{f' (did you mean {close[0]!r}?)' if close else ''}"
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
        return "must be a string"
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
