"""The web console's settings (`console:` in the gateway config; docs/console.md).

`listen` is HOST:PORT with an IP literal: a loopback address (the default), or one
explicit interface address, never a wildcard, and only with TLS (`tls_cert` and
`tls_key` together): officers' passwords and session cookies never cross a network
in clear.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_USERS = Path("/etc/gatebridge/console-users.json")
MIN_SESSION_MINUTES = 0.1


class ConsoleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    listen: str = "127.0.0.1:8443"
    users_file: Path = DEFAULT_USERS
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # fractional minutes allowed; at least 6 s, so a session outlives a page load
    session_minutes: float = Field(default=30, ge=MIN_SESSION_MINUTES, le=24 * 60)

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        host_and_port(value)
        return value

    @model_validator(mode="after")
    def _tls(self) -> Self:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key: set both, or neither")
        host, _ = host_and_port(self.listen)
        if not ipaddress.ip_address(host).is_loopback and self.tls_cert is None:
            raise ValueError(
                f"listen: {host} is not a loopback address; off loopback the console "
                "needs tls_cert and tls_key"
            )
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None


def host_and_port(value: str) -> tuple[str, int]:
    """('127.0.0.1', 8443) from '127.0.0.1:8443' ('[::1]:8443' for IPv6); ValueError
    naming what is wrong."""
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not HOST:PORT with a port 1-65535")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"{host!r} is not an IP address (give 127.0.0.1 or an interface's)"
        ) from None
    if address.is_unspecified:
        raise ValueError(f"{host} listens everywhere: name one address (127.0.0.1 by default)")
    return host, int(port)
