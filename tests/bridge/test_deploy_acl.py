"""The shipped broker config (deploy/mosquitto/mosquitto.conf and acl) does what its
README says: TLS only, no anonymous clients, and each gateway writes and reads only its own
topics. The test loads the shipped files and substitutes only paths and the port: the
certificates, password file and ACL go to tmp_path, the listener to 127.0.0.1 at a free
port (tests/broker.py owns the listener line).

Mosquitto drops a publish the ACL denies without telling a MQTT 3.1.1 client, and delivers
nothing a subscriber may not read. Absence is shown by order, not by waiting: the denied
message is sent first, an allowed one after it on the same path, and the allowed one must
be the first to arrive."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import ipaddress
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.broker import HOST, Mosquitto

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "mosquitto"
ETC = "/etc/mosquitto/gatebridge/"
WAIT_S = 5
PASSWORDS = {"gw-01": "gw-01-secret", "gw-02": "gw-02-secret", "central": "central-secret"}


# ---------------------------------------------------------------- the throwaway PKI
def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_certificates(etc: Path) -> None:
    """ca.crt, and server.crt/server.key for 127.0.0.1 signed by it, as the README makes
    them with openssl."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("gatebridge test CA"))
        .issuer_name(_name("gatebridge test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(HOST))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (etc / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (etc / "server.crt").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (etc / "server.key").write_bytes(_pem_key(server_key))
    (etc / "server.key").chmod(0o600)


# ---------------------------------------------------------------- the password file
def password_line(username: str, password: str) -> str:
    """A mosquitto 2 password entry, as mosquitto_passwd writes it: PBKDF2-HMAC-SHA512,
    101 iterations, a 12-byte salt: `user:$7$101$<salt b64>$<hash b64>`."""
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 101)
    encoded = (base64.b64encode(part).decode() for part in (salt, digest))
    return f"{username}:$7$101${next(encoded)}${next(encoded)}\n"


def make_password_file(path: Path) -> None:
    """gw-01 and central with mosquitto_passwd, as the README says (our own hash when it
    is missing); gw-02 always with our own hash, so that one is checked too."""
    tool = shutil.which("mosquitto_passwd")
    path.write_text("")
    for username in ("gw-01", "central"):
        if tool is None:
            with path.open("a") as file:
                file.write(password_line(username, PASSWORDS[username]))
        else:
            subprocess.run(  # noqa: S603 - fixed arguments
                [tool, "-b", str(path), username, PASSWORDS[username]],
                check=True,
                capture_output=True,
            )
    with path.open("a") as file:
        file.write(password_line("gw-02", PASSWORDS["gw-02"]))
    path.chmod(0o600)


# ---------------------------------------------------------------- the shipped config
def localize(conf: str, etc: Path) -> str:
    """The shipped mosquitto.conf with its paths moved to `etc` and without its listener
    line (the helper opens 127.0.0.1:<free port>; the listener options that follow apply
    to it), its log destination and persistence location (the helper's work directory)."""
    lines = []
    for line in conf.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "listener":
            assert words == ["listener", "8883"], "the shipped listener: 8883, all interfaces"
            continue
        if words[0] in ("log_dest", "persistence_location"):
            continue
        paths = [word for word in words[1:] if word.startswith("/")]
        assert all(path.startswith(ETC) for path in paths), f"a path to move: {line}"
        lines.append(line.replace(ETC, f"{etc}/"))
    return "\n".join(lines)


def directives(conf: str) -> dict[str, str]:
    return {
        words[0]: " ".join(words[1:])
        for line in conf.splitlines()
        if (words := line.split()) and not words[0].startswith("#")
    }


def test_the_shipped_config_is_tls_only_authenticated_and_persistent() -> None:
    conf = directives((DEPLOY / "mosquitto.conf").read_text())
    assert conf["listener"] == "8883"
    assert conf["allow_anonymous"] == "false"
    assert conf["tls_version"] == "tlsv1.2"
    assert conf["persistence"] == "true"
    for option, file in [
        ("cafile", "ca.crt"),
        ("certfile", "server.crt"),
        ("keyfile", "server.key"),
        ("password_file", "passwd"),
        ("acl_file", "acl"),
    ]:
        assert conf[option] == ETC + file


@dataclass(frozen=True)
class Broker:
    mosquitto: Mosquitto
    etc: Path

    def client(
        self,
        username: str | None,
        password: str | None = None,
        *,
        tls: bool = True,
        identifier: str | None = None,
    ) -> aiomqtt.Client:
        if username is not None and password is None:
            password = PASSWORDS[username]
        return aiomqtt.Client(
            HOST,
            self.mosquitto.port,
            username=username,
            password=password,
            identifier=identifier,
            tls_params=aiomqtt.TLSParameters(ca_certs=str(self.etc / "ca.crt")) if tls else None,
            timeout=WAIT_S,
        )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    etc = tmp_path / "etc"
    etc.mkdir()
    make_certificates(etc)
    make_password_file(etc / "passwd")
    shutil.copyfile(DEPLOY / "acl", etc / "acl")
    conf = localize((DEPLOY / "mosquitto.conf").read_text(), etc)
    mosquitto = Mosquitto(tmp_path / "mosquitto", extra_conf=conf).start()
    try:
        yield Broker(mosquitto, etc)
    finally:
        mosquitto.stop()


async def received_until(client: aiomqtt.Client, last: bytes) -> list[tuple[str, bytes]]:
    """(topic, payload) of every message `client` receives up to the one carrying `last`."""
    seen: list[tuple[str, bytes]] = []
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            seen.append((message.topic.value, message.payload))
            if message.payload == last:
                return seen
    raise AssertionError(f"the client was disconnected after {seen}")


# ---------------------------------------------------------------- the tests
async def test_a_gateway_publishes_its_own_topics_and_central_reads_them(broker: Broker) -> None:
    assert broker.mosquitto.url.startswith("mqtts://")
    async with broker.client("central") as central, broker.client("gw-01") as gateway:
        for topic in ("status", "+/state", "+/events", "+/transactions", "+/clearance/request"):
            await central.subscribe(f"gate/+/+/{topic}", qos=1)
        own = [
            "gate/s1/gw-01/status",
            "gate/s1/gw-01/L01/state",
            "gate/s1/gw-01/L01/events",
            "gate/s1/gw-01/L01/transactions",
            "gate/s1/gw-01/L01/clearance/request",
        ]
        for topic in own:
            await gateway.publish(topic, topic.encode(), qos=1)
        seen = await received_until(central, own[-1].encode())
    assert seen == [(topic, topic.encode()) for topic in own]


async def test_a_gateway_cannot_publish_as_another_gateway_or_as_central(broker: Broker) -> None:
    async with broker.client("central") as central, broker.client("gw-01") as gateway:
        await central.subscribe("gate/+/+/status", qos=1)
        await central.subscribe("gate/+/+/+/events", qos=1)
        await gateway.subscribe("gate/s1/gw-01/+/clearance/decision", qos=1)
        await gateway.subscribe("gate/s1/gw-01/+/command", qos=1)
        # denied: gw-02's topics, and decisions or commands (central's to write), even its own
        for topic in (
            "gate/s1/gw-02/status",
            "gate/s1/gw-02/L01/events",
            "gate/s1/gw-01/L01/clearance/decision",
            "gate/s1/gw-01/L01/command",
        ):
            await gateway.publish(topic, b"forged", qos=1)  # no error: dropped silently
        await gateway.publish("gate/s1/gw-01/L01/events", b"legit", qos=1)
        assert await received_until(central, b"legit") == [("gate/s1/gw-01/L01/events", b"legit")]
        # dropped by the ACL, not lost: the broker logged each denial before "legit" came
        assert broker.mosquitto.log().count("Denied PUBLISH") == 4
        await central.publish("gate/s1/gw-01/L01/command", b"from central", qos=1)
        assert await received_until(gateway, b"from central") == [
            ("gate/s1/gw-01/L01/command", b"from central")
        ]


async def test_a_gateway_reads_only_its_own_decisions_and_commands(broker: Broker) -> None:
    async with (
        broker.client("central") as central,
        broker.client("gw-01") as gw01,
        broker.client("gw-02") as gw02,
    ):
        # gw-01 asks for gw-02's decisions by name, and for everything by wildcard
        granted = await gw01.subscribe("gate/s1/gw-02/L01/clearance/decision", qos=1)
        assert len(granted) == 1
        await gw01.subscribe("gate/#", qos=1)
        await gw02.subscribe("gate/s1/gw-02/+/clearance/decision", qos=1)
        # other gateways' traffic: gw-02's retained status and its events, and central's
        # decision and command for gw-02
        await gw02.publish("gate/s1/gw-02/status", b"gw-02 online", qos=1, retain=True)
        await gw02.publish("gate/s1/gw-02/L01/events", b"gw-02 event", qos=1)
        await central.publish("gate/s1/gw-02/L01/clearance/decision", b"for gw-02", qos=1)
        await central.publish("gate/s1/gw-02/L01/command", b"command for gw-02", qos=1)
        await central.publish("gate/s1/gw-01/L01/clearance/decision", b"for gw-01", qos=1)
        assert await received_until(gw01, b"for gw-01") == [
            ("gate/s1/gw-01/L01/clearance/decision", b"for gw-01")
        ]
        assert await received_until(gw02, b"for gw-02") == [
            ("gate/s1/gw-02/L01/clearance/decision", b"for gw-02")
        ]
        # the retained status of gw-02 is not handed to a later subscriber either
        async with broker.client("gw-01") as late:
            await late.subscribe("gate/+/+/status", qos=1)
            await late.subscribe("gate/s1/gw-01/+/command", qos=1)
            await central.publish("gate/s1/gw-01/L01/command", b"after", qos=1)
            assert await received_until(late, b"after") == [("gate/s1/gw-01/L01/command", b"after")]


@pytest.mark.parametrize(
    ("username", "password"),
    [("gw-01", "wrong"), ("gw-03", "gw-03-secret"), (None, None)],
    ids=["wrong-password", "unknown-user", "anonymous"],
)
async def test_a_client_without_valid_credentials_is_refused(
    broker: Broker, username: str | None, password: str | None
) -> None:
    with pytest.raises(aiomqtt.MqttCodeError) as refused:
        async with asyncio.timeout(WAIT_S), broker.client(username, password):
            pass
    # CONNACK return code 5, which paho 2 reports as the MQTT 5 reason code 0x87
    assert str(refused.value.rc) == "Not authorized"


def _utf8(text: str) -> bytes:
    return len(text.encode()).to_bytes(2, "big") + text.encode()


def mqtt_connect_packet(client_id: str, username: str, password: str) -> bytes:
    """An MQTT 3.1.1 CONNECT: clean session, username and password, keepalive 60 s."""
    variable = _utf8("MQTT") + bytes([4, 0b1100_0010]) + (60).to_bytes(2, "big")
    body = variable + _utf8(client_id) + _utf8(username) + _utf8(password)
    assert len(body) < 128  # a one-byte remaining length
    return bytes([0x10, len(body)]) + body


async def test_plain_mqtt_is_refused(broker: Broker) -> None:
    """A plain CONNECT with valid credentials gets no CONNACK: the TLS listener reads it
    as a broken handshake and closes the connection. (Raw bytes, not aiomqtt: aiomqtt
    2.5 ignores a connection lost before CONNACK and only gives up at its timeout.)"""
    reader, writer = await asyncio.open_connection(HOST, broker.mosquitto.port)
    try:
        writer.write(mqtt_connect_packet("plain", "gw-01", PASSWORDS["gw-01"]))
        await writer.drain()
        async with asyncio.timeout(WAIT_S):
            try:
                answer = await reader.read()
            except ConnectionResetError:
                answer = b""
        assert answer == b"", "the broker answered a plain MQTT CONNECT"
    finally:
        writer.close()
    # the broker is unharmed, and a TLS client with the same credentials gets in
    async with broker.client("gw-01"):
        assert broker.mosquitto.running
