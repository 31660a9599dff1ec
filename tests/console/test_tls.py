"""`gatectl console` with `console.tls_cert`/`tls_key`: it serves HTTPS only."""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import ssl
import urllib.request
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.console_stack import gatectl, stack_config


def self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "console.crt", tmp / "console.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_the_console_serves_https_with_the_configured_certificate(tmp_path: Path) -> None:
    config, url = stack_config(tmp_path)
    cert, key = self_signed(tmp_path)
    document = yaml.safe_load(config.read_text())
    document["console"].update(tls_cert=str(cert), tls_key=str(key))
    config.write_text(yaml.safe_dump(document))
    secure = url.replace("http://", "https://")
    trust = ssl.create_default_context(cafile=str(cert))
    with gatectl("console", "--config", str(config), ready=f"console on {secure}/"):
        with urllib.request.urlopen(f"{secure}/login", context=trust, timeout=10) as page:  # noqa: S310
            assert page.status == 200
            assert "Sign in" in page.read().decode()
        with pytest.raises(http.client.RemoteDisconnected):  # plain HTTP gets no page
            urllib.request.urlopen(f"{url}/login", timeout=10).read()  # noqa: S310
