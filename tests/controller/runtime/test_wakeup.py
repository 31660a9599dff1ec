"""The poll loops' Wakeup: back at the deadline, or at once when set; a set that came
while nobody waited is not lost."""

from __future__ import annotations

import asyncio

import pytest

from controller.runtime.loops import Wakeup


@pytest.mark.looptime
async def test_a_wait_ends_at_its_deadline_when_nothing_sets_it() -> None:
    loop, wake = asyncio.get_running_loop(), Wakeup()
    await wake.wait_until(loop.time() + 0.05)
    assert loop.time() == pytest.approx(0.05)


@pytest.mark.looptime
async def test_setting_it_ends_the_wait_early() -> None:
    loop, wake = asyncio.get_running_loop(), Wakeup()
    loop.call_at(0.01, wake.set)
    await wake.wait_until(loop.time() + 0.05)
    assert loop.time() == pytest.approx(0.01)


@pytest.mark.looptime
async def test_a_set_before_the_wait_is_kept_until_cleared() -> None:
    loop, wake = asyncio.get_running_loop(), Wakeup()
    wake.set()
    await wake.wait_until(loop.time() + 0.05)
    assert loop.time() == 0
    wake.clear()
    await wake.wait_until(loop.time() + 0.05)
    assert loop.time() == pytest.approx(0.05)


@pytest.mark.looptime
async def test_a_cancelled_wait_ends_cancelled_and_a_later_set_is_harmless() -> None:
    loop, wake = asyncio.get_running_loop(), Wakeup()
    task = asyncio.create_task(wake.wait_until(loop.time() + 10))
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    wake.set()  # nobody waits: kept for the next wait, which returns at once
    await wake.wait_until(loop.time() + 1)
    assert loop.time() == pytest.approx(0.01)
    wake.clear()  # then a wait ends at its own deadline, neither at once nor later
    await wake.wait_until(loop.time() + 0.05)
    assert loop.time() == pytest.approx(0.06)
