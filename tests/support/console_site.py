"""A Lingshui-shaped site on loopback, for the console's browser tests and its benchmark.

The assets and the four services carry the shipped inventory's names, but every address is
127.0.0.1: ICMP answers, and the voice gateway's SIP check talks to a :class:`SipResponder` the
test starts and stops, so a real probe outcome (not a fake) moves a tile. Nothing here needs
root's network lab.
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

INVENTORY = """\
version: 1
site:
  name: lingshui
  title: {{zh: 海南省12345热线陵水分平台, en: Hainan 12345 hotline - Lingshui sub-platform}}
  timezone: Asia/Shanghai
server:
  public_url: {public_url}
defaults:
  icmp: {{default: 1s}}
  sip: {{default: 1s}}
health:
  sip: {{fail_threshold: 2, recover_threshold: 2}}
alerting:
  receivers:
    - {{name: noc-oncall, urls: ["{alert_url}"]}}
    - {{name: noc-lead, urls: ["{alert_url}"]}}
    - {{name: carrier-liaison, urls: ["{alert_url}"]}}
    - {{name: purchaser-contact, urls: ["{alert_url}"]}}
assets:
  - {{name: ce-router, kind: router, title: {{zh: 出口路由器(CE), en: CE router}}, address: 127.0.0.1, checks: [{{type: icmp}}]}}
  - {{name: mstp-voice, kind: mstp_circuit, title: {{zh: MSTP语音专线, en: MSTP voice circuit}}, address: 127.0.0.1, bandwidth: 10M, depends_on: [ce-router], checks: [{{type: icmp}}]}}
  - {{name: mstp-ticket, kind: mstp_circuit, title: {{zh: MSTP工单专线, en: MSTP ticket circuit}}, address: 127.0.0.1, bandwidth: 10M, depends_on: [ce-router], checks: [{{type: icmp}}]}}
  - {{name: internet, kind: internet_line, title: {{zh: 50M互联网专线, en: 50M internet line}}, address: 127.0.0.1, bandwidth: 50M, depends_on: [ce-router], checks: [{{type: icmp}}]}}
  - name: voice-gw
    kind: voice_gateway
    title: {{zh: 语音网关/呼叫中心平台, en: Voice gateway}}
    address: 127.0.0.1
    sip: {{uri: "sip:options@127.0.0.1:{sip_port}", transport: udp}}
    checks: [{{type: sip, params: {{timeout: 500ms}}}}]
  - {{name: phone-01, kind: phone, address: 127.0.0.1, depends_on: [voice-gw], checks: [{{type: icmp}}]}}
  - {{name: phone-02, kind: phone, address: 127.0.0.1, depends_on: [voice-gw], checks: [{{type: icmp}}]}}
services:
  - {{name: voice-intake, title: {{zh: 市民来电受理, en: Citizen voice intake}}, needs: [mstp-voice, voice-gw], impact: critical}}
  - {{name: ticket-exchange, title: {{zh: 省平台工单流转, en: Ticket exchange with the province}}, needs: [mstp-ticket], impact: major}}
  - {{name: internet-channels, title: {{zh: 互联网及多媒体渠道, en: Internet and multimedia channels}}, needs: [internet], impact: moderate}}
  - name: staff-phones
    title: {{zh: 办公固话, en: Staff office phones}}
    impact: major
    needs: [voice-gw, {{any_of: [phone-01, phone-02]}}]
"""

SERVICES = ("voice-intake", "ticket-exchange", "internet-channels", "staff-phones")


def write_inventory(
    path: Path, sip_port: int, alert_url: str, public_url: str = "http://127.0.0.1:8080"
) -> Path:
    path.write_text(
        INVENTORY.format(sip_port=sip_port, alert_url=alert_url, public_url=public_url),
        encoding="utf-8",
    )
    return path


def _answer(request: bytes) -> bytes:
    """``SIP/2.0 200 OK`` echoing the request's Via/From/To/Call-ID/CSeq."""
    head = request.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    out = ["SIP/2.0 200 OK"]
    for line in head.split("\r\n")[1:]:
        name = line.partition(":")[0].strip().lower()
        if name in ("via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"):
            out.append(line)
    out += ["Server: console-test-gateway", "Content-Length: 0"]
    return ("\r\n".join(out) + "\r\n\r\n").encode()


class SipResponder:
    """A voice gateway that answers SIP OPTIONS on 127.0.0.1 over UDP while ``up``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.up = True
        self.answered = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", port))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sip-responder", daemon=True)

    def start(self) -> SipResponder:
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            if self.up and data.startswith(b"OPTIONS "):
                self._sock.sendto(_answer(data), addr)
                self.answered += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()


class AlertSink:
    """Receives the alert messages (Apprise ``json://``) the service sends."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sink.bodies.append(json.loads(body or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_port}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
