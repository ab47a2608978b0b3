"""故障 incidents: the filtered list, the detail (live timeline, runbook checklist, deliveries,
symptoms, merged incidents) and the actions as plain form posts.

Actions call the same :class:`noc.store.incidents.IncidentRepo` methods as ``/api/v1/incidents``
with the logged-in user as the actor; a success answers 303 back to the incident, a refusal
re-renders it with the reason (409: it does not fit the incident's status). An automated step
is started in the background and its output arrives on the page by the live feed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from incident_runbooks.model import ROLES as RUNBOOK_ROLES
from noc.appkeys import AUTOMATION, CONFIG, ENGINE, STORE
from noc.core.vocabulary import LEVELS
from noc.engine.topology import Topology
from noc.incident_view import incident_detail
from noc.maintenance import MaintenanceRequestError, parse_instant
from noc.store.console import IncidentFilter, deliveries, incidents_page, merged_into
from noc.store.incidents import IncidentError, IncidentRepo
from noc.web.console.context import can, current_user, lang, site_tz
from noc.web.console.overview import deadlines
from noc.web.console.pages import action, page, render, see_other, subpage
from noc.web.incidents_api import STATUSES, runbook_of

PER_PAGE = 50
RUNNING = web.AppKey("console_running_steps", dict)  # (incident id, step id) -> Task


def _repo(request: web.Request) -> IncidentRepo:
    return IncidentRepo(request.app[STORE], request.app[CONFIG].site.name)


def _filters(request: web.Request) -> tuple[IncidentFilter, dict[str, str], list[str]]:
    """The list's filters from the query; what cannot be read is named, not guessed."""
    config = request.app[CONFIG]
    tz = ZoneInfo(config.site.timezone)
    q = request.query
    shown = {k: q.get(k, "") for k in ("status", "level", "asset", "service", "from", "to")}
    problems = []
    status = shown["status"] if shown["status"] in STATUSES else None
    level = shown["level"] if shown["level"] in LEVELS else None
    roots: tuple[str, ...] | None = None
    if shown["asset"]:
        roots = (shown["asset"],)
    if shown["service"]:
        service = next((s for s in config.services if s.name == shown["service"]), None)
        if service is None:
            problems.append(shown["service"])
        else:
            topology = Topology.from_config(config)
            needed = service.asset_names()
            assets = needed | {up for a in needed for up in topology.ancestors(a)}
            kinds = {config.asset(a).kind for a in needed if a in config.assets_by_name}
            if "phone" in kinds:  # grouped phone incidents are rooted at the site
                assets.add(config.site.name)
            roots = tuple(sorted(assets & set(roots))) if roots is not None else tuple(assets)
    since = until = None
    for key in ("from", "to"):
        if shown[key]:
            try:
                value = parse_instant(shown[key], tz)
            except MaintenanceRequestError:
                problems.append(shown[key])
                continue
            if key == "from":
                since = value
            else:
                until = value + (dt.timedelta(days=1) if len(shown[key]) <= 10 else dt.timedelta())
    return IncidentFilter(status, level, roots, since, until), shown, problems


@page("incidents")
async def incident_list(request: web.Request) -> dict[str, Any]:
    where, shown, problems = _filters(request)
    raw_page = request.query.get("page", "1")
    number = int(raw_page) if raw_page.isdigit() and int(raw_page) > 0 else 1
    rows, more = await incidents_page(request.app[STORE], where, number, PER_PAGE)
    config = request.app[CONFIG]
    base = {k: v for k, v in shown.items() if v}
    return {
        "rows": rows,
        "filters": shown,
        "problems": problems,
        "page_number": number,
        "prev_query": {**base, "page": number - 1} if number > 1 else None,
        "next_query": {**base, "page": number + 1} if more else None,
        "statuses": STATUSES,
        "levels": LEVELS,
        "asset_names": [a.name for a in config.assets],
        "services": [(s.name, s.title.get(lang(request))) for s in config.services],
    }


def _incident_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit():
        raise web.HTTPNotFound(text=f"no incident {raw!r}")
    return int(raw)


async def detail_context(request: web.Request, incident_id: int) -> dict[str, Any]:
    app = request.app
    repo = _repo(request)
    try:
        row = await repo.get(incident_id)
    except IncidentError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    events = await repo.events(row.id)
    runbook = runbook_of(app, row.fault_type)
    language = lang(request)
    now = dt.datetime.now(dt.UTC)
    detail = incident_detail(row, events, runbook, site_tz(request), language, now)
    running = {step for (i, step), task in app.get(RUNNING, {}).items() if i == row.id}
    return {
        "incident": detail,
        "row": row,
        "countdowns": deadlines(app, row, now),
        "deliveries": await deliveries(app[STORE], row.id),
        "merged": await merged_into(app[STORE], row),
        "running": running,
        "steps": runbook.steps if runbook is not None else [],
        "runbook_roles": {k: v[1] if language == "en" else v[0] for k, v in RUNBOOK_ROLES.items()},
        "levels": LEVELS,
        "live": f"incident:{row.id}",
        "here": f"/incidents/{row.id}",
    }


@subpage("/incidents/{id}", "incident.html")
async def incident_page(request: web.Request) -> dict[str, Any]:
    return await detail_context(request, _incident_id(request))


async def _refused(
    request: web.Request, incident_id: int, reason: str, status: int, key: str | None = None
) -> web.Response:
    """The incident again, with why the action was refused (``key``: a catalog message)."""
    context = await detail_context(request, incident_id)
    return render(request, "incident.html", {**context, "error": reason, "error_key": key}, status)


async def _act(request: web.Request, work) -> web.StreamResponse:  # noqa: ANN001 - repo call
    incident_id = _incident_id(request)
    try:
        await work(_repo(request), incident_id)
    except IncidentError as exc:
        status = 404 if str(exc).startswith("no incident") else 409
        return await _refused(request, incident_id, str(exc), status)
    see_other(f"/incidents/{incident_id}")


def _note(form: dict[str, str], key: str = "note") -> str:
    return form.get(key, "").strip()


@action("/incidents/{id}/ack", "ack")
async def ack(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    who = current_user(request).name
    return await _act(request, lambda repo, i: repo.acknowledge(i, who, _note(form)))


@action("/incidents/{id}/steps", "step")
async def record_step(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    incident_id = _incident_id(request)
    repo = _repo(request)
    try:
        row = await repo.get(incident_id)
    except IncidentError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    runbook = runbook_of(request.app, row.fault_type)
    step_id = form.get("step", "").strip()
    step = next((s for s in runbook.steps if s.id == step_id), None) if runbook else None
    if not step_id or (runbook is not None and step is None):
        return await _refused(request, incident_id, f"unknown step {step_id!r}", 400)
    default = step.intervention if step is not None else False
    intervention = {"yes": True, "no": False}.get(form.get("intervention", ""), default)
    # a step that changes the network recorded as "no intervention" would turn a manual recovery
    # into an automatic one in the SLA: only a lead may, with the reason in the note (saying
    # that something was changed only makes the recovery manual, so anyone may)
    override = intervention != default
    if default and not intervention:
        if not can(request, "step.override"):
            return await _refused(request, incident_id, "", 403, "error.override_needs_lead")
        if not _note(form):
            return await _refused(request, incident_id, "", 400, "error.override_needs_reason")
    who = current_user(request).name
    return await _act(
        request,
        lambda repo, i: repo.step_done(
            i,
            step_id,
            who,
            _note(form),
            intervention,
            data={"override": True} if override else None,
        ),
    )


@action("/incidents/{id}/steps/{step}/run", "diagnose")
async def run_step(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    """Start an automated step; its output is written to the timeline when it is done."""
    incident_id = _incident_id(request)
    try:
        row = await _repo(request).get(incident_id)
    except IncidentError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    if row.status == "closed":
        return await _refused(request, incident_id, f"incident #{row.id} is closed", 409)
    runbook = runbook_of(request.app, row.fault_type)
    step_id = request.match_info["step"]
    step = next((s for s in runbook.steps if s.id == step_id), None) if runbook else None
    automation = request.app.get(AUTOMATION)
    if step is None or step.automated is None or automation is None:
        return await _refused(request, incident_id, f"{step_id!r} is not an automated step", 400)
    running = request.app[RUNNING]
    key = (row.id, step.id)
    if key not in running:
        members = tuple((row.impact or {}).get("members", []))
        task = asyncio.create_task(
            automation.run(row.id, step, row.root_asset, members), name=f"console step {key}"
        )
        running[key] = task
        task.add_done_callback(lambda _t: running.pop(key, None))
    see_other(f"/incidents/{incident_id}#step-{step.id}")


@action("/incidents/{id}/regrade", "regrade")
async def regrade(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    who = current_user(request).name
    level = form.get("level", "")
    return await _act(request, lambda repo, i: repo.regrade(i, who, level, _note(form)))


@action("/incidents/{id}/resolve", "resolve")
async def resolve(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    incident_id = _incident_id(request)
    if not _note(form):
        return await _refused(request, incident_id, "", 400, "error.note_needed")
    try:
        await _repo(request).resolve(incident_id, current_user(request).name, _note(form))
    except IncidentError as exc:
        return await _refused(request, incident_id, str(exc), 409)
    automation = request.app.get(AUTOMATION)
    if automation is not None and follows_engine(request.app):
        automation.recovered(incident_id)  # verify, as after a recovery the engine saw
    see_other(f"/incidents/{incident_id}")


@action("/incidents/{id}/close", "close")
async def close(request: web.Request, form: dict[str, str]) -> web.StreamResponse:
    who = current_user(request).name
    return await _act(request, lambda repo, i: repo.close(i, who, _note(form)))


async def stop_running(app: web.Application) -> None:
    """On shutdown: steps started from the console end with the service."""
    tasks = list(app.get(RUNNING, {}).values())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def follows_engine(app: web.Application) -> bool:
    engine = app.get(ENGINE)
    return engine is not None and app[AUTOMATION].on_changes in engine.listeners
