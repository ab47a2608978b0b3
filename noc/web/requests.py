"""Reading what a client sent: the JSON body of an action and numeric ids in the path.

Shared by every API module, so a bad body or id is refused the same way everywhere: an
:class:`~noc.core.errors.InputError` (400 with the reason, through the error middleware).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from noc.core.errors import InputError


async def json_body(request: web.Request, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The body as a JSON object, with every ``required`` field present and not blank."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError("body must be a JSON object") from None
    if not isinstance(body, dict):
        raise InputError("body must be a JSON object")
    missing = [k for k in required if not str(body.get(k) or "").strip()]
    if missing:
        raise InputError(f"missing field(s): {', '.join(missing)}")
    return body


def path_id(request: web.Request, what: str, name: str = "id") -> int:
    """The numeric path parameter ``name`` (``what`` names it in the refusal)."""
    raw = request.match_info[name]
    if not raw.isdigit():
        raise InputError(f"{what} id must be a number, not {raw!r}")
    return int(raw)
