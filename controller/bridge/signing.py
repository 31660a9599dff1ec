"""Ed25519 signatures over canonical JSON (DESIGN section 6).

Theory of operation: a signed message is a JSON object with a `sig` field. The signature
covers the canonical JSON of the object *as received*, minus `sig`: keys sorted, no
whitespace, UTF-8. Verifying over the received object (never over a re-dump of a parsed
model) means a field the model does not know, or a value pydantic would coerce, still
breaks the signature instead of slipping through. Keys are PEM files: PKCS#8 for the
private key (only the central service holds one), SubjectPublicKeyInfo for the public
keys the gateway's config names by `key_id`.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from controller.errors import ConfigError


def canonical_json(obj: Mapping[str, object]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Signer:
    key_id: str
    key: Ed25519PrivateKey

    @classmethod
    def generate(cls, key_id: str) -> Signer:
        return cls(key_id, Ed25519PrivateKey.generate())

    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    def sign(self, body: Mapping[str, object]) -> dict[str, object]:
        """`body` with `key_id` and `sig` added; `body` must not carry `sig` already."""
        if "sig" in body:
            raise ValueError("sig: the body to sign already carries a signature")
        unsigned = {**body, "key_id": self.key_id}
        signature = self.key.sign(canonical_json(unsigned))
        return {**unsigned, "sig": base64.b64encode(signature).decode("ascii")}


def signature_holds(received: Mapping[str, object], key: Ed25519PublicKey) -> bool:
    """Whether `received["sig"]` signs the canonical JSON of `received` minus `sig`."""
    sig = received.get("sig")
    if not isinstance(sig, str):
        return False
    try:
        raw = base64.b64decode(sig, validate=True)
        key.verify(raw, canonical_json({k: v for k, v in received.items() if k != "sig"}))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


# ---------------------------------------------------------------------- key files
def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(_read(path, "signing_key"), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError("signing_key", f"{path}: not an Ed25519 private key")
    return key


def load_public_key(path: Path, where: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(_read(path, where))
    except ValueError as error:
        raise ConfigError(where, f"{path}: not a PEM public key ({error})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(where, f"{path}: not an Ed25519 public key")
    return key


def _read(path: Path, where: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigError(where, f"{path}: {error.strerror or error}") from None


def write_key_pair(directory: Path, key_id: str) -> tuple[Path, Path]:
    """Write `<key_id>.key` (PKCS#8, mode 0600) and `<key_id>.pub`; never overwrite."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / f"{key_id}.key", directory / f"{key_id}.pub"
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _create(private_path, private_pem, 0o600)
    _create(public_path, public_pem, 0o644)
    return private_path, public_path


def _create(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
