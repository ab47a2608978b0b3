"""A console form acts as the API does: through the operator acts (:mod:`noc.store.operator_acts`),
under the logged-in account (:func:`noc.web.auth.writer`), the act and its audit row in one
transaction. The rules (who may, which state, a second person, a reason for an override) live in
the act, so the console, the API and the CLI refuse the same things for the same reasons.

:func:`act` runs a form's work and answers it: a 303 to the page that shows the result, or the
form's page again with the refusal — its status from the class of the :class:`NocError`
(:data:`REFUSALS`: 400, 403, 404, 409), its title from the message catalog in the reader's
language, the reason as the act gave it. One helper for every form; no handler maps errors.

A refusal raised before the act began (a form that cannot be read, an unknown step) is recorded
once under the route's action (:func:`noc.web.auth.record_refusal`); one the act raised, the act
recorded. A request that sent JSON (a script) gets the error middleware's JSON answer instead of
a page, and a page that is itself gone (no such incident) the plain answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from noc.appkeys import CONFIG, STORE
from noc.core.errors import ConflictError, ForbiddenError, InputError, NocError, NotFoundError
from noc.identity.actor import PermissionDenied
from noc.store.operator_acts import OperatorActs
from noc.web.auth import current_actor, policy_of, record_refusal
from noc.web.console.context import lang
from noc.web.console.messages import translate
from noc.web.console.pages import render, see_other
from noc.web.errors import wants_json

REFUSALS: tuple[tuple[type[NocError], int, str], ...] = (
    (InputError, 400, "error.bad_request"),
    (ForbiddenError, 403, "error.forbidden"),
    (NotFoundError, 404, "error.not_found"),
    (ConflictError, 409, "error.conflict"),
)
"""The refusals a form answers with its page again: class → status, catalog title."""
REFUSED = tuple(cls for cls, _, _ in REFUSALS)

Work = Callable[[], Awaitable[str]]
PageContext = Callable[[], Awaitable[dict[str, Any]]]


def acts(request: web.Request) -> OperatorActs:
    """The operator acts of this service (the same the API builds)."""
    app = request.app
    return OperatorActs(app[STORE], app[CONFIG].site.name, policy_of(app))


def refusal(request: web.Request, exc: NocError) -> dict[str, Any]:
    """What the page says of a refusal, in the reader's language: status, title and text."""
    language = lang(request)
    status, key = next((s, k) for cls, s, k in REFUSALS if isinstance(exc, cls))
    text = exc.reason
    if isinstance(exc, PermissionDenied) and exc.holders:
        actor = current_actor(request)
        text = translate(
            "error.needs_roles",
            language,
            permission=exc.permission,
            roles=translate("list.sep", language).join(
                translate(f"role.{r}", language) for r in exc.holders
            ),
            user=actor.user or "",
            role=translate(f"role.{actor.role}", language) if actor.role else "–",
        )
    return {"status": status, "title": translate(key, language), "text": text}


async def act(
    request: web.Request, work: Work, template: str, context: PageContext
) -> web.StreamResponse:
    """Run ``work`` (it acts and returns where the result is shown): 303 there, or ``template``
    with ``context()`` again and the refusal (4xx) when the act, or the reading before it, refused."""
    try:
        location = await work()
    except REFUSED as exc:
        if wants_json(request):
            raise  # a script's request: the error middleware answers (and records) it
        await record_refusal(request, exc)
        try:
            page = await context()
        except NotFoundError:
            raise exc from None  # the page itself is gone: the plain answer
        said = refusal(request, exc)
        return render(request, template, {**page, "refusal": said}, said["status"])
    return see_other(location)


__all__ = ["REFUSALS", "act", "acts", "refusal"]
