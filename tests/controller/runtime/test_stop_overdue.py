"""A clean stop that overruns its deadline exits (code 70) and names what it waited for:
the threads and every task still pending, so the next intermittent hang says its cause."""

from __future__ import annotations

import asyncio

import pytest

from controller.runtime import gateway


class Exited(Exception):
    pass


def test_an_overdue_stop_dumps_the_pending_tasks_and_exits_70(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    codes: list[int] = []

    def exit_(code: int) -> None:
        codes.append(code)
        raise Exited

    async def waits_forever() -> None:
        await asyncio.Event().wait()

    monkeypatch.setattr("os._exit", exit_)
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(waits_forever(), name="L01:journal")
        loop.run_until_complete(asyncio.sleep(0))  # the task starts and blocks
        with pytest.raises(Exited):
            gateway._stop_overdue(loop)
        task.cancel()
        loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
    finally:
        loop.close()
    assert codes == [gateway.STOP_OVERDUE_EXIT]
    err = capfd.readouterr().err
    assert "L01:journal" in err
    assert "waits_forever" in err
