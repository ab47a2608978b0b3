"""One exception tree for everything a person or a peer can get wrong.

Every error the product raises on purpose derives from :class:`NocError`. Its class, not its
message, decides how the edge answers: the HTTP status of the API (one aiohttp middleware) and
the exit code of the CLI (one decorator). No handler matches on message text.

::

    NocError                      (500, exit 1)  the base; never raised itself
    ├── InputError                (400, exit 2)  the request, file or option is wrong
    │   ├── SourceError → ConfigError, RunbookError  (file:line key.path: message, all at once)
    │   ├── PeriodError, ScopeError (sla), MaintenanceRequestError, IncidentRequestError
    │   ├── DatabaseURLError, NotifierConfigError
    │   └── ProbeSafetyError      the test range without its blackhole (the probe CLI's exit 2)
    ├── AuthError                 (401, exit 1)  who you are is not established (room kept)
    ├── ForbiddenError            (403, exit 1)  you may not do this (room kept)
    ├── NotFoundError             (404, exit 1)  no such incident, asset, window, scope, …
    │   ├── IncidentNotFound
    │   └── UnknownScope          (exit 2: on the command line the name is a typed option)
    ├── ConflictError             (409, exit 1)  the act does not fit the current state
    │   └── IncidentConflict      (IncidentNotFound/Conflict/RequestError are IncidentErrors)
    └── UnavailableError          (503, exit 1)  a peer (database, channel, lab) did not answer
        └── DiagError             a diagnostic (traceroute, ARP scan) could not run

The edges: :mod:`noc.web.errors` (the middleware: status + ``{"error": code, "reason": …}``)
and :func:`noc.cli.common.exit_on_error` (``label: reason`` on stderr, the exit code).

Network outcomes of probes are *values* (``probes.base.ProbeResult``), never exceptions; this
tree is for requests, files and operators.
"""

from __future__ import annotations

from typing import ClassVar


class NocError(Exception):
    """Base of every deliberate error; ``status`` and ``exit_code`` say how the edges answer."""

    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1
    code: ClassVar[str] = "error"
    label: ClassVar[str] = "错误 / error"  # what the CLI prints before the reason

    def __init__(self, message: str = "", *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message

    @property
    def message(self) -> str:
        return str(self)


class InputError(NocError, ValueError):
    """The request, file or option is wrong: 400, exit 2."""

    status = 400
    exit_code = 2
    code = "bad_request"
    label = "参数有误 / bad input"


class AuthError(NocError):
    """Not authenticated: 401."""

    status = 401
    code = "unauthenticated"
    label = "未认证 / not authenticated"


class ForbiddenError(NocError):
    """Authenticated but not allowed: 403."""

    status = 403
    code = "forbidden"
    label = "禁止 / forbidden"


class NotFoundError(NocError, LookupError):
    """The thing named does not exist: 404, exit 1."""

    status = 404
    code = "not_found"
    label = "未找到 / not found"


class ConflictError(NocError):
    """The act does not fit the current state: 409, exit 1."""

    status = 409
    code = "conflict"
    label = "拒绝 / refused"


class UnavailableError(NocError):
    """A peer did not answer (database, channel, lab daemon), or the service is busy with the
    same kind of work: 503, exit 1. ``retry_after`` (seconds), when known, becomes the HTTP
    ``Retry-After`` header."""

    status = 503
    code = "unavailable"
    label = "无法执行 / unavailable"

    def __init__(
        self, message: str = "", *, reason: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message, reason=reason)
        self.retry_after = retry_after


__all__ = [
    "AuthError",
    "ConflictError",
    "ForbiddenError",
    "InputError",
    "NocError",
    "NotFoundError",
    "UnavailableError",
]
