"""sd_notify against real unix datagram sockets bound by the test (path and abstract)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from controller.runtime.sdnotify import Notifier, socket_address, watchdog_interval


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        yield sock, str(path)


def test_a_notification_is_one_datagram_of_lines(receiver: tuple[socket.socket, str]) -> None:
    sock, path = receiver
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.send(READY=1, STATUS="1 lane: L01 idle")
    assert sock.recv(4096) == b"READY=1\nSTATUS=1 lane: L01 idle"
    notifier.close()


def test_an_abstract_socket_is_named_with_a_leading_at() -> None:
    name = f"gatebridge-test-{os.getpid()}-{id(object())}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(5)
        notifier = Notifier({"NOTIFY_SOCKET": f"@{name}"})
        assert notifier.send(WATCHDOG=1)
        assert sock.recv(4096) == b"WATCHDOG=1"
        notifier.close()
    assert socket_address("@x") == b"\0x"
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"


def test_without_a_manager_nothing_is_sent() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert not notifier.send(READY=1)


def test_a_vanished_manager_does_not_stop_the_controller(tmp_path: Path) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody")})
    assert notifier.enabled
    assert not notifier.send(READY=1)


def test_a_full_queue_drops_pings_instead_of_blocking(
    receiver: tuple[socket.socket, str],
) -> None:
    sock, path = receiver
    notifier = Notifier({"NOTIFY_SOCKET": path})
    sent = [notifier.send(WATCHDOG=1) for _ in range(2000)]  # nobody reads: the queue fills
    assert sent[0]
    assert not all(sent)
    assert sock.recv(4096) == b"WATCHDOG=1"
    notifier.close()


@pytest.mark.parametrize(
    ("env", "interval"),
    [
        ({"WATCHDOG_USEC": "2000000"}, 1.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}, 1.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "x"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({}, None),
    ],
)
def test_the_watchdog_pings_at_half_the_timeout_for_this_process_only(
    env: dict[str, str], interval: float | None
) -> None:
    assert watchdog_interval(env) == interval
