"""``noc run`` as a child process on a fresh store, over HTTPS (issue 12, items 1, 2 and 6).

The certificate is self-signed, made here with ``cryptography`` for 127.0.0.1. The service
creates ``admin`` and prints its password once on stderr; that password logs in over TLS
(cookie Secure, HttpOnly, SameSite=Strict; HSTS and the other security headers), the session
may do nothing but change it, and after the change the console's API answers. A bad key is
refused at start with one line and exit 2. ``server.tls`` in the config does the same as the
options.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from support.noc_process import REPO, NocProcess, site_config


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


def call(service: NocProcess, path: str, body=None, headers=None) -> tuple[int, dict, object]:  # noqa: ANN001
    """(status, headers, JSON body) of one request, HTTP errors included."""
    request = service.request(path, body, headers)
    try:
        with urllib.request.urlopen(request, timeout=10, context=service.context) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")


def test_https_bootstrap_login_and_forced_password_change(tmp_path, tls_files):
    cert, key = tls_files
    config = tmp_path / "site.yaml"
    config.write_text(site_config("tlstest", "传输测试", "TLS test", tls=(cert, key)), "utf-8")
    service = NocProcess(config, tmp_path / "noc.db", tmp_path / "service.log", role=None)
    service.scheme = "https"
    service.context = ssl.create_default_context(cafile=str(cert))
    service.start()
    try:
        password = service.bootstrap_password()
        log = service.log_path.read_text(encoding="utf-8")
        assert password and log.count(password) == 1  # printed once, in one block
        assert "created the first account admin" in log

        status, headers, body = call(service, "/api/v1/incidents")
        assert status == 401 and body["error"] == "unauthenticated"
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        assert (
            headers["X-Frame-Options"] == "DENY"
            and "frame-ancestors 'none'" in (headers["Content-Security-Policy"])
        )

        status, headers, body = call(
            service, "/api/v1/login", {"user": "admin", "password": password}
        )
        assert status == 200 and body["must_change"] is True
        cookie = SimpleCookie(headers["Set-Cookie"])["noc_session"]
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Strict"
        session = {"Cookie": f"noc_session={cookie.value}", "X-CSRF-Token": body["csrf_token"]}

        status, _, body = call(service, "/api/v1/incidents", headers=session)
        assert status == 403 and "change your password first" in body["reason"]
        status, _, _ = call(
            service,
            "/api/v1/password",
            {"current_password": password, "new_password": "Admin-Chosen-2026"},
            session,
        )
        assert status == 200
        status, _, body = call(service, "/api/v1/incidents", headers=session)
        assert status == 200 and body["count"] == 0
        status, _, _ = call(
            service, "/api/v1/login", {"user": "admin", "password": password}
        )  # the printed password is gone
        assert status == 401
    finally:
        assert service.stop() == 0


def test_plain_http_is_refused_on_the_tls_port_and_a_bad_key_stops_the_start(tmp_path, tls_files):
    cert, key = tls_files
    config = tmp_path / "site.yaml"
    config.write_text(site_config("tlstest", "传输测试", "TLS test"), "utf-8")
    service = NocProcess(
        config,
        tmp_path / "noc.db",
        tmp_path / "service.log",
        args=("--tls-cert", str(cert), "--tls-key", str(key)),
    )
    service.scheme = "https"
    service.context = ssl.create_default_context(cafile=str(cert))
    service.start()
    try:
        assert service.get("/api/v1/session")["user"] == "test-lead"
        with pytest.raises(OSError):  # plain HTTP gets no answer from a TLS port
            urllib.request.urlopen(f"http://127.0.0.1:{service.port}/healthz", timeout=5)
    finally:
        assert service.stop() == 0

    key.write_text("not a key\n", encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, "-m", "noc", "run", "--config", str(config)]
        + ["--db", f"sqlite:///{tmp_path / 'noc.db'}", "--listen", "127.0.0.1:1"]
        + ["--tls-cert", str(cert), "--tls-key", str(key)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert bad.returncode == 2 and "TLS: cannot load certificate" in bad.stderr
    assert "Traceback" not in bad.stderr
