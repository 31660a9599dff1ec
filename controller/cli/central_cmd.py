"""`gatectl central` and `gatectl keys generate`: the reference central service.

The service answers clearance requests on the broker from a manifest, signing each
decision with its Ed25519 key; its seqs are kept in a state file beside the key (or
where `--state` says) so a restart never reuses one. `keys generate` writes a key pair
for it: the private key stays with the service, the public key goes to each gateway's
`clearance.verify_keys`.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from controller.bridge.mqtt import BrokerSettings
from controller.bridge.signing import Signer, load_private_key, write_key_pair
from controller.central import Central, FileSeqCounter, serve_central
from controller.clearance import load_manifest, manifest_lookup
from controller.errors import ConfigError

KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def check_key_id(key_id: str) -> str:
    if not KEY_ID.match(key_id):
        raise ConfigError("key_id", f"{key_id!r}: 1-64 letters, digits, '_', '.' or '-'")
    return key_id


def generate_keys(directory: Path, key_id: str) -> tuple[Path, Path]:
    check_key_id(key_id)
    for suffix in (".key", ".pub"):
        if (directory / f"{key_id}{suffix}").exists():
            raise ConfigError("dir", f"{directory / (key_id + suffix)} exists; not overwritten")
    try:
        return write_key_pair(directory, key_id)
    except OSError as error:
        raise ConfigError("dir", f"{directory}: {error.strerror or error}") from None


def central_service(
    manifest: Path, signing_key: Path, key_id: str, state: Path | None, validity_s: float
) -> Central:
    lookup = manifest_lookup(load_manifest(manifest), str(manifest))
    signer = Signer(check_key_id(key_id), load_private_key(signing_key))
    counter = FileSeqCounter(state or signing_key.with_suffix(".seq.json"))
    return Central(lookup, signer, time.time, counter, validity_s=validity_s)


def run_central(central: Central, mqtt_url: str, ca_file: Path | None) -> None:
    broker = BrokerSettings.from_url(mqtt_url, ca_file=ca_file)

    async def serve() -> None:
        client = broker.client(f"gatebridge-central-{central.signer.key_id}")
        await serve_central(central, client, lambda: print("central: ready", flush=True))

    asyncio.run(serve())
