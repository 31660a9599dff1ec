"""diag through the controller, in process and in virtual time (issue 13 part 4): a lane in
maintenance reads a device on its own link and answers with what the device holds; a
register write becomes the operator command it stands for, so the interlock judges it: no
diag write closes a barrier on a truck (S1); a write the interlock cannot judge is refused
and never reaches the device."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest

from controller.core.types import Device, OperatorAction, Side
from controller.maintenance.protocol import DiagRequest
from controller.runtime import passthrough
from devices.barrier.codec import BarrierState, encode_status
from devices.io.codec import OUTPUT_COUNT
from devices.transport.base import MemoryHub
from devices.transport.modbus import ModbusLinks
from emulators.world import Phase
from simulation.engine import build_lane
from tests.controller.runtime.test_maintenance_world import TECHNICIAN, Technician, in_maintenance

A = OperatorAction


def diag(lane: str, device: str, table: str, address: int, **more: object) -> DiagRequest:
    fields = {"op": "diag", "lane": lane, "device": device, "table": table, "address": address}
    return DiagRequest.model_validate(fields | more)


async def ask(technician: Technician, device: str, table: str, address: int, **more: object
              ) -> dict[str, object]:  # fmt: skip
    request = diag(technician.sim.lane_id, device, table, address, **more)
    return await technician.gateway.diag(request, TECHNICIAN)


@pytest.mark.looptime
async def test_a_read_in_maintenance_answers_what_the_device_holds() -> None:
    async with in_maintenance() as technician:
        emulated = technician.sim.emulated
        errors_before = technician.sim.runtime.freshness.figures(0.0)[Device.IO][0]
        status = await ask(technician, "exit_barrier", "holding", 100, count=7)
        coils = await ask(technician, "io", "coils", 0, count=OUTPUT_COUNT)
        refused = await ask(technician, "exit_barrier", "holding", 0, count=1)
        model = emulated.barriers["exit"]
        outputs = emulated.io.outputs
        io_errors = technician.sim.runtime.freshness.figures(0.0)[Device.IO][0]
    assert status["accepted"] is True
    assert status["values"][0] == BarrierState.CLOSED  # type: ignore[index]
    assert status["values"] == encode_status(model.status())  # the emulator's own model
    assert coils["values"] == [outputs >> bit & 1 for bit in range(OUTPUT_COUNT)]
    assert refused["kind"] == "device"  # holding 0 is no barrier register: exception 02
    assert str(refused["refused"]).endswith("function 3 (exception code 2)"), refused
    assert io_errors == errors_before  # the I/O module's link was not disturbed


@pytest.mark.looptime
async def test_a_diag_close_on_a_truck_under_the_arm_is_refused_naming_s1() -> None:
    async with in_maintenance() as technician:
        await technician.show_entry_green()
        world, arm = technician.world, technician.sim.emulated.barriers["entry"]
        truck = world.spawn(world.make_truck())
        core = technician.sim.runtime.core
        assert core is not None
        await technician.until(lambda: arm.presence and core.image.presence(Side.ENTRY), 120)
        answer = await ask(technician, "entry_barrier", "coils", 3, values=[1])
        state_after = arm.state
        await technician.until(lambda: truck.phase == Phase.ON_DECK, 120)
    assert answer["accepted"] is False
    assert answer["action"] == "barrier_close"
    assert str(answer["refused"]).startswith("interlock veto S1: entry close refused: presence")
    assert state_after == BarrierState.OPEN  # the arm never started down
    assert technician.caused() == []


@pytest.mark.looptime
async def test_lamp_coils_become_light_commands_and_other_writes_are_refused() -> None:
    async with in_maintenance() as technician:
        assert technician(A.BARRIER_OPEN, Side.ENTRY)["accepted"]
        panel = technician.world.panel
        await technician.until(lambda: panel.arm_fully_open("entry"), 10)
        green = technician.sim.runtime.setup.wiring.outputs["entry_green"]
        shown = await ask(technician, "io", "coils", green, values=[1])
        await technician.until(lambda: panel.green("entry"), 2)
        red = await ask(technician, "io", "coils", green, values=[0])
        await technician.until(lambda: not panel.green("entry"), 2)
        auto_close = await ask(technician, "entry_barrier", "holding", 106, values=[1])
        several = await ask(technician, "io", "coils", 0, values=[1, 0, 1, 0])
        barrier = technician.sim.emulated.barriers["entry"]
    assert shown["accepted"] is True
    assert (shown["action"], shown["side"]) == ("light_green", "entry")
    assert (red["accepted"], red["action"]) == (True, "light_red")
    assert auto_close["accepted"] is False
    assert barrier.auto_close is False  # the refused write never reached the device
    assert "judges commands, not registers" in str(auto_close["refused"])
    assert "entry_barrier/exit_barrier coils 1 open, 3 close, 0 stop" in str(auto_close["refused"])
    assert several["accepted"] is False  # four lamps at once is no single command


@pytest.mark.looptime
async def test_outside_maintenance_diag_is_refused_and_reads_nothing() -> None:
    async with in_maintenance() as technician:
        assert technician(A.MODE_AUTO)["accepted"]
        steps = technician.sim.runtime.steps
        answer = await ask(technician, "io", "coils", 0, count=4)
        no_lane = await technician.gateway.diag(diag("L99", "io", "coils", 0), TECHNICIAN)
        after = technician.sim.runtime.steps
    assert answer["accepted"] is False
    assert "not in maintenance" in str(answer["refused"])
    assert "values" not in answer
    assert after == steps  # nothing was fed to the core
    assert no_lane["kind"] == "usage"


@pytest.mark.looptime
async def test_a_diag_read_never_vouches_for_the_lanes_image_of_a_device() -> None:
    """Freshness says the lane's image of a device is recent (S1, S7 judge by it): a diag
    read, which leaves that image as it was, must not refresh it; a failed one counts."""
    async with AsyncExitStack() as stack:
        sim = await build_lane(0, 1, MemoryHub(), ModbusLinks(), misbehave=0.0, stack=stack)
        runtime = sim.runtime  # not run: no poll has ever reached a device
        good = await passthrough.read(runtime, diag("L01", "io", "coils", 0, count=16))
        bad = await passthrough.read(runtime, diag("L01", "entry_barrier", "holding", 0))
        devices = runtime.freshness.snapshot()
        errors = runtime.freshness.figures(runtime.now())
    assert good["accepted"] is True
    assert devices["io"] == {"healthy": False, "last_ok": None, "error": ""}
    assert bad["kind"] == "device"
    assert devices["entry_barrier"]["error"] == bad["refused"]
    assert errors[Device.ENTRY_BARRIER][0] == 1
