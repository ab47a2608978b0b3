"""The HTTP edge through aiohttp's test client, on both store backends (as a viewer: every
route but /healthz, the login and /metrics needs credentials, tests/integration/test_web_auth.py)."""

from __future__ import annotations

import pytest
from support.auth import authorize

from noc.app import create_app


@pytest.fixture
async def client(aiohttp_client, lingshui_config, db_url):
    client = await aiohttp_client(create_app(lingshui_config, db_url, probing=False))
    await authorize(client, "viewer")
    return client


async def test_healthz_reports_the_store(client):
    resp = await client.get("/healthz")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ok" and body["store"] == "ok"
    assert body["backend"] in ("sqlite", "postgresql")


async def test_metrics_exposition(client):
    resp = await client.get("/metrics")
    assert resp.status == 200
    content_type = resp.headers["Content-Type"]
    assert content_type.startswith("text/plain;") and "version=" in content_type
    text = await resp.text()
    assert 'noc_build_info{python="' in text and 'version="0.1.0"' in text
    assert "process_resident_memory_bytes" in text
    assert 'noc_assets{kind="phone",site="lingshui"} 19.0' in text
    assert 'noc_checks{check="icmp",site="lingshui"} 24.0' in text
    assert "noc_store_up" in text


async def test_list_assets(client):
    resp = await client.get("/api/v1/assets")
    assert resp.status == 200
    body = await resp.json()
    assert body["count"] == 24 == len(body["assets"])
    names = [a["name"] for a in body["assets"]]
    assert names[:5] == ["ce-router", "mstp-voice", "mstp-ticket", "internet", "voice-gw"]
    phones = await (await client.get("/api/v1/assets", params={"kind": "phone"})).json()
    assert phones["count"] == 19


async def test_get_asset(client):
    resp = await client.get("/api/v1/assets/mstp-voice")
    assert resp.status == 200
    asset = await resp.json()
    assert asset["kind"] == "mstp_circuit"
    assert asset["bandwidth_bps"] == 10_000_000
    assert asset["depends_on"] == ["ce-router"]
    assert asset["checks"] == ["icmp", "snmp"]
    assert asset["updated_at"].endswith("+00:00") and asset["updated_at_local"].endswith("+08:00")


async def test_secrets_are_not_served(client, lingshui_config):
    body = await (await client.get("/api/v1/assets/ce-router")).text()
    secret = lingshui_config.asset("ce-router").snmp.auth_key.get_secret_value()
    assert secret not in body


async def test_unknown_asset_is_a_json_404(client):
    resp = await client.get("/api/v1/assets/phone-99")
    assert resp.status == 404
    assert await resp.json() == {"error": "not_found", "reason": "no asset named 'phone-99'"}


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({"kind": "modem"}, "unknown kind 'modem'"),
        ({"include_retired": "maybe"}, "include_retired must be true or false"),
    ],
)
async def test_bad_query_is_a_400_with_reason(client, query, reason):
    resp = await client.get("/api/v1/assets", params=query)
    assert resp.status == 400
    body = await resp.json()
    assert body["error"] == "bad_request" and reason in body["reason"]


async def test_unknown_api_path_is_json(client):
    resp = await client.get("/api/v1/nothing")
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"


async def test_console_index_is_chinese_first(client):
    html = await (await client.get("/")).text()
    assert 'lang="zh-CN"' in html and "网络运行监控" in html and "海南省12345热线陵水分平台" in html
    english = await (await client.get("/", params={"lang": "en"})).text()
    assert "Network operations" in english


async def test_the_error_middleware_answers_from_the_class_not_the_message(aiohttp_client):
    from aiohttp import web

    from noc.core.errors import ConflictError, NotFoundError, UnavailableError
    from noc.web.errors import error_middleware

    errors = {
        "gone": NotFoundError("conflict: the word in the message does not matter"),
        "busy": ConflictError("no such thing: nor here"),
        "down": UnavailableError("the store did not answer"),
    }

    async def raising(request: web.Request) -> web.Response:
        raise errors[request.match_info["what"]]

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/api/v1/x/{what}", raising)
    app.router.add_get("/page/{what}", raising)
    client = await aiohttp_client(app)
    for what, status, code in [("gone", 404, "not_found"), ("busy", 409, "conflict"),
                               ("down", 503, "unavailable")]:  # fmt: skip
        resp = await client.get(f"/api/v1/x/{what}")
        assert resp.status == status
        assert await resp.json() == {"error": code, "reason": errors[what].reason}
    page = await client.get("/page/gone")  # outside the API: plain text, same status
    assert page.status == 404 and await page.text() == errors["gone"].reason
    missing = await client.get("/api/v1/nothing")  # aiohttp's own 404 keeps the JSON shape
    assert missing.status == 404 and (await missing.json())["error"] == "not_found"
