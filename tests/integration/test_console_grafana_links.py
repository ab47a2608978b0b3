"""The asset pages link to the Grafana panels that show the asset when ``grafana.url`` is set
(uids and panel ids from the shipped dashboards, the asset in the board's variable), and show
no Grafana link at all when it is not."""

from __future__ import annotations

import html as htmllib
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from support.auth import add_account, login

from noc.app import create_app
from noc.appkeys import STORE
from noc.config.grafana import GrafanaSettings

DASHBOARDS = Path(__file__).resolve().parents[2] / "grafana" / "dashboards"
BASE = "https://noc.example/grafana"


def shipped_panels() -> dict[str, dict[int, str]]:
    out = {}
    for path in DASHBOARDS.glob("*.json"):
        board = json.loads(path.read_text(encoding="utf-8"))
        out[board["uid"]] = {p["id"]: p["title"] for p in board["panels"]}
    return out


async def console_for(aiohttp_client, config, sqlite_url):
    client = await aiohttp_client(create_app(config, sqlite_url, probing=False))
    await add_account(client.app[STORE], "viewer1", "viewer")
    await login(client, "viewer1")
    return client


@pytest.fixture
async def with_grafana(aiohttp_client, lingshui_config, sqlite_url):
    config = lingshui_config.model_copy(update={"grafana": GrafanaSettings(url=BASE + "/")})
    return await console_for(aiohttp_client, config, sqlite_url)


def panel_links(page: str) -> list[tuple[str, str, dict[str, list[str]]]]:
    """(uid, panel id, query) of every panel link on the page."""
    out = []
    for href, marker in re.findall(r'<a href="([^"]+)"[^>]*data-panel="([^"]+)"', page):
        url = urlsplit(htmllib.unescape(href))
        assert f"{url.scheme}://{url.netloc}{url.path}".startswith(BASE + "/d/")
        uid, panel = marker.split("/")
        assert url.path == f"/grafana/d/{uid}/"
        out.append((uid, panel, parse_qs(url.query)))
    return out


async def test_a_circuit_links_to_its_panels_on_the_circuit_board_first(with_grafana):
    page = await (await with_grafana.get("/assets/mstp-voice")).text()
    links = panel_links(page)
    shipped = shipped_panels()
    assert links and [uid for uid, _, _ in links][0] == "hotline-noc-circuits"
    for uid, panel, query in links:
        assert int(panel) in shipped[uid]  # a panel of the shipped board
        assert query["viewPanel"] == [panel] and query["var-site"] == ["lingshui"]
        if uid == "hotline-noc-circuits":
            assert query["var-circuit"] == ["mstp-voice"]
        if uid == "hotline-noc-sla":
            assert query["var-scope"] == ["asset:mstp-voice"]
    titles = {shipped[uid][int(p)] for uid, p, _ in links}
    assert {"入方向速率与合同带宽", "丢包率", "往返时延", "可用率"} <= titles
    assert {uid for uid, _, _ in links} == {
        "hotline-noc-circuits",
        "hotline-noc-overview",
        "hotline-noc-sla",
    }


async def test_the_voice_gateway_and_a_phone_link_to_the_voice_board(with_grafana):
    shipped = shipped_panels()
    gateway = panel_links(await (await with_grafana.get("/assets/voice-gw")).text())
    assert gateway[0][0] == "hotline-noc-voice"
    assert "语音网关" in {shipped[u][int(p)] for u, p, _ in gateway}
    phone = panel_links(await (await with_grafana.get("/assets/phone-01")).text())
    voice = {shipped[u][int(p)] for u, p, _ in phone if u == "hotline-noc-voice"}
    assert voice == {"固话 SIP 状态", "固话明细", "固话 SIP 时延", "固话 ICMP 丢包"}


async def test_the_asset_list_links_each_asset_to_its_board(with_grafana, lingshui_config):
    page = await (await with_grafana.get("/assets")).text()
    found = dict(
        (name, htmllib.unescape(href))
        for href, name in re.findall(r'href="([^"]+)"[^>]*data-grafana="([^"]+)"', page)
    )
    assert set(found) == {a.name for a in lingshui_config.assets}
    assert found["mstp-ticket"].startswith(f"{BASE}/d/hotline-noc-circuits/?")
    assert (
        "var-circuit=mstp-ticket" in found["mstp-ticket"]
        and "viewPanel" not in found["mstp-ticket"]
    )


async def test_no_grafana_link_without_grafana_url(aiohttp_client, lingshui_config, sqlite_url):
    assert lingshui_config.grafana is None
    client = await console_for(aiohttp_client, lingshui_config, sqlite_url)
    for path in ("/assets", "/assets/mstp-voice", "/assets/voice-gw"):
        page = await (await client.get(path)).text()
        assert "data-grafana" not in page and "data-panel" not in page
        assert 'id="grafana"' not in page and "/d/hotline-noc" not in page
