"""The one error hierarchy of gatebridge.

Every error we raise derives from `GateError`, so a caller can catch "ours" without
catching programming errors. Device errors say *who* failed and *how*: a device that did
not answer (`DeviceTimeout`) is told apart from one that answered garbage
(`DeviceProtocolError`) and from a link that is gone (`DeviceBroken`), and a resource we
closed ourselves (`DeviceClosed`) from one that broke, as trio does. Foreign exceptions
(pymodbus, pyserial, OSError) are mapped at the boundary and kept as `__cause__`.

This module is a leaf: it imports nothing of ours, so every layer (devices included, by
an explicit import-linter carve-out) may raise these. It also keeps the one guard for a
cancellation a foreign library dropped (`keeping_cancellation`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def keeping_cancellation(call: Awaitable[T]) -> T:
    """Await `call`, a library that waits with asyncio.wait_for (pymodbus for every reply,
    aiomqtt for every PUBACK), without losing a cancellation: on Python 3.11 wait_for
    returns a result that completed in the same loop turn as a cancellation of its caller
    and drops the cancellation (CPython gh-86296, fixed in 3.12). A poll loop cancelled at
    that moment would run on and hang a clean stop. A cancellation requested while `call`
    ran and not delivered is raised here. (Only one requested meanwhile: 3.11's TaskGroup
    can leave a stale request counted on a task that carries on, e.g. after a reconnect.)"""
    task = asyncio.current_task()
    before = 0 if task is None else task.cancelling()
    result = await call
    if task is not None and task.cancelling() > before:
        raise asyncio.CancelledError
    return result


class GateError(Exception):
    """Root of every gatebridge error."""


class DeviceError(GateError):
    """A device failed; `device` names it (a config name or an endpoint URL)."""

    def __init__(self, device: str, message: str) -> None:
        super().__init__(f"{device}: {message}")
        self.device = device


class DeviceTimeout(DeviceError):
    """The device did not answer in time."""


class DeviceProtocolError(DeviceError):
    """The device (or the line) sent bytes that break its protocol.

    `data` holds the offending bytes, so a technician can see what arrived.
    """

    def __init__(self, device: str, message: str, data: bytes = b"") -> None:
        shown = f" (bytes: {data[:64].hex(' ')}{' ...' if len(data) > 64 else ''})" if data else ""
        super().__init__(device, message + shown)
        self.data = data


class DeviceRefused(DeviceError):
    """The device answered with an exception (for Modbus: the exception code)."""

    def __init__(self, device: str, message: str, code: int) -> None:
        super().__init__(device, f"{message} (exception code {code})")
        self.code = code


class DeviceBroken(DeviceError):
    """The link to the device is lost (cable cut, port gone, connection refused)."""


class DeviceClosed(DeviceError):
    """The transport was closed by us; using it again is a programming error upstream."""


class AlreadyOwned(GateError):
    """Another live process owns what we need (a gateway, a device endpoint, the
    maintenance socket): we refuse to start rather than take it from under it."""


class ConfigError(GateError):
    """The configuration is invalid; `path` is the dotted path of the bad field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
