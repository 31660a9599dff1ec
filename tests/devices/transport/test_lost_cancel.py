"""A cancellation that races a Modbus reply is not lost.

pymodbus waits for each reply with asyncio.wait_for; on Python 3.11 that returns a reply
that completed in the same loop turn as a cancellation and drops the cancellation
(CPython gh-86296). A lane's poll loop cancelled at that moment never stopped: the
intermittent SIGTERM hang, and lane runtimes left running in the 64-lane bench."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from devices.transport.modbus import ModbusLink


class Reply:
    def isError(self) -> bool:  # noqa: N802 - pymodbus's name
        return False


class Connected:
    connected = True

    async def connect(self) -> bool:
        return True

    def close(self) -> None:
        pass


async def test_a_reply_racing_a_cancel_still_cancels() -> None:
    link = ModbusLink("modbus-tcp://test", Connected)  # type: ignore[arg-type]
    reply: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()

    async def request(_client: Any) -> Reply:
        return await asyncio.wait_for(reply, 1.0)  # as pymodbus's execute does

    task = asyncio.create_task(link.call("read", request))
    await asyncio.sleep(0)  # the task now waits inside wait_for
    reply.set_result(Reply())  # the reply arrives ...
    task.cancel()  # ... in the same loop turn as the cancellation
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
