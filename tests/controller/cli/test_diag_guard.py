"""diag refuses a device a running controller owns (it holds the endpoint's flock), with
one line naming the pid and the lane; a lock file nobody holds means nothing."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from controller.cli.diag_guard import endpoint_key
from controller.runtime.locks import acquire_endpoint
from tests.controller.cli.diag_lane import Lane, gatectl


@contextmanager
def held(lock_dir: Path, url: str) -> Iterator[None]:
    """A controller's side: the endpoint's lock taken as `gatectl run` takes it (by this
    test's process, so its pid is the owner's)."""
    locks = acquire_endpoint(lock_dir, url, "a test controller")
    try:
        yield
    finally:
        locks.release()


def test_endpoint_keys_name_a_bus_by_its_ports_real_path(tmp_path: Path) -> None:
    assert endpoint_key("modbus-tcp://10.0.1.21:502") == "tcp:10.0.1.21:502"
    (tmp_path / "ttyX").touch()
    (tmp_path / "link").symlink_to(tmp_path / "ttyX")
    bus = f"modbus-rtu://{tmp_path}/link?baud=38400"
    assert endpoint_key(bus) == str(tmp_path / "ttyX")  # a bus is its port's real path
    assert endpoint_key(f"serial://{tmp_path}/ttyX") == endpoint_key(bus)


def test_diag_is_refused_on_an_owned_endpoint_and_runs_when_it_is_free(
    emulated_lane: Lane,
) -> None:
    config, lock_dir = str(emulated_lane.config), emulated_lane.tmp  # the socket's directory
    read = ("diag", "modbus", "read", emulated_lane.tcp, "-t", "coils", "--config", config)
    with held(lock_dir, f"modbus-tcp://127.0.0.1:{emulated_lane.port}"):
        ran = gatectl(*read)
    assert ran.code == 1
    assert ran.stdout == ""  # nothing went to the device
    assert ran.stderr == (
        f"error: refused: endpoint tcp:127.0.0.1:{emulated_lane.port} owned by controller pid "
        f"{os.getpid()}; put lane L01 in maintenance and diag goes through the controller, "
        "or stop the controller\n"
    )
    assert gatectl(*read).code == 0


def test_writes_scans_and_serial_verbs_are_refused_on_the_owned_port(emulated_lane: Lane) -> None:
    bus = os.path.realpath(emulated_lane.tmp / "rs485")
    scale = os.path.realpath(emulated_lane.tmp / "scale")
    lock_dir = ("--lock-dir", str(emulated_lane.tmp))
    write = ("diag", "modbus", "write", emulated_lane.rtu, "-t", "holding", "-a", "106", "1")
    with (
        held(emulated_lane.tmp, f"modbus-rtu://{bus}"),
        held(emulated_lane.tmp, f"serial://{scale}"),
    ):
        ran = gatectl(*write, *lock_dir)
        assert ran.code == 1
        assert (  # without a config diag cannot know the lane nor its controller's socket
            f"owned by controller pid {os.getpid()}; put its lane (with its --config) in "
            "maintenance and diag goes through the controller" in ran.stderr
        )
        for args in (
            ("diag", "modbus", "scan", emulated_lane.rtu, "--units", "1", *lock_dir),
            ("diag", "scale", str(emulated_lane.tmp / "scale"), "-n", "1", *lock_dir),
            ("diag", "serial", "sniff", f"serial://{scale}", "-n", "1", *lock_dir),
            ("diag", "serial", "probe", scale, *lock_dir),
        ):
            ran = gatectl(*args)
            assert ran.code == 1, args
            assert ran.stderr.endswith(  # these verbs never go through the controller
                f"owned by controller pid {os.getpid()}; stop it to use this verb, or see its "
                "view of the device with gatectl status / gatectl monitor\n"
            ), args
    status = gatectl("diag", "modbus", "read", emulated_lane.rtu, "-u", "1", "-t", "holding",
                     "-a", "106", *lock_dir)  # fmt: skip
    assert status.code == 0
    assert "    106      0  0x0000" in status.stdout  # the refused write never reached it


def test_a_controller_listening_on_the_configs_socket_owns_its_lanes_endpoints(
    emulated_lane: Lane,
) -> None:
    """Without any lock file: the config names the socket, the kernel names its pid."""
    config = ("--config", str(emulated_lane.config))
    read = ("diag", "modbus", "read", emulated_lane.tcp, "-t", "coils", *config)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as controller:
        controller.bind(str(emulated_lane.tmp / "gatectl.sock"))
        controller.listen()
        ran = gatectl(*read)
        elsewhere = gatectl("diag", "modbus", "read", "tcp://127.0.0.1:9", "-t", "coils", *config)
    os.unlink(emulated_lane.tmp / "gatectl.sock")
    assert ran.code == 1
    assert f"owned by controller pid {os.getpid()}; put lane L01 in maintenance" in ran.stderr
    assert ran.stdout == ""  # it answered no status: diag did not go through it either
    assert elsewhere.code == 3  # not the lane's endpoint: diag goes ahead (nobody there)
    assert gatectl(*read).code == 0  # the controller gone, the device answers diag
