"""The one outbound URL check and the pinned, redirect-free session (outbound/)."""

from __future__ import annotations

import datetime
import ssl
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import outbound
from outbound import CheckedURL, URLRefused, check_url, outbound_session
from tests.support.remote import loopback_server, send_json

PUBLIC = "93.184.215.14"


def public_resolver(host: str, port: int) -> list[str]:
    return [PUBLIC]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://lms.example.org/cfg", "not an https"),
        ("https://lms.victim.test@attacker.example/cfg", "user name or password"),
        ("https://user:pass@lms.example.org/cfg", "user name or password"),
        ("https://127.0.0.1/cfg", "loopback"),
        ("https://localhost/cfg", "loopback"),
        ("https://[::1]/cfg", "loopback"),
        ("https://[::ffff:127.0.0.1]/cfg", "loopback"),
        ("https://10.1.2.3/cfg", "private"),
        ("https://192.168.0.10/cfg", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[fe80::1]/cfg", "link-local"),
        ("https://100.64.0.1/cfg", "reserved"),
        ("https://0.0.0.0/cfg", "private"),
        ("https://224.0.0.1/cfg", "multicast"),
        ("https://lms.example.org:99999/cfg", "not a URL"),
        ("https://lms.example.org/a b", "spaces"),
        ("https://lms.example.org\\@evil.example/", "backslashes"),
        ("file:///etc/passwd", "not an https"),
        ("https:///cfg", "no host"),
        ("", "empty"),
    ],
)
def test_refused_urls(url: str, why: str) -> None:
    with pytest.raises(URLRefused, match=why):
        check_url(url, allow_insecure=False, resolver=outbound.urls.resolve)


def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    def mixed(host: str, port: int) -> list[str]:
        return [PUBLIC, "10.0.0.7"]

    with pytest.raises(URLRefused, match="private address"):
        check_url("https://lms.example.org/", allow_insecure=False, resolver=mixed)


def test_a_public_https_url_passes_with_its_addresses() -> None:
    checked = check_url(
        "https://LMS.example.org:8443/cfg?x=1", allow_insecure=False, resolver=public_resolver
    )
    assert checked == CheckedURL(
        "https://LMS.example.org:8443/cfg?x=1", "https", "lms.example.org", 8443, (PUBLIC,)
    )
    assert checked.origin == "https://lms.example.org:8443"
    assert checked.host_header == "lms.example.org:8443"


def test_the_switch_allows_http_and_loopback_but_never_user_info(monkeypatch) -> None:
    monkeypatch.setenv(outbound.INSECURE_SWITCH, "1")
    assert check_url("http://127.0.0.1:5000/x").addresses == ()
    with pytest.raises(URLRefused, match="user name"):
        check_url("http://lms@127.0.0.1:5000/x")
    monkeypatch.delenv(outbound.INSECURE_SWITCH)
    with pytest.raises(URLRefused, match="not an https"):
        check_url("http://127.0.0.1:5000/x")


def test_same_origin() -> None:
    assert outbound.same_origin("https://a.example/x?page=2", "https://A.example:443/y")
    assert not outbound.same_origin("https://a.example.evil.test/x", "https://a.example/")
    assert not outbound.same_origin("http://a.example/x", "https://a.example/")
    assert not outbound.same_origin("https://a.example:8443/x", "https://a.example/")
    assert not outbound.same_origin("/relative", "https://a.example/")


def pinned(host: str, base_url: str, scheme: str = "http") -> Any:
    """A checker that pins ``host`` to the loopback server at ``base_url``."""
    port = int(base_url.rsplit(":", 1)[1])

    def checker(url: str) -> CheckedURL:
        checked = check_url(url, allow_insecure=True)
        if checked.host != host:
            raise URLRefused(f"not {host}")
        return CheckedURL(url, scheme, host, port, ("127.0.0.1",))

    return checker


def test_the_session_connects_to_the_checked_address_with_the_hosts_name() -> None:
    """``pinned.test`` resolves nowhere: only the pinned address can have answered."""
    seen: list[str | None] = []

    def handler(request: BaseHTTPRequestHandler) -> None:
        seen.append(request.headers.get("Host"))
        send_json(request, {"ok": True})

    with loopback_server(handler) as base:
        port = base.rsplit(":", 1)[1]
        with outbound_session(checker=pinned("pinned.test", base)) as http:
            response = http.get(f"http://pinned.test:{port}/x", timeout=5)
            with pytest.raises(URLRefused):
                http.get(f"http://other.test:{port}/x", timeout=5)
    assert response.json() == {"ok": True}
    assert seen == [f"pinned.test:{port}"]


def test_redirects_are_never_followed() -> None:
    seen: list[str] = []

    def handler(request: BaseHTTPRequestHandler) -> None:
        seen.append(request.path)
        request.send_response(302)
        request.send_header("Location", "http://10.0.0.1/internal")
        request.send_header("Content-Length", "0")
        request.end_headers()

    with (
        loopback_server(handler) as base,
        outbound_session(allow_insecure=True) as http,
        pytest.raises(URLRefused, match="redirect"),
    ):
        http.get(f"{base}/start", timeout=5)
    assert seen == ["/start"]


def test_proxy_settings_from_the_environment_are_ignored(monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    with (
        loopback_server(lambda r: send_json(r, {"direct": True})) as base,
        outbound_session(allow_insecure=True) as http,
    ):
        assert http.get(f"{base}/x", timeout=5).json() == {"direct": True}


def test_without_the_switch_the_session_refuses_before_sending(monkeypatch) -> None:
    monkeypatch.delenv(outbound.INSECURE_SWITCH, raising=False)
    seen: list[str] = []
    with (
        loopback_server(lambda r: seen.append(r.path)) as base,
        outbound_session() as http,
        pytest.raises(URLRefused, match="not an https"),
    ):
        http.get(f"{base}/x", timeout=5)
    assert seen == []


# ---- TLS: SNI and the certificate check use the host name, not the pinned address -------


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for ``name`` signed by it: (ca, cert, key) files."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tandem test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def tls_server(cert: Path, key: Path, sni: list[str | None]) -> Any:
    """A loopback https server for ``cert``, recording the SNI name each client sends."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: sni.append(name)  # type: ignore[assignment,misc]
    return loopback_server(lambda r: send_json(r, {"host": r.headers.get("Host")}), tls=context)


def test_https_to_a_pinned_address_sends_sni_and_checks_the_hosts_certificate(
    tmp_path: Path,
) -> None:
    ca, cert, key = _certificate(tmp_path, "pinned.test")
    sni: list[str | None] = []
    with tls_server(cert, key, sni) as base:
        port = base.rsplit(":", 1)[1]
        with outbound_session(checker=pinned("pinned.test", base, "https")) as http:
            answer = http.get(f"https://pinned.test:{port}/x", timeout=5, verify=str(ca))
    assert answer.json() == {"host": f"pinned.test:{port}"}
    assert sni == ["pinned.test"]


def test_https_refuses_a_certificate_for_another_name(tmp_path: Path) -> None:
    ca, cert, key = _certificate(tmp_path, "other.test")
    with tls_server(cert, key, []) as base:
        port = base.rsplit(":", 1)[1]
        with (
            outbound_session(checker=pinned("pinned.test", base, "https")) as http,
            pytest.raises(requests.exceptions.SSLError),
        ):
            http.get(f"https://pinned.test:{port}/x", timeout=5, verify=str(ca))
