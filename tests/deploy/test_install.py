"""deploy/install.sh into a temporary root (DESTDIR, --no-venv): every path it lays down,
with its mode and content; a second run changes nothing; an edited config survives;
key files get their modes; --prefix reaches the unit. Run with /bin/sh (dash here)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = "0.1.0"
Snapshot = dict[str, tuple[str, str]]

DIRS_0755 = [
    "etc", "etc/gatebridge", "opt", "opt/gatebridge", "opt/gatebridge/releases",
    "opt/gatebridge/share", "opt/gatebridge/share/doc", "opt/gatebridge/share/doc/gatebridge",
    "opt/gatebridge/share/gatebridge", "opt/gatebridge/share/gatebridge/examples", "usr",
    "usr/local", "usr/local/bin", "usr/local/lib", "usr/local/lib/systemd",
    "usr/local/lib/systemd/system", "usr/local/lib/sysusers.d", "usr/local/lib/tmpfiles.d",
    "usr/local/share", "usr/local/share/bash-completion",
    "usr/local/share/bash-completion/completions", "var", "var/lib", "var/log",
]  # fmt: skip


def install(root: Path, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - the script under test
        ["/bin/sh", str(ROOT / "deploy/install.sh"), "--no-venv", *args],
        env={**os.environ, "DESTDIR": str(root)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def snapshot(root: Path) -> Snapshot:
    """path -> (mode, sha256 of the content or the link's target), owner-independent."""
    found: Snapshot = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            what = "-> " + os.readlink(path)
        elif stat.S_ISDIR(info.st_mode):
            what = "dir"
        else:
            what = hashlib.sha256(path.read_bytes()).hexdigest()
        found[str(path.relative_to(root))] = (oct(stat.S_IMODE(info.st_mode)), what)
    return found


def digest(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def source(name: str) -> str:
    return digest((ROOT / name).read_bytes())


def expected(prefix: str = "/opt/gatebridge") -> Snapshot:
    unit = (ROOT / "deploy/systemd/gatebridge.service").read_text()
    console_unit = (ROOT / "deploy/systemd/gatebridge-console.service").read_text()
    files = {
        "etc/gatebridge/gateway.yaml": ("0o640", source("deploy/examples/gateway.yaml")),
        "etc/gatebridge/gateway.yaml.dist": ("0o644", source("deploy/examples/gateway.yaml")),
        "etc/gatebridge/keys": ("0o750", "dir"),
        "etc/gatebridge/console-users.json": ("0o600", digest('{"users": {}}\n')),
        "var/lib/gatebridge": ("0o750", "dir"),
        "var/log/gatebridge": ("0o750", "dir"),
        "opt/gatebridge/current": ("0o777", f"-> releases/{VERSION}"),
        "opt/gatebridge/share/doc/gatebridge/operations.md": (
            "0o644",
            source("docs/operations.md"),
        ),
        "usr/local/bin/gatectl": ("0o777", "-> /opt/gatebridge/current/bin/gatectl"),
        "usr/local/lib/systemd/system/gatebridge.service": (
            "0o644",
            digest(unit.replace("/opt/gatebridge", prefix)),
        ),
        "usr/local/lib/systemd/system/gatebridge-console.service": (
            "0o644",
            digest(console_unit.replace("/opt/gatebridge", prefix)),
        ),
        "usr/local/lib/sysusers.d/gatebridge.conf": (
            "0o644",
            source("deploy/systemd/gatebridge.sysusers"),
        ),
        "usr/local/lib/tmpfiles.d/gatebridge.conf": (
            "0o644",
            source("deploy/systemd/gatebridge.tmpfiles"),
        ),
        "usr/local/share/bash-completion/completions/gatectl": (
            "0o644",
            source("deploy/bash-completion/gatectl"),
        ),
    }
    for example in sorted((ROOT / "deploy/examples").glob("*.yaml")):
        files[f"opt/gatebridge/share/gatebridge/examples/{example.name}"] = (
            "0o644",
            digest(example.read_bytes()),
        )
    return {**dict.fromkeys(DIRS_0755, ("0o755", "dir")), **files}


def test_it_lays_down_exactly_these_files_and_a_second_run_changes_nothing(
    tmp_path: Path,
) -> None:
    first = install(tmp_path)
    assert "wrote /etc/gatebridge/gateway.yaml\n" in first.replace("install: ", "")
    tree = snapshot(tmp_path)
    assert tree == expected()
    again = install(tmp_path)
    assert snapshot(tmp_path) == tree
    assert "wrote" not in again
    assert "linked" not in again


def test_an_edited_config_survives_and_the_example_stays_beside_it(tmp_path: Path) -> None:
    install(tmp_path)
    config = tmp_path / "etc/gatebridge/gateway.yaml"
    edited = config.read_text().replace("gateway: gw-01", "gateway: gw-07")
    config.write_text(edited)
    config.chmod(0o666)  # a careless edit: the installer puts the mode back, not the text
    install(tmp_path)
    assert config.read_text() == edited
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    dist = tmp_path / "etc/gatebridge/gateway.yaml.dist"
    assert dist.read_bytes() == (ROOT / "deploy/examples/gateway.yaml").read_bytes()


def test_the_console_users_file_is_made_once_and_kept(tmp_path: Path) -> None:
    install(tmp_path)
    users = tmp_path / "etc/gatebridge/console-users.json"
    assert json.loads(users.read_text()) == {"users": {}}  # what the console reads as none
    users.write_text('{"users": {"olga": {"role": "officer", "hash": "x"}}}\n')
    users.chmod(0o644)
    install(tmp_path)
    assert "olga" in users.read_text()
    assert stat.S_IMODE(users.stat().st_mode) == 0o600


def test_key_files_get_their_modes(tmp_path: Path) -> None:
    install(tmp_path)
    keys = tmp_path / "etc/gatebridge/keys"
    for name in ("central-2026.pub", "mqtt.pass", "ca.pem", "central-2026.key"):
        (keys / name).write_text("k")
        (keys / name).chmod(0o644)
    install(tmp_path)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in keys.iterdir()}
    assert modes == {
        "central-2026.pub": 0o640,
        "mqtt.pass": 0o640,
        "ca.pem": 0o640,
        "central-2026.key": 0o600,  # a private key: root's alone
    }


def test_the_prefix_reaches_the_unit_and_the_links(tmp_path: Path) -> None:
    install(tmp_path, "--prefix", "/srv/gb")
    unit = (tmp_path / "usr/local/lib/systemd/system/gatebridge.service").read_text()
    assert "ExecStart=/srv/gb/current/bin/gatectl run --config /etc/gatebridge/gateway.yaml" in unit
    assert "/opt/gatebridge" not in unit
    console = (tmp_path / "usr/local/lib/systemd/system/gatebridge-console.service").read_text()
    assert "ExecStart=/srv/gb/current/bin/gatectl console --config" in console
    assert "/opt/gatebridge" not in console
    assert "Documentation=file:/srv/gb/share/doc/gatebridge/operations.md" in unit
    assert (tmp_path / "srv/gb/share/doc/gatebridge/operations.md").is_file()  # where it says
    assert os.readlink(tmp_path / "srv/gb/current") == f"releases/{VERSION}"
    assert os.readlink(tmp_path / "usr/local/bin/gatectl") == "/srv/gb/current/bin/gatectl"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--frobnicate"], "unknown argument: --frobnicate"), (["--prefix", "opt"], "--prefix")],
)
def test_bad_arguments_are_refused_in_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = subprocess.run(  # noqa: S603 - the script under test
        ["/bin/sh", str(ROOT / "deploy/install.sh"), *args],
        env={**os.environ, "DESTDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr.splitlines()[0]
    assert not any(tmp_path.iterdir())
