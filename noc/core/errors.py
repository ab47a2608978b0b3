"""One exception tree for everything a person or a peer can get wrong.

Every error the product raises on purpose derives from :class:`NocError`. Its class, not its
message, decides how the edge answers: the HTTP status of the API (one aiohttp middleware) and
the exit code of the CLI (one decorator). No handler matches on message text.

::

    NocError                      (500, exit 1)  the base; never raised itself
    ├── InputError                (400, exit 2)  the request, file or option is wrong
    │   ├── ConfigError / RunbookError  (through SourceError: file:line key.path: message)
    │   ├── PeriodError, ScopeError, MaintenanceRequestError, DatabaseURLError, …
    ├── AuthError                 (401, exit 1)  who you are is not established (room kept)
    ├── ForbiddenError            (403, exit 1)  you may not do this (room kept)
    ├── NotFoundError             (404, exit 1)  no such incident, asset, scope, …
    ├── ConflictError             (409, exit 1)  the act does not fit the current state
    └── UnavailableError          (503, exit 1)  a peer (database, channel, lab) did not answer

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


class AuthError(NocError):
    """Not authenticated: 401."""

    status = 401
    code = "unauthenticated"


class ForbiddenError(NocError):
    """Authenticated but not allowed: 403."""

    status = 403
    code = "forbidden"


class NotFoundError(NocError, LookupError):
    """The thing named does not exist: 404, exit 1."""

    status = 404
    code = "not_found"


class ConflictError(NocError):
    """The act does not fit the current state: 409, exit 1."""

    status = 409
    code = "conflict"


class UnavailableError(NocError):
    """A peer did not answer (database, channel, lab daemon): 503, exit 1."""

    status = 503
    code = "unavailable"


__all__ = [
    "AuthError",
    "ConflictError",
    "ForbiddenError",
    "InputError",
    "NocError",
    "NotFoundError",
    "UnavailableError",
]
