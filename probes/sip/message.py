"""Pure RFC 3261 codec for the SIP OPTIONS probe: build a request, parse a response.

No sockets here, so the wire format can be tested exhaustively (property tests feed it
arbitrary bytes). The parser is strict on purpose: a probe must tell a healthy SIP peer from
something that merely answers on port 5060, so anything that is not a well-formed response
raises the one exception :class:`SipParseError`, whose ``reason`` says what was wrong.

Strictness, concretely: CRLF line endings only (a bare CR or LF is an error), a status line
``SIP/2.0 NNN reason``, header names that are RFC 3261 tokens (compact forms ``v i f t l m
c …`` expanded), folded continuation lines joined, Via/From/To/Call-ID/CSeq present (and
From/To/Call-ID/CSeq exactly once), a numeric Content-Length that the body does not fall short
of. Bytes after the declared body are ignored, as RFC 3261 §18.3 says for datagrams.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

SIP_VERSION = "SIP/2.0"
BRANCH_MAGIC = "z9hG4bK"  # RFC 3261 §8.1.1.7: marks a branch as globally unique
USER_AGENT = "hotline-noc"
MAX_MESSAGE_BYTES = 65535

COMPACT_FORMS = {
    "v": "via",
    "i": "call-id",
    "f": "from",
    "t": "to",
    "l": "content-length",
    "m": "contact",
    "c": "content-type",
    "e": "content-encoding",
    "k": "supported",
    "s": "subject",
    "o": "event",
    "r": "refer-to",
    "u": "allow-events",
    "x": "session-expires",
    "b": "referred-by",
    "a": "accept-contact",
    "j": "reject-contact",
    "d": "request-disposition",
    "y": "identity",
}
_REQUIRED = ("via", "from", "to", "call-id", "cseq")
_SINGLE = ("from", "to", "call-id", "cseq", "content-length")

_STATUS_RE = re.compile(r"SIP/2\.0 ([1-6][0-9]{2}) ([^\x00-\x08\x0a-\x1f\x7f]*)")
_TOKEN_RE = re.compile(r"[A-Za-z0-9\-.!%*_+`'~]+")
_CTL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_CSEQ_RE = re.compile(r"([0-9]{1,10})[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)")
_VIA_RE = re.compile(r"SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+([^;]+)(.*)")
_URI_RE = re.compile(
    r"(sips?):(?:([^@\s<>;?]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?::([0-9]{1,5}))?([;?][^\s<>]*)?"
)


class SipParseError(ValueError):
    """The bytes are not a valid SIP response; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- building


@dataclass(frozen=True, slots=True)
class SipUri:
    scheme: str
    user: str | None
    host: str  # IPv6 without brackets
    port: int | None
    params: str = ""

    @property
    def host_for_uri(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host


def parse_uri(uri: str) -> SipUri:
    """Split ``sip:user@host:port;params``; ValueError on anything else (a config error)."""
    m = _URI_RE.fullmatch(uri.strip())
    if not m:
        raise ValueError(f"not a sip: or sips: URI: {uri!r}")
    scheme, user, host, port, params = m.groups()
    port_num = int(port) if port else None
    if port_num is not None and not 0 < port_num < 65536:
        raise ValueError(f"port out of range in URI {uri!r}")
    return SipUri(scheme, user, host.strip("[]"), port_num, params or "")


def _host_for_header(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def new_branch() -> str:
    return BRANCH_MAGIC + secrets.token_hex(10)


@dataclass(frozen=True, slots=True)
class OptionsRequest:
    """A built OPTIONS request and the identifiers its response must echo."""

    uri: str
    branch: str
    call_id: str
    from_tag: str
    cseq: int
    data: bytes


def build_options(
    uri: str,
    *,
    local_host: str,
    local_port: int,
    transport: str = "UDP",
    branch: str | None = None,
    call_id: str | None = None,
    from_tag: str | None = None,
    cseq: int = 1,
    from_user: str = "noc",
    user_agent: str = USER_AGENT,
) -> OptionsRequest:
    """Build an RFC 3261 OPTIONS request for ``uri`` sent from ``local_host:local_port``."""
    target = parse_uri(uri)
    transport = transport.upper()
    if transport not in ("UDP", "TCP", "TLS", "SCTP"):
        raise ValueError(f"unknown SIP transport {transport!r}")
    branch = branch or new_branch()
    if not branch.startswith(BRANCH_MAGIC):
        raise ValueError("branch must start with z9hG4bK (RFC 3261 §8.1.1.7)")
    host = _host_for_header(local_host)
    call_id = call_id or f"{secrets.token_hex(12)}@{host}"
    from_tag = from_tag or secrets.token_hex(6)
    for name, value, forbidden in (
        ("call_id", call_id, " \t\r\n"),
        ("from_tag", from_tag, ' \t\r\n;,<>"='),
        ("branch", branch, ' \t\r\n;,<>"='),
    ):
        if not value or any(ch in forbidden for ch in value):
            raise ValueError(f"invalid {name}: {value!r}")
    lines = [
        f"OPTIONS {uri.strip()} {SIP_VERSION}",
        f"Via: {SIP_VERSION}/{transport} {host}:{local_port};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:{from_user}@{host}>;tag={from_tag}",
        f"To: <{target.scheme}:{target.user + '@' if target.user else ''}{target.host_for_uri}"
        f"{':' + str(target.port) if target.port else ''}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} OPTIONS",
        f"Contact: <sip:{from_user}@{host}:{local_port};transport={transport.lower()}>",
        f"User-Agent: {user_agent}",
        "Accept: application/sdp",
        "Content-Length: 0",
    ]
    data = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return OptionsRequest(uri.strip(), branch, call_id, from_tag, cseq, data)


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class SipResponse:
    """A parsed response: status, headers (lower-case canonical names, wire order), body."""

    status_code: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (any case, compact form accepted)."""
        key = _canonical(name)
        for k, v in self.headers:
            if k == key:
                return v
        return None

    def header_values(self, name: str) -> list[str]:
        key = _canonical(name)
        return [v for k, v in self.headers if k == key]

    @property
    def top_via(self) -> str:
        return _split_commas(self.header_values("via")[0])[0]

    @property
    def branch(self) -> str | None:
        return _param(_VIA_RE.fullmatch(self.top_via).group(3), "branch")  # type: ignore[union-attr]

    @property
    def call_id(self) -> str:
        return self.header("call-id") or ""

    @property
    def cseq_number(self) -> int:
        return int(_CSEQ_RE.fullmatch(self.header("cseq") or "").group(1))  # type: ignore[union-attr]

    @property
    def cseq_method(self) -> str:
        return _CSEQ_RE.fullmatch(self.header("cseq") or "").group(2)  # type: ignore[union-attr]

    @property
    def server(self) -> str | None:
        return self.header("server")

    @property
    def user_agent(self) -> str | None:
        return self.header("user-agent")

    @property
    def is_provisional(self) -> bool:
        return self.status_code < 200

    def mismatch(self, request: OptionsRequest) -> str | None:
        """Why this response (same branch) is not an answer to ``request``, or None if it is."""
        if self.call_id != request.call_id:
            return "response Call-ID does not match the request"
        if self.cseq_method.upper() != "OPTIONS" or self.cseq_number != request.cseq:
            return "response CSeq does not match the request"
        return None


def _canonical(name: str) -> str:
    low = name.strip().lower()
    return COMPACT_FORMS.get(low, low)


def _param(params: str, name: str) -> str | None:
    for part in params.split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == name:
            return value.strip() or None
    return None


def _split_commas(value: str) -> list[str]:
    """Split a header value on commas that are not inside a quoted string or <…>."""
    if '"' not in value and "<" not in value:
        return [part.strip() for part in value.split(",")]
    parts, buf, quoted, angle, escaped = [], [], False, False, False
    for ch in value:
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            angle = True
        elif not quoted and ch == ">":
            angle = False
        elif ch == "," and not quoted and not angle:
            parts.append("".join(buf).strip())
            buf = []
            continue
        buf.append(ch)
    parts.append("".join(buf).strip())
    return parts


def _header_lines(head: str) -> list[tuple[str, str]]:
    """Unfold continuation lines and split ``name: value``; canonicalise the name."""
    raw_lines = head.split("\r\n")
    unfolded: list[str] = []
    for line in raw_lines:
        if line[:1] in (" ", "\t"):
            if not unfolded:
                raise SipParseError("continuation line before any header")
            unfolded[-1] += " " + line.strip(" \t")
        else:
            unfolded.append(line)
    headers = []
    for line in unfolded:
        name, colon, value = line.partition(":")
        name = name.rstrip(" \t")
        if not colon or not _TOKEN_RE.fullmatch(name):
            raise SipParseError(f"malformed header line {line[:40]!r}")
        if _CTL_RE.search(value):
            raise SipParseError(f"control character in header {name!r}")
        headers.append((_canonical(name), value.strip(" \t")))
    return headers


def _check_headers(headers: list[tuple[str, str]]) -> None:
    names = [k for k, _ in headers]
    for required in _REQUIRED:
        if required not in names:
            raise SipParseError(f"missing {required} header")
    for single in _SINGLE:
        if names.count(single) > 1:
            raise SipParseError(f"duplicate {single} header")
    values = dict(headers)
    for via in (v for k, v in headers if k == "via"):
        for hop in _split_commas(via):
            if not _VIA_RE.fullmatch(hop):
                raise SipParseError(f"malformed via {hop[:40]!r}")
    if not values["call-id"] or any(ch in values["call-id"] for ch in " \t"):
        raise SipParseError("malformed call-id")
    if not _CSEQ_RE.fullmatch(values["cseq"]) or int(values["cseq"].split()[0]) >= 2**31:
        raise SipParseError("malformed cseq")
    for name in ("from", "to"):
        if not values[name]:
            raise SipParseError(f"empty {name} header")


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    for k, v in headers:
        if k == "content-length":
            if not v.isascii() or not v.isdigit() or len(v) > 9:
                raise SipParseError("malformed content-length")
            return int(v)
    return None


def _split_head(data: bytes) -> tuple[str, bytes]:
    end = data.find(b"\r\n\r\n")
    if end < 0:
        raise SipParseError("no blank line ending the headers")
    try:
        head = data[:end].decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("headers are not UTF-8") from None
    if "\r" in head.replace("\r\n", "") or "\n" in head.replace("\r\n", ""):
        raise SipParseError("bare CR or LF in headers (CRLF required)")
    return head, data[end + 4 :]


def parse_response(data: bytes) -> SipResponse:
    """Parse one SIP response from a datagram (or a framed stream message); strict."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise SipParseError("not bytes")
    data = bytes(data)
    if len(data) > MAX_MESSAGE_BYTES:
        raise SipParseError("message too large")
    if not data.startswith(b"SIP/"):
        raise SipParseError("not a SIP response (no SIP/ status line)")
    head, rest = _split_head(data)
    status_line, _, header_block = head.partition("\r\n")
    m = _STATUS_RE.fullmatch(status_line)
    if not m:
        raise SipParseError(f"malformed status line {status_line[:40]!r}")
    if not header_block:
        raise SipParseError("no headers")
    headers = _header_lines(header_block)
    _check_headers(headers)
    length = _content_length(headers)
    if length is None:
        body = rest
    elif length > len(rest):
        raise SipParseError(f"body shorter than content-length {length}")
    else:
        body = rest[:length]
    return SipResponse(int(m.group(1)), m.group(2).strip(" \t"), tuple(headers), body)


def frame_stream_message(buffer: bytes) -> tuple[bytes, bytes] | None:
    """Cut one message off a stream buffer: ``(message, rest)``, or None if incomplete.

    On a stream Content-Length is mandatory (RFC 3261 §18.3); keep-alive CRLFs between
    messages are skipped.
    """
    buffer = buffer.lstrip(b"\r\n")
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_MESSAGE_BYTES:
            raise SipParseError("headers too large")
        return None
    head, _ = _split_head(buffer)
    lengths = [
        v for k, v in _header_lines(head.partition("\r\n")[2] or "x: y") if k == "content-length"
    ]
    if not lengths:
        raise SipParseError("missing content-length on a stream transport")
    if not lengths[0].isascii() or not lengths[0].isdigit() or len(lengths[0]) > 9:
        raise SipParseError("malformed content-length")
    total = end + 4 + int(lengths[0])
    if total > MAX_MESSAGE_BYTES:
        raise SipParseError("message too large")
    if len(buffer) < total:
        return None
    return buffer[:total], buffer[total:]
