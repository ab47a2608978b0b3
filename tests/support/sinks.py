"""Local delivery sinks shared by alerting tests: a real HTTP endpoint and a real SMTP server.

Both listen on 127.0.0.1 on a free port. The HTTP sink records every request and can be told to
refuse (HTTP 503), to stop listening altogether, or to hold responses (to kill a sender after the
sink has the message but before the sender hears back). Use the fixtures
``http_sink``, ``make_http_sink`` and ``smtp_sink`` by naming this module in a test module's
the top-level ``tests/conftest.py`` registers this module as a plugin.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SinkRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any


@dataclass
class HttpSink:
    """An HTTP server recording every request; ``mode`` is ``"ok"`` or ``"refuse"`` (503)."""

    port: int = field(default_factory=free_port)
    mode: str = "ok"
    hold: asyncio.Event | None = None  # when set to an unset Event, responses wait for it …
    hold_from: int = 0  # … from the request after this many recorded ones on
    requests: list[SinkRequest] = field(default_factory=list)
    refused: int = 0
    received: asyncio.Event = field(default_factory=asyncio.Event)  # set on every recorded request
    _runner: web.AppRunner | None = None
    _site: web.TCPSite | None = None

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    def json_url(self, path: str = "hook", **params: str) -> str:
        """An Apprise ``json://`` URL posting to this sink."""
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"json://{self.base}/{path}" + (f"?{query}" if query else "")

    def bodies(self, path: str | None = None) -> list[Any]:
        return [r.json for r in self.requests if path is None or r.path == path]

    async def _handle(self, request: web.Request) -> web.Response:
        if self.mode == "refuse":
            self.refused += 1
            return web.Response(status=503, text="sink refusing")
        raw = await request.read()
        try:
            parsed = await request.json() if raw else None
        except ValueError:
            parsed = None
        self.requests.append(
            SinkRequest(
                request.method,
                request.path,
                dict(request.query),
                dict(request.headers),
                raw,
                parsed,
            )
        )
        self.received.set()
        if self.hold is not None and len(self.requests) > self.hold_from:
            await self.hold.wait()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        await self.listen()

    async def listen(self) -> None:
        """(Re)open the port."""
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()

    async def close_port(self) -> None:
        """Stop listening: senders get connection refused until :meth:`listen`."""
        if self._site is not None:
            await self._site.stop()
            self._site = None

    async def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        """Until at least ``count`` requests were recorded (fails the test on timeout)."""

        async def enough() -> None:
            while len(self.requests) < count:
                self.received.clear()
                await self.received.wait()

        try:
            await asyncio.wait_for(enough(), timeout)
        except TimeoutError:
            pytest.fail(
                f"HTTP sink got {len(self.requests)} requests, expected {count} within {timeout}s"
            )


@dataclass
class SmtpMessage:
    mail_from: str
    rcpt_tos: list[str]
    login: str | None
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""


class _Recorder:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        login = (
            session.auth_data.login.decode()
            if isinstance(session.auth_data, LoginPassword)
            else None
        )
        self.sink.messages.append(
            SmtpMessage(envelope.mail_from, list(envelope.rcpt_tos), login, parsed)
        )
        return "250 OK"


@dataclass
class SmtpSink:
    """A plain-SMTP server (AUTH allowed without TLS) recording every message."""

    user: str = "noc"
    password: str = "smtp-pass-0xC0FFEE"
    port: int = field(default_factory=free_port)
    messages: list[SmtpMessage] = field(default_factory=list)
    _controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.user
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def mailto_url(
        self, to: str = "noc@hotline.example", sender: str = "alerts@hotline.example"
    ) -> str:
        """Apprise ``mailto://`` (plain SMTP, no TLS) to this sink."""
        return (
            f"mailto://{self.user}:{self.password}@127.0.0.1:{self.port}"
            f"?from={sender}&to={to}&mode=insecure"
        )

    def start(self) -> None:
        self._controller = Controller(
            _Recorder(self),
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()


@pytest.fixture
async def http_sink() -> AsyncIterator[HttpSink]:
    sink = HttpSink()
    await sink.start()
    try:
        yield sink
    finally:
        await sink.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
async def make_http_sink() -> AsyncIterator[Callable[[], Awaitable[HttpSink]]]:
    """More HTTP sinks in one test (one per receiver, say); all stopped at teardown."""
    made: list[HttpSink] = []

    async def make() -> HttpSink:
        sink = HttpSink()
        await sink.start()
        made.append(sink)
        return sink

    try:
        yield make
    finally:
        for sink in made:
            await sink.stop()
