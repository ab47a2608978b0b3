"""One place where errors become HTTP answers.

Handlers raise: a :class:`~noc.core.errors.NocError` subclass (its class gives the status and
the code), or aiohttp's ``HTTPException`` (an unknown route, a wrong method). Under ``/api/``
every error is JSON ``{"error": code, "reason": text}``, never an HTML page; anything else
unexpected is logged with its traceback and answered 500 without details. No handler
translates errors itself, and nothing here looks at message text.
"""

from __future__ import annotations

from aiohttp import web

from noc.core.errors import NocError
from noc.core.logs import get_logger

log = get_logger("noc.web")


def json_error(
    status: int, code: str, reason: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The API's error body."""
    return web.json_response({"error": code, "reason": reason}, status=status, headers=headers)


def _headers(exc: NocError) -> dict[str, str] | None:
    """``Retry-After`` for an error that says when to try again (a busy store: 503)."""
    after = getattr(exc, "retry_after", None)
    return {"Retry-After": str(after)} if after is not None else None


def _is_api(request: web.Request) -> bool:
    """Under ``/api/``, or any request that sent JSON: it gets a JSON answer."""
    return request.path.startswith("/api/") or request.content_type == "application/json"


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except NocError as exc:
        if exc.status >= 500:
            log.warning("request_refused", path=request.path, status=exc.status, reason=exc.reason)
        if _is_api(request):
            return json_error(exc.status, exc.code, exc.reason, _headers(exc))
        return web.Response(status=exc.status, text=exc.reason, headers=_headers(exc))
    except web.HTTPException as exc:
        if _is_api(request) and exc.status >= 400:
            return json_error(
                exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason
            )
        raise
    except Exception:
        log.exception("request_failed", path=request.path, method=request.method)
        if _is_api(request):
            return json_error(500, "internal_error", "internal error; see the service log")
        raise
