"""A lane's `camera:` section as the camera listener's settings, secrets read from their
files. A secret is never inline in the config: its file holds one line, a token of 16 to
256 printable characters without spaces (it travels as `Authorization: Bearer <secret>`).
"""

from __future__ import annotations

import string
from pathlib import Path

from controller.config.models import CameraConfig, CameraSideConfig
from controller.errors import ConfigError
from devices.camera.listener import CameraAuth, ListenerSettings

TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + string.punctuation)


def listener_settings(camera: CameraConfig, where: str = "camera") -> ListenerSettings:
    host, _, port = camera.listen.rpartition(":")
    sides = [("entry", camera.entry)] + ([("exit", camera.exit)] if camera.exit else [])
    return ListenerSettings(
        host=host.removeprefix("[").removesuffix("]"),
        port=int(port),
        cameras=tuple(_auth(side, f"{where}.{name}") for name, side in sides),
        path=camera.path,
        max_body_bytes=camera.max_body_kb * 1024,
        queue_size=camera.queue_size,
        header_timeout_s=camera.header_timeout_s,
    )


def _auth(side: CameraSideConfig, where: str) -> CameraAuth:
    path = side.secret_file
    secret = None if path is None else read_secret(path, f"{where}.secret_file")
    return CameraAuth(side.id, secret=secret, allow_from=frozenset(side.allow_from))


def read_secret(path: Path, where: str) -> bytes:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(where, f"cannot read {path}: {error}") from None
    if not 16 <= len(text) <= 256 or not set(text) <= TOKEN_CHARS:
        raise ConfigError(where, f"{path}: one token of 16..256 printable characters, no spaces")
    return text.encode("ascii")
