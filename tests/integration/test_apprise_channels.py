"""What Apprise puts on the wire for the vendor channels the NOC uses (DingTalk, WeCom, Feishu).

Their hosts are fixed public endpoints this test must not reach, so the request is captured at
requests' transport boundary (``HTTPAdapter.send`` receives the final ``PreparedRequest``: URL,
headers, body exactly as they would leave). This is the one documented exception to "no mocks";
the local ``json://``/``mailto://`` tests in test_outbox.py deliver for real.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from alerting.notify import Notifier

TITLE = "【I级】灵水热线语音专线中断"
BODY = "站点：灵水；影响：全部坐席外呼；开始：10:02"


@pytest.fixture
def wire(monkeypatch):
    """Every request Apprise sends, answered with a vendor-style success."""
    sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        sent.append(request)
        response = requests.Response()
        response.status_code = 200
        response._content = b'{"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success"}'
        response.headers["Content-Type"] = "application/json"
        response.url, response.request = request.url, request
        return response

    monkeypatch.setattr(HTTPAdapter, "send", send)
    return sent


async def deliver(url: str, wire: list) -> tuple[requests.PreparedRequest, dict]:
    notifier = Notifier({"noc": [url]})
    try:
        result = await notifier.send("noc", TITLE, BODY)
    finally:
        notifier.close()
    assert result.ok, result.error
    [request] = wire
    return request, json.loads(request.body)


async def test_dingtalk_text_with_signature(wire):
    request, payload = await deliver("dingtalk://SECdeadbeef42@acc3ssTok3n/", wire)
    url = urlsplit(request.url)
    assert (url.scheme, url.hostname, url.path) == ("https", "oapi.dingtalk.com", "/robot/send")
    query = parse_qs(url.query)
    assert query["access_token"] == ["acc3ssTok3n"]
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(b"SECdeadbeef42", f"{timestamp}\nSECdeadbeef42".encode(), hashlib.sha256).digest()
    ).decode()
    # DingTalk wants the base64 signature URL-encoded exactly once (parse_qs undoes that once);
    # Apprise 2.3 alone double-encodes it, which alerting.notify corrects
    assert query["sign"] == [expected]
    assert payload["msgtype"] == "text"
    assert payload["text"]["content"] == f"{TITLE}\r\n{BODY}"


async def test_dingtalk_markdown_keeps_the_title(wire):
    _, payload = await deliver("dingtalk://acc3ssTok3n/?format=markdown", wire)
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["title"] == TITLE
    assert payload["markdown"]["text"] == f"# {TITLE}\n{BODY}"


async def test_wecom_bot_text_carries_title_and_body(wire):
    request, payload = await deliver("wecombot://w3c0mK3yABC", wire)
    url = urlsplit(request.url)
    assert (url.hostname, url.path) == ("qyapi.weixin.qq.com", "/cgi-bin/webhook/send")
    assert parse_qs(url.query)["key"] == ["w3c0mK3yABC"]
    assert payload["msgtype"] == "text"
    # WeCom text has no title field: Apprise folds the title into the content
    assert TITLE in payload["text"]["content"] and BODY in payload["text"]["content"]


async def test_feishu_text(wire):
    request, payload = await deliver("feishu://f3ishuHookTok3n", wire)
    url = urlsplit(request.url)
    assert (url.hostname, url.path) == ("open.feishu.cn", "/open-apis/bot/v2/hook/f3ishuHookTok3n/")
    assert payload["msg_type"] == "text"
    assert payload["content"]["text"] == f"{TITLE}\r\n{BODY}"
    assert TITLE.encode() in request.body  # UTF-8 as is, not \\u escapes


async def test_vendor_refusal_is_a_failed_result_without_token(wire, monkeypatch):
    def refuse(self, request, **kwargs):
        wire.append(request)
        response = requests.Response()
        response.status_code, response._content = 200, b'{"code": 9499, "msg": "Bad Request"}'
        response.url, response.request = request.url, request
        return response

    monkeypatch.setattr(HTTPAdapter, "send", refuse)
    notifier = Notifier({"noc": ["feishu://f3ishuHookTok3n"]})
    try:
        result = await notifier.send("noc", TITLE, BODY)
    finally:
        notifier.close()
    assert not result.ok and not result.config_error
    assert "f3ishuHookTok3n" not in result.error
    assert "9499" in result.error
