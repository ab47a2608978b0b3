"""``/api/v1/incidents``: list, show (timeline + runbook progress), and the operator actions.

Each route's permission is declared in :data:`ROUTES` (operator: ack, step, diagnose, resolve;
lead: close, and a step's intervention flag overridden with a reason). Every action is done and
audited by :class:`~noc.store.operator_acts.OperatorActs` in one transaction, under the acting
account's name (a ``by`` in the body naming someone else is refused).

Actions are POSTs with a JSON body; a missing field is a 400, an unknown incident a 404, an
action that does not fit the incident's status (closing an open incident …) a 409 — each with
a reason, answered by the error middleware from the class of what the repository raised
(:mod:`noc.web.errors`). Nothing already recorded is changed by a refused request.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from incident_runbooks.model import Step
from noc.appkeys import AUTOMATION, CONFIG, ENGINE, RUNBOOKS, STORE
from noc.core.errors import InputError
from noc.incident_view import incident_detail, incident_summary
from noc.store.incidents import IncidentConflict, IncidentRepo
from noc.store.operator_acts import OperatorActs
from noc.store.tables import Incident
from noc.web.auth import policy_of, writer
from noc.web.permissions import READ
from noc.web.requests import json_body, path_id
from noc.web.routes import Param, Route

STATUSES = ("active", "open", "acknowledged", "recovered", "closed")


def _repo(request: web.Request) -> IncidentRepo:
    return IncidentRepo(request.app[STORE], request.app[CONFIG].site.name)


def _tz(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[CONFIG].site.timezone)


def _locale(request: web.Request) -> str:
    return "en" if request.query.get("lang") == "en" else request.app[CONFIG].site.locale


def _incident_id(request: web.Request) -> int:
    return path_id(request, "incident")


def runbook_of(app: web.Application, fault_type: str):
    runbooks = app.get(RUNBOOKS)
    if runbooks is None:
        return None
    try:
        return runbooks.for_fault(fault_type)
    except KeyError:
        return None


def runbook_step(app: web.Application, row: Incident, step_id: str) -> Step | None:
    """The step ``step_id`` of the incident's runbook (None: its fault has no runbook, any step
    may be recorded); a step the runbook lacks is refused. The API and the console ask here."""
    if not step_id.strip():
        raise InputError("missing field(s): step")
    runbook = runbook_of(app, row.fault_type)
    if runbook is None:
        return None
    step = next((s for s in runbook.steps if s.id == step_id), None)
    if step is None:
        raise InputError(f"runbook {runbook.id!r} has no step {step_id!r}")
    return step


def automated_step(app: web.Application, row: Incident, step_id: str) -> Step:
    """The automated step ``step_id`` to run now on the incident (not on a closed one)."""
    if row.status == "closed":
        raise IncidentConflict(f"incident #{row.id} is closed")
    runbook = runbook_of(app, row.fault_type)
    step = next((s for s in runbook.steps if s.id == step_id), None) if runbook else None
    if step is None or step.automated is None:
        raise InputError(f"{step_id!r} is not an automated step of this runbook")
    return step


async def list_incidents(request: web.Request) -> web.Response:
    status = request.query.get("status")
    if status is not None and status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)}")
    limit = request.query.get("limit", "100")
    if not limit.isdigit() or not 1 <= int(limit) <= 1000:
        raise InputError("limit must be a number from 1 to 1000")
    rows = await _repo(request).list(status, int(limit))
    tz = _tz(request)
    return web.json_response(
        {"incidents": [incident_summary(r, tz) for r in rows], "count": len(rows)}
    )


async def show_incident(request: web.Request) -> web.Response:
    repo = _repo(request)
    row = await repo.get(_incident_id(request))
    events = await repo.events(row.id)
    runbook = runbook_of(request.app, row.fault_type)
    return web.json_response(incident_detail(row, events, runbook, _tz(request), _locale(request)))


def _acts(request: web.Request) -> OperatorActs:
    app = request.app
    return OperatorActs(app[STORE], app[CONFIG].site.name, policy_of(app))


def _by(body: dict) -> str | None:
    """A ``by`` in the body may only name the acting account (the act checks)."""
    return None if body.get("by") is None else str(body["by"])


async def acknowledge(request: web.Request) -> web.Response:
    body = await json_body(request)
    incident_id = _incident_id(request)
    row = await _acts(request).acknowledge(
        writer(request), incident_id, str(body.get("note") or ""), _by(body)
    )
    return web.json_response(incident_summary(row, _tz(request)))


async def resolve(request: web.Request) -> web.Response:
    body = await json_body(request, ("note",))
    incident_id = _incident_id(request)
    row = await _acts(request).resolve(writer(request), incident_id, str(body["note"]), _by(body))
    automation = request.app.get(AUTOMATION)
    # verify as on a recovery the engine saw, where the automation follows the engine (probing)
    if automation is not None and _follows_engine(request.app):
        automation.recovered(incident_id)
    return web.json_response(incident_summary(row, _tz(request)))


def _follows_engine(app: web.Application) -> bool:
    engine = app.get(ENGINE)
    return engine is not None and app[AUTOMATION].on_changes in engine.listeners


async def close(request: web.Request) -> web.Response:
    body = await json_body(request, ("note",))
    incident_id = _incident_id(request)
    row = await _acts(request).close(writer(request), incident_id, str(body["note"]), _by(body))
    return web.json_response(incident_summary(row, _tz(request)))


async def step_done(request: web.Request) -> web.Response:
    """Record a runbook step. ``intervention`` other than the runbook's flag is an override:
    it needs ``step.override`` (lead) and a ``reason``."""
    body = await json_body(request, ("step",))
    incident_id = _incident_id(request)
    intervention = body.get("intervention")
    if intervention is not None and not isinstance(intervention, bool):
        raise InputError("intervention must be true or false")
    row = await _repo(request).get(incident_id)
    step = runbook_step(request.app, row, str(body["step"]))
    row, _ = await _acts(request).record_step(
        writer(request),
        incident_id,
        str(body["step"]),
        str(body.get("output") or ""),
        intervention,
        step.intervention if step is not None else None,
        str(body.get("reason") or ""),
        _by(body),
    )
    return web.json_response(incident_summary(row, _tz(request)))


async def run_step(request: web.Request) -> web.Response:
    """Run an automated runbook step now; its output is appended to the timeline and returned.
    The order is audited (``incident.diagnose``) before the step runs."""
    row = await _repo(request).get(_incident_id(request))
    step = automated_step(request.app, row, request.match_info["step"])
    await _acts(request).order_diagnostic(writer(request), row.id, step.id)
    members = tuple((row.impact or {}).get("members", []))
    output = await request.app[AUTOMATION].run(row.id, step, row.root_asset, members)
    return web.json_response(
        {"ok": output.ok, "summary": output.summary, "text": output.text, "data": output.data}
    )


async def regrade(request: web.Request) -> web.Response:
    body = await json_body(request, ("level", "note"))
    incident_id = _incident_id(request)
    row = await _acts(request).regrade(
        writer(request), incident_id, str(body["level"]), str(body["note"]), _by(body)
    )
    return web.json_response(incident_summary(row, _tz(request)))


def _body_schema(*required: str, **optional: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {"by": _BY}
    props.update({k: {"type": "string"} for k in required})
    props.update(optional)
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    return schema


_NOTE = {"type": "string"}
_BY = {"type": "string", "description": "optional: the acting account's own name (recorded anyway)"}
INCIDENT = "/api/v1/incidents/{id}"
ROUTES = (
    Route(
        "GET",
        "/api/v1/incidents",
        list_incidents,
        READ,
        "List incidents, newest first",
        query=(
            Param("status", f"one of {', '.join(STATUSES)}"),
            Param("limit", "1 to 1000 (default 100)", {"type": "integer"}),
            Param("lang", "en for English runbook texts"),
        ),
        tag="incidents",
    ),
    Route(
        "GET",
        INCIDENT,
        show_incident,
        READ,
        "An incident with its timeline and runbook progress",
        tag="incidents",
    ),
    Route(
        "POST",
        f"{INCIDENT}/ack",
        acknowledge,
        "ack",
        "Acknowledge an open incident",
        body=_body_schema(note=_NOTE),
        tag="incidents",
        action="incident.ack",
    ),
    Route(
        "POST",
        f"{INCIDENT}/steps",
        step_done,
        "step",
        "Record a runbook step as done",
        body=_body_schema("step", reason=_NOTE, output=_NOTE, intervention={"type": "boolean"}),
        tag="incidents",
        action="incident.step",
    ),
    Route(
        "POST",
        f"{INCIDENT}/steps/{{step}}/run",
        run_step,
        "diagnose",
        "Run an automated runbook step now and return its output",
        tag="incidents",
        action="incident.diagnose",
    ),
    Route(
        "POST",
        f"{INCIDENT}/regrade",
        regrade,
        "regrade",
        "Set the incident's level by hand (I..IV), with a reason",
        body=_body_schema("level", "note"),
        tag="incidents",
        action="incident.regrade",
    ),
    Route(
        "POST",
        f"{INCIDENT}/resolve",
        resolve,
        "resolve",
        "Declare the fault fixed by hand (recovered, manual)",
        body=_body_schema("note"),
        tag="incidents",
        action="incident.resolve",
    ),
    Route(
        "POST",
        f"{INCIDENT}/close",
        close,
        "close",
        "Close a recovered incident with its cause",
        body=_body_schema("note"),
        tag="incidents",
        action="incident.close",
    ),
)
