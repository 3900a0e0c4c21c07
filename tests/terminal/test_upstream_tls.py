"""An https upstream: verified against the same trust as the OAuth calls (``SSL_CERT_FILE``)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.terminal.conftest import SECRET, Stack, with_secret
from tests.terminal.scripted_upstream import Exchange, ScriptedUpstream, answer
from tokenwarden.proxy import serve_proxy


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tokenwarden test upstream")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
async def tls_upstream(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    upstream = ScriptedUpstream(lambda index, line: Exchange(answer(body=b"secure")))
    await upstream.start(tls=context)
    yield upstream
    await upstream.stop()


async def test_https_upstream_trusted_through_ssl_cert_file_is_served(
    stack: Stack, tls_upstream: ScriptedUpstream, certificate, client: httpx2.AsyncClient,
    monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    proxy = await serve_proxy(stack.manager, tls_upstream.base, secret=SECRET, watch=False)
    try:
        answers = [await client.get(proxy.url + "/a", headers=with_secret()) for _ in range(3)]
    finally:
        await proxy.close()
    assert [(a.status_code, a.text) for a in answers] == [(200, "secure")] * 3
    assert tls_upstream.connections == 1  # one handshake, then keep-alive


async def test_https_upstream_with_an_untrusted_certificate_gives_502(
    stack: Stack, tls_upstream: ScriptedUpstream, client: httpx2.AsyncClient, monkeypatch
):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    proxy = await serve_proxy(stack.manager, tls_upstream.base, secret=SECRET, watch=False)
    try:
        got = await client.get(proxy.url + "/a", headers=with_secret())
    finally:
        await proxy.close()
    assert got.status_code == 502
    assert "CERTIFICATE_VERIFY_FAILED" in got.json()["message"]
    assert tls_upstream.requests == []
