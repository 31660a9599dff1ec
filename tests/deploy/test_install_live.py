"""deploy/install.sh onto a live system, without touching this one: in a private mount
namespace /etc is an overlay and /opt, /usr/local, /var/lib, /var/log and /run are empty
directories of the test, so the real systemd-sysusers, chown and systemd-tmpfiles run.
The accounts, groups and owners are right, a second run changes nothing, and the host
has no gatebridge user afterwards. Needs root (make test runs as root on these machines)."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HIDDEN = {"opt": "/opt", "usrlocal": "/usr/local", "varlib": "/var/lib", "varlog": "/var/log"}
TREE = (
    "/etc/gatebridge /var/lib/gatebridge /var/log/gatebridge /opt/gatebridge /usr/local"
    " /etc/systemd/system/gatebridge.service.wants"
)


def private_root(tmp: Path) -> list[str]:
    """Shell lines: /etc an overlay, the install's other places empty directories of tmp."""
    lines = ["set -e", f"mkdir -p {tmp}/etc-up {tmp}/etc-work {tmp}/run"]
    lines.append(
        f"mount -t overlay overlay -o lowerdir=/etc,upperdir={tmp}/etc-up,"
        f"workdir={tmp}/etc-work /etc"
    )
    for name, path in {**HIDDEN, "run": "/run"}.items():
        lines += [f"mkdir -p {tmp}/{name}", f"mount --bind {tmp}/{name} {path}"]
    return lines


def namespace_script(tmp: Path) -> str:
    lines = private_root(tmp)
    for run in ("first", "second"):
        lines.append(f"sh {ROOT}/deploy/install.sh --no-venv > {tmp}/{run}.log")
        lines.append(f"find {TREE} -printf '%p %m %u %g\\n' | sort > {tmp}/{run}.tree")
    lines.append(f"id gatebridge > {tmp}/id")
    lines.append(f"id gatebridge-console > {tmp}/console-id")
    return "\n".join(lines)


def in_namespace(script: str) -> None:
    assert os.geteuid() == 0, "a live install into a private mount namespace needs root"
    done = subprocess.run(  # noqa: S603 - util-linux, the script under test
        ["unshare", "--mount", "--fork", "sh", "-c", script],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_a_live_install_makes_the_accounts_and_owners_and_is_idempotent(tmp_path: Path) -> None:
    in_namespace(namespace_script(tmp_path))
    first = (tmp_path / "first.tree").read_text().splitlines()
    assert (tmp_path / "second.tree").read_text().splitlines() == first
    second_log = (tmp_path / "second.log").read_text()
    assert "wrote" not in second_log
    assert "Creating" not in second_log
    owners = {line.split()[0]: line.split()[1:] for line in first}
    assert owners["/etc/gatebridge"] == ["755", "root", "root"]
    assert owners["/etc/gatebridge/gateway.yaml"] == ["640", "root", "gatebridge"]
    assert owners["/etc/gatebridge/gateway.yaml.dist"] == ["644", "root", "root"]
    assert owners["/etc/gatebridge/keys"] == ["750", "root", "gatebridge"]
    assert owners["/var/lib/gatebridge"] == ["750", "gatebridge", "gatebridge"]
    assert owners["/var/log/gatebridge"] == ["750", "gatebridge", "gatebridge"]
    groups = (tmp_path / "id").read_text()
    assert "(dialout)" in groups
    assert "(gatebridge-ops)" in groups
    assert owners["/etc/gatebridge/console-users.json"] == [
        "600",
        "gatebridge-console",
        "gatebridge-console",
    ]
    wants = "/etc/systemd/system/gatebridge.service.wants/gatebridge-console.service"
    assert wants in owners  # the example config has a console: section: enabled, once
    console = (tmp_path / "console-id").read_text()
    assert "(gatebridge-ops)" in console
    assert "officer" not in console
    assert "tech" not in console
    assert "gatebridge" not in {entry.pw_name for entry in pwd.getpwall()}  # the host's own


WANTS = "/etc/systemd/system/gatebridge.service.wants/gatebridge-console.service"


def test_the_console_is_enabled_only_with_a_console_section_and_stays_disabled(
    tmp_path: Path,
) -> None:
    example = (ROOT / "deploy/examples/gateway.yaml").read_text()
    without = example.split("console:", 1)[0] + "lanes: []\n"  # no console: section
    (tmp_path / "without.yaml").write_text(without)
    install = f"sh {ROOT}/deploy/install.sh --no-venv >/dev/null"
    lines = [
        *private_root(tmp_path),
        # a site whose config has no console: the unit is installed, not enabled
        f"mkdir -p /etc/gatebridge && cp {tmp_path}/without.yaml /etc/gatebridge/gateway.yaml",
        install,
        f"test ! -e {WANTS} && echo without-not-enabled >> {tmp_path}/seen",
        # the example's config has one: enabled on the run that installs the unit ...
        "rm /etc/gatebridge/gateway.yaml /usr/local/lib/systemd/system/gatebridge-console.service",
        install,
        f"test -L {WANTS} && echo with-enabled >> {tmp_path}/seen",
        # ... and a console the site disabled stays disabled through an upgrade
        "systemctl disable --quiet gatebridge-console.service",
        install,
        f"test ! -e {WANTS} && echo disabled-kept >> {tmp_path}/seen",
    ]
    in_namespace("\n".join(lines))
    assert (tmp_path / "seen").read_text().split() == [
        "without-not-enabled",
        "with-enabled",
        "disabled-kept",
    ]
