"""The systemd files: the unit passes `systemd-analyze verify`, asks for what the issue
asks (notify, watchdog, restart, hardening) and lets the controller write exactly where
the installed config writes; sysusers and tmpfiles run for real into a temporary root."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from controller.config.load import load_config

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "deploy/systemd"


def unit_values() -> dict[str, list[str]]:
    """[Service] settings, each with every value it is given (a key may repeat)."""
    values: dict[str, list[str]] = {}
    section = ""
    for line in (SYSTEMD / "gatebridge.service").read_text().splitlines():
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def unit() -> dict[str, str]:
    return {key: values[-1] for key, values in unit_values().items()}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - systemd's own tools, fixed arguments
        args, capture_output=True, text=True, timeout=30, check=False
    )


def test_the_unit_verifies_cleanly(tmp_path: Path) -> None:
    # the installed gatectl is this venv's: the verifier checks that ExecStart= exists
    text = (SYSTEMD / "gatebridge.service").read_text()
    local = tmp_path / "gatebridge.service"
    local.write_text(text.replace("/opt/gatebridge/current", sys.prefix))
    done = run("systemd-analyze", "verify", str(local))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # an unknown or misspelt key is only a warning: none at all


def test_the_unit_is_a_watched_notify_service() -> None:
    service = unit()
    assert service["Type"] == "notify"
    assert service["NotifyAccess"] == "main"
    assert service["Restart"] == "on-failure"
    assert service["WatchdogSec"] == "10s"
    assert service["ExecStart"].endswith("gatectl run --config /etc/gatebridge/gateway.yaml")


def test_the_unit_is_hardened_and_writes_only_state_and_logs() -> None:
    service = unit()
    for key, value in {
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "User": "gatebridge",
        "RuntimeDirectory": "gatebridge",
    }.items():
        assert service[key] == value, key
    assert service["ReadWritePaths"].split() == ["/var/lib/gatebridge", "/var/log/gatebridge"]
    assert set(service["SupplementaryGroups"].split()) == {"dialout", "gatebridge-ops"}
    # ProtectClock= implies an allow-list of devices: the serial ports must be on it
    assert service["ProtectClock"] == "yes"
    assert "char-tty* rw" in unit_values()["DeviceAllow"]


def test_the_installed_config_writes_where_the_unit_lets_it() -> None:
    config = load_config(ROOT / "deploy/examples/gateway.yaml")
    writable = [Path(p) for p in unit()["ReadWritePaths"].split()]
    for path in (config.journal, config.audit_log):
        assert path is not None
        assert any(path.is_relative_to(w) for w in writable), path
    assert config.socket.parent == Path("/run/gatebridge")  # RuntimeDirectory=gatebridge
    assert config.roles.viewer in unit()["SupplementaryGroups"].split()  # it chowns the socket


def test_sysusers_and_tmpfiles_make_the_accounts_and_directories(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    done = run("systemd-sysusers", f"--root={tmp_path}", str(SYSTEMD / "gatebridge.sysusers"))
    assert done.returncode == 0, done.stderr
    groups = {
        line.split(":")[0]: line.split(":")[3].split(",")
        for line in (tmp_path / "etc/group").read_text().splitlines()
    }
    assert "gatebridge" in groups["dialout"]
    assert "gatebridge" in groups["gatebridge-ops"]
    assert {"gatebridge-tech", "gatebridge-officer"} <= set(groups)
    passwd = (tmp_path / "etc/passwd").read_text()
    assert "gatebridge:x:" in passwd
    assert ":/var/lib/gatebridge:/usr/sbin/nologin" in passwd
    done = run(
        "systemd-tmpfiles", f"--root={tmp_path}", "--create", str(SYSTEMD / "gatebridge.tmpfiles")
    )
    assert done.returncode == 0, done.stderr
    ids = {
        line.split(":")[0]: int(line.split(":")[2])
        for line in (tmp_path / "etc/group").read_text().splitlines()
    }
    for path, mode, uid_name, gid_name in (
        ("var/lib/gatebridge", 0o750, "gatebridge", "gatebridge"),
        ("var/log/gatebridge", 0o750, "gatebridge", "gatebridge"),
        ("etc/gatebridge/keys", 0o750, None, "gatebridge"),
    ):
        info = (tmp_path / path).stat()
        assert info.st_mode & 0o777 == mode, path
        assert info.st_gid == ids[gid_name], path
        assert uid_name is None or info.st_uid != 0, path
