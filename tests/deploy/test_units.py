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


def unit_values(
    name: str = "gatebridge.service", wanted: str = "[Service]"
) -> dict[str, list[str]]:
    """A section's settings, each with every value it is given (a key may repeat)."""
    values: dict[str, list[str]] = {}
    section = ""
    for line in (SYSTEMD / name).read_text().splitlines():
        if line.startswith("["):
            section = line
        elif section == wanted and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def unit(name: str = "gatebridge.service", section: str = "[Service]") -> dict[str, str]:
    return {key: values[-1] for key, values in unit_values(name, section).items()}


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


def test_the_console_unit_verifies_cleanly_beside_the_service(tmp_path: Path) -> None:
    for name in ("gatebridge.service", "gatebridge-console.service"):
        text = (SYSTEMD / name).read_text()
        (tmp_path / name).write_text(text.replace("/opt/gatebridge/current", sys.prefix))
    done = run("systemd-analyze", "verify", str(tmp_path / "gatebridge-console.service"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_the_console_starts_and_stops_with_the_service() -> None:
    name = "gatebridge-console.service"
    ordering = unit(name, "[Unit]")
    for key in ("Requires", "After", "PartOf"):
        assert ordering[key] == "gatebridge.service", key
    assert unit(name, "[Install]")["WantedBy"] == "gatebridge.service"
    assert unit(name)["ExecStart"].endswith("gatectl console --config /etc/gatebridge/gateway.yaml")


def test_the_console_runs_as_its_own_user_and_writes_nothing() -> None:
    service = unit("gatebridge-console.service")
    config = load_config(ROOT / "deploy/examples/gateway.yaml")
    assert (service["User"], service["Group"]) == ("gatebridge-console", config.roles.console)
    groups = set(service["SupplementaryGroups"].split())
    assert config.roles.viewer in groups  # the socket is 0660
    assert not groups & {config.roles.officer, config.roles.technician}
    assert "ReadWritePaths" not in service  # its users file is read-only, sessions in memory
    hidden = service["InaccessiblePaths"].split()
    for path in ("/etc/gatebridge/keys", "/var/lib/gatebridge", "/var/log/gatebridge"):
        assert f"-{path}" in hidden  # what group gatebridge would otherwise let it read
    for key in ("ProtectSystem", "ProtectHome", "PrivateTmp", "NoNewPrivileges"):
        assert service[key] == unit()[key], key
    assert service["CapabilityBoundingSet"] == ""


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
    assert "gatebridge-console" in groups["gatebridge-ops"]
    roles = ("gatebridge-tech", "gatebridge-officer", "dialout")
    assert not any("gatebridge-console" in groups[g] for g in roles)
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
