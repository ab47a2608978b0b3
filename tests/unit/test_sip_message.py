"""Pure tests of the SIP codec (probes/sip/message.py) and the probe's result mapping."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from probes.base import ResultCode
from probes.sip import SipParams, result_for_response
from probes.sip.message import (
    SipParseError,
    build_options,
    frame_stream_message,
    parse_response,
    parse_uri,
)


def response_for(
    request: bytes,
    status: int = 200,
    reason: str = "OK",
    extra: list[str] | None = None,
    body: bytes = b"",
    compact: bool = False,
) -> bytes:
    """A UAS-style response echoing the request's Via/From/To/Call-ID/CSeq (RFC 3261 §8.2.6)."""
    lines = request.decode().split("\r\n")
    keep = {"via", "from", "to", "call-id", "cseq"}
    short = {"via": "v", "from": "f", "to": "t", "call-id": "i"}
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() in keep:
            if name.lower() == "to":
                value += ";tag=uas1"
            headers.append(f"{short.get(name.lower(), name) if compact else name}:{value}")
    headers += extra or []
    headers.append(f"{'l' if compact else 'Content-Length'}: {len(body)}")
    return (f"SIP/2.0 {status} {reason}\r\n" + "\r\n".join(headers) + "\r\n\r\n").encode() + body


def built(uri: str = "sip:gw@127.0.0.1:15060", **kw):
    return build_options(uri, local_host="127.0.0.1", local_port=40000, **kw)


# --------------------------------------------------------------------------- build


def test_options_request_has_every_rfc3261_header():
    req = built()
    text = req.data.decode()
    assert text.startswith("OPTIONS sip:gw@127.0.0.1:15060 SIP/2.0\r\n")
    assert text.endswith("\r\n\r\n") and "\n" not in text.replace("\r\n", "")
    assert f"Via: SIP/2.0/UDP 127.0.0.1:40000;branch={req.branch};rport\r\n" in text
    assert req.branch.startswith("z9hG4bK") and len(req.branch) > 12
    assert f"From: <sip:noc@127.0.0.1>;tag={req.from_tag}\r\n" in text
    assert "To: <sip:gw@127.0.0.1:15060>\r\n" in text
    assert f"Call-ID: {req.call_id}\r\n" in text
    for line in (
        "CSeq: 1 OPTIONS",
        "Max-Forwards: 70",
        "User-Agent: hotline-noc",
        "Accept: application/sdp",
        "Content-Length: 0",
        "Contact: <sip:noc@127.0.0.1:40000;transport=udp>",
    ):
        assert line + "\r\n" in text


def test_each_request_gets_fresh_identifiers():
    a, b = built(), built()
    assert a.branch != b.branch and a.call_id != b.call_id and a.from_tag != b.from_tag


def test_tcp_and_ipv6_request():
    req = build_options("sip:[::1]:5060", local_host="::1", local_port=5070, transport="tcp")
    text = req.data.decode()
    assert "Via: SIP/2.0/TCP [::1]:5070;" in text and "To: <sip:[::1]:5060>" in text


@pytest.mark.parametrize(
    "uri", ["http://x", "sip:", "sip:a b@host", "sip:host\r\nX: y", "sip:h:99999"]
)
def test_bad_uri_is_a_value_error(uri):
    with pytest.raises(ValueError):
        built(uri)


def test_parse_uri_parts():
    u = parse_uri("sips:alice@[2001:db8::1]:5061;transport=tls")
    assert (u.scheme, u.user, u.host, u.port, u.params) == (
        "sips",
        "alice",
        "2001:db8::1",
        5061,
        ";transport=tls",
    )


# --------------------------------------------------------------------------- parse


def test_parse_echo_response_and_helpers():
    req = built()
    resp = parse_response(response_for(req.data, 200, "OK", ["Server: kamailio (5.6.3)"]))
    assert resp.status_code == 200 and resp.reason == "OK"
    assert resp.branch == req.branch and resp.call_id == req.call_id
    assert (resp.cseq_number, resp.cseq_method) == (1, "OPTIONS")
    assert resp.server == "kamailio (5.6.3)" and resp.user_agent is None
    assert resp.body == b""


def test_compact_forms_and_folding():
    req = built()
    raw = response_for(req.data, 404, "Not Found", ["User-Agent: phone", "\tmodel 7"], compact=True)
    resp = parse_response(raw)
    assert resp.call_id == req.call_id and resp.branch == req.branch
    assert resp.user_agent == "phone model 7"
    assert resp.header("Content-Length") == "0" and resp.header("l") == "0"


def test_body_framed_by_content_length_and_excess_ignored():
    req = built()
    raw = response_for(req.data, 200, "OK", ["Content-Type: application/sdp"], body=b"v=0\r\n")
    assert parse_response(raw + b"junk").body == b"v=0\r\n"
    with pytest.raises(SipParseError, match="shorter than content-length"):
        parse_response(raw[:-2])


def test_reason_phrase_may_be_empty_or_utf8():
    req = built()
    assert parse_response(response_for(req.data, 486, "")).reason == ""
    assert parse_response(response_for(req.data, 480, "暂时不可用")).reason == "暂时不可用"


def _mutate(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert old in raw
    return raw.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b"SIP/2.0 200", b"SIP/3.0 200", "status line"),
        (b"SIP/2.0 200", b"SIP/2.0 20", "status line"),
        (b"SIP/2.0 200", b"SIP/2.0 700", "status line"),
        (b"Call-ID:", b"Call-Id-X:", "missing call-id"),
        (b"CSeq: 1 OPTIONS", b"CSeq: one OPTIONS", "malformed cseq"),
        (b"Via: SIP/2.0/UDP", b"Via: HTTP/1.1", "malformed via"),
        (b"Content-Length: 0", b"Content-Length: -1", "content-length"),
        (b"\r\nFrom:", b"\nFrom:", "bare CR or LF"),
        (b"\r\nTo:", b"\r\nTo : x\r\nTo:", "duplicate to"),
        (b"\r\nFrom:", b"\r\nBad Header: x\r\nFrom:", "malformed header line"),
        (b"\r\n\r\n", b"\r\n", "no blank line"),
    ],
)
def test_strict_parser_rejects(old, new, reason):
    raw = response_for(built().data)
    with pytest.raises(SipParseError, match=reason):
        parse_response(_mutate(raw, old, new))


def test_request_is_not_a_response():
    with pytest.raises(SipParseError):
        parse_response(built().data)


def test_stream_framing():
    req = built()
    raw = response_for(req.data, 100, "Trying") + response_for(req.data)
    assert frame_stream_message(raw[:30]) is None
    first, rest = frame_stream_message(b"\r\n\r\n" + raw)
    assert parse_response(first).status_code == 100
    second, rest = frame_stream_message(rest)
    assert parse_response(second).status_code == 200 and rest == b""
    with pytest.raises(SipParseError, match="missing content-length"):
        frame_stream_message(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n")


# --------------------------------------------------------------------------- properties


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_bytes_only_raise_sip_parse_error(data):
    for candidate in (
        data,
        b"SIP/2.0 200 OK\r\n" + data,
        b"SIP/2.0 200 OK\r\n" + data + b"\r\n\r\n",
    ):
        try:
            resp = parse_response(candidate)
        except SipParseError as exc:
            assert exc.reason
            continue
        # anything accepted must answer every helper without blowing up
        assert 100 <= resp.status_code <= 699
        _ = (resp.branch, resp.call_id, resp.cseq_number, resp.cseq_method, resp.server)
        try:
            frame_stream_message(candidate)
        except SipParseError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40), st.integers(min_value=0, max_value=2000))
def test_corrupted_valid_responses_only_raise_sip_parse_error(junk, pos):
    raw = response_for(built().data, 200, "OK", ["Server: kamailio"])
    pos %= len(raw)
    candidate = raw[:pos] + junk + raw[pos + len(junk) // 2 :]
    try:
        parse_response(candidate)
    except SipParseError:
        pass


_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    user=st.one_of(st.none(), _token),
    host=st.sampled_from(["127.0.0.1", "gw.example", "[::1]", "10.0.0.7"]),
    port=st.one_of(st.none(), st.integers(1, 65535)),
    status=st.integers(100, 699),
    reason=st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=20),
    transport=st.sampled_from(["UDP", "TCP"]),
    compact=st.booleans(),
)
def test_build_then_parse_round_trips(user, host, port, status, reason, transport, compact):
    uri = f"sip:{user + '@' if user else ''}{host}{':' + str(port) if port else ''}"
    req = build_options(uri, local_host="127.0.0.1", local_port=5999, transport=transport)
    resp = parse_response(response_for(req.data, status, reason, ["Server: peer"], compact=compact))
    assert resp.status_code == status
    assert resp.reason == reason.strip(" \t")
    assert (resp.branch, resp.call_id, resp.cseq_number, resp.cseq_method) == (
        req.branch,
        req.call_id,
        1,
        "OPTIONS",
    )
    assert resp.server == "peer"


# --------------------------------------------------------------------------- params / mapping


def test_params_defaults_and_strictness():
    p = SipParams()
    assert p.transport == "udp" and p.timeout == 2.0
    alive = [c for c in (200, 202, 401, 403, 404, 405, 407, 480, 486) if p.is_alive(c)]
    assert len(alive) == 9
    assert not any(p.is_alive(c) for c in (408, 500, 503, 600, 302))
    assert SipParams.model_validate({"timeout": "500ms"}).timeout == 0.5
    with pytest.raises(ValidationError):
        SipParams.model_validate({"retries": 3})
    with pytest.raises(ValidationError):
        SipParams.model_validate({"alive_codes": ["7xx"]})
    with pytest.raises(ValidationError):
        SipParams.model_validate({"transport": "tls"})
    assert SipParams.model_validate({"alive_codes": ["2XX", "404"]}).alive_codes == ["2xx", 404]


@pytest.mark.parametrize(
    ("status", "alive", "expected"),
    [
        (200, ["2xx"], ResultCode.OK),
        (404, ["2xx"], ResultCode.ERROR_RESPONSE),
        (404, ["2xx", 404], ResultCode.OK),
        (401, ["2xx"], ResultCode.AUTH_REQUIRED),
        (407, ["2xx"], ResultCode.AUTH_REQUIRED),
        (401, ["2xx", 401], ResultCode.OK),
        (503, ["2xx", "5xx"], ResultCode.OK),
        (503, ["2xx"], ResultCode.ERROR_RESPONSE),
        (408, SipParams().alive_codes, ResultCode.ERROR_RESPONSE),
    ],
)
def test_result_mapping(status, alive, expected):
    resp = parse_response(response_for(built().data, status, "R", ["Server: s"]))
    result = result_for_response(resp, SipParams(alive_codes=alive))
    assert result.result is expected and result.status_code == status
    assert result.ok is (expected is ResultCode.OK)
    assert result.info["server"] == "s" and result.info["reason_phrase"] == "R"
