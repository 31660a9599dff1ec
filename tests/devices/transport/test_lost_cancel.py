"""A cancellation that races a Modbus reply is not lost.

pymodbus waits for each reply with asyncio.wait_for; on Python 3.11 that returns a reply
that completed in the same loop turn as a cancellation and drops the cancellation
(CPython gh-86296). A lane's poll loop cancelled at that moment never stopped: the
intermittent SIGTERM hang, and lane runtimes left running in the 64-lane bench."""

from __future__ import annotations

import asyncio
import contextlib
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


async def test_a_stale_cancel_request_from_before_the_call_is_not_raised() -> None:
    """3.11's TaskGroup can leave a cancel request counted on a task that carries on (the
    bridge after a lost connection): a reply is still a reply."""
    link = ModbusLink("modbus-tcp://test", Connected)  # type: ignore[arg-type]

    async def request(_client: Any) -> Reply:
        return await asyncio.wait_for(asyncio.sleep(0, Reply()), 1.0)

    async def carries_on_after_a_swallowed_cancel() -> object:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):  # swallowed without uncancel(),
            await asyncio.Event().wait()  # as 3.11's TaskGroup leaves its parent
        assert task.cancelling() == 1
        return await link.call("read", request)

    assert isinstance(await carries_on_after_a_swallowed_cancel(), Reply)
