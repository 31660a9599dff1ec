"""gatectl's client commands against a real maintenance socket (issue 17 items 10-12,
issue 13 part 5): exit codes 0 ok, 1 refused, 2 usage, 3 unreachable, 4 device error;
errors in one line; `--json`; the socket found from --socket, --config and the
environment; usage errors never reach the audit."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from controller.cli.client import (
    EXIT_DEVICE,
    ClientError,
    follow,
    request,
    resolve_socket,
    show,
)
from controller.cli.main import app
from tests.controller.cli.served import Served, served_gateway

ROOT = Path(__file__).resolve().parents[3]
RUNNER = CliRunner()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with served_gateway(tmp_path) as gateway:
        yield gateway


def gatectl(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def audited(served: Served) -> list[dict[str, object]]:
    if not served.audit.path.exists():
        return []
    return [json.loads(line) for line in served.audit.path.read_text().splitlines()]


OK_COMMANDS = [
    ["status"],
    ["events"],
    ["audit"],
    ["mode", "L01", "maintenance"],
    ["mode", "L01", "emergency", "--reason", "fire on the deck"],
    ["light", "L01", "exit", "red"],
    ["hold", "L01", "release", "--reason", "manifest amended"],
    ["identify", "L01", "e2000001", "--reason", "tag unreadable"],
    ["confirm", "L01", "--reason", "plate checked by hand"],
    ["refuse", "L01", "--reason", "plate does not match"],
    ["reset", "L01", "--reason", "after repair"],
]
USAGE_COMMANDS = [
    ["mode", "L01", "turbo"],
    ["mode", "L 01", "auto"],
    ["mode", "L01", "emergency"],  # an emergency needs a reason
    ["barrier", "L01", "left", "open"],
    ["barrier", "L01", "entry", "lift"],
    ["light", "L01", "entry", "blue"],
    ["hold", "L01", "release"],
    ["hold", "L01", "release", "--reason", "x"],
    ["identify", "L01", "not-hex", "--reason", "tag unreadable"],
    ["confirm", "L01"],
    ["refuse", "L01", "--reason", "no"],
    ["confirm", "L 01", "--reason", "plate checked"],
    ["confirm", "L01", "--reason", "plate checked", "--request-id", "req 1"],
    ["reset", "L01"],
    ["events", "--last", "-1"],
]


@pytest.mark.parametrize("args", OK_COMMANDS, ids=" ".join)
def test_accepted_commands_exit_0(served: Served, args: list[str]) -> None:
    code, out, err = gatectl(*args, "--socket", str(served.socket))
    assert (code, err) == (0, ""), out


def test_a_refusal_by_the_interlock_exits_1_and_is_audited(served: Served) -> None:
    code, _, err = gatectl("barrier", "L01", "entry", "open", "--socket", str(served.socket))
    assert code == 1
    assert err == "refused: S2: not in maintenance mode\n"
    assert audited(served)[-1]["outcome"] == "refused: S2: not in maintenance mode"


def test_a_no_op_is_answered_and_audited_as_such(served: Served) -> None:
    code, out, _ = gatectl("barrier", "L01", "entry", "close", "--socket", str(served.socket))
    assert code == 0
    assert out.startswith("no-op: entry barrier already closed")
    assert audited(served)[-1]["outcome"] == "no-op: entry barrier already closed"


@pytest.mark.parametrize("args", USAGE_COMMANDS, ids=" ".join)
def test_usage_errors_exit_2_and_send_nothing(served: Served, args: list[str]) -> None:
    code, out, _ = gatectl(*args, "--socket", str(served.socket))
    assert code == 2, out
    assert audited(served) == []


def test_an_unknown_lane_is_a_usage_error_answered_by_the_gateway(served: Served) -> None:
    for args in (["mode", "L99", "closed"], ["barrier", "L99", "exit", "stop"]):
        code, _, err = gatectl(*args, "--socket", str(served.socket))
        assert code == 2
        assert err.startswith("error: lane: no lane 'L99' on this gateway (lanes: L01)")
    assert audited(served) == []  # nothing was commanded


@pytest.mark.parametrize(
    "args", [["status"], ["events"], ["events", "--follow"], ["audit"], ["mode", "L01", "auto"]]
)
def test_a_missing_socket_exits_3(tmp_path: Path, args: list[str]) -> None:
    code, _, err = gatectl(*args, "--socket", str(tmp_path / "none.sock"))
    assert code == 3
    assert err.count("\n") == 1
    assert "cannot connect (No such file or directory)" in err


def test_a_broken_audit_chain_is_refused_on_verify(served: Served) -> None:
    for target in ("maintenance", "auto"):
        gatectl("mode", "L01", target, "--socket", str(served.socket))
    lines = served.audit.path.read_text().splitlines()
    served.audit.path.write_text(lines[1] + "\n")  # the first line deleted
    code, _, err = gatectl("audit", "--verify", "--socket", str(served.socket))
    assert code == 1
    assert err.startswith("refused: chain broken")


def test_a_socket_nobody_listens_on_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))  # the file of a controller that died: nobody listens
    code, _, err = gatectl("status", "--socket", str(path))
    assert code == 3
    assert "Connection refused" in err


def test_a_controller_that_never_answers_is_unreachable(tmp_path: Path) -> None:
    path = tmp_path / "stuck.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stuck:
        stuck.bind(str(path))
        stuck.listen(1)  # accepts in the kernel, never reads: a stalled controller
        with pytest.raises(ClientError) as raised:
            request(path, {"op": "status"}, timeout_s=0.2)
    assert raised.value.code == 3
    assert "no answer within 0.2 s" in str(raised.value)


def test_a_device_error_exits_4() -> None:
    answer: dict[str, object] = {"ok": False, "kind": "device", "error": "scale: no reply"}
    assert show(answer) == EXIT_DEVICE


def test_status_is_a_table_and_json_on_request(served: Served) -> None:
    code, out, _ = gatectl("status", "--socket", str(served.socket))
    assert code == 0
    assert "closed/closed" in out  # words, not a Python dict
    assert "{'" not in out
    assert "2027-01-15T08:00:00.000Z" in out
    code, out, _ = gatectl("status", "--json", "--socket", str(served.socket))
    answer = json.loads(out)
    assert (answer["ok"], answer["kind"]) == (True, "ok")
    assert answer["data"]["lanes"][0]["barriers"] == {"entry": "closed", "exit": "closed"}


def test_events_show_ts_and_seq_and_json_lines(served: Served) -> None:
    served.journal("vehicle_admitted", 7, tag="E200")
    served.journal("vehicle_departed", 8, tag="E200")
    code, out, _ = gatectl("events", "--socket", str(served.socket))
    assert code == 0
    first = out.splitlines()[0]
    assert first.startswith("2027-01-15T08:00:07.000Z")
    assert "L01 #7 vehicle_admitted tag=E200" in first
    code, out, _ = gatectl("events", "--json", "--socket", str(served.socket))
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(e["seq"], e["event_id"], e["type"]) for e in lines] == [
        (7, "event-7", "vehicle_admitted"),
        (8, "event-8", "vehicle_departed"),
    ]


def test_audit_shows_time_outcome_and_json(served: Served) -> None:
    gatectl("mode", "L01", "maintenance", "--socket", str(served.socket))
    code, out, _ = gatectl("audit", "--verify", "--socket", str(served.socket))
    assert code == 0
    assert "root (officer) L01 mode_maintenance -> accepted" in out
    assert "chain ok: 1 line(s) verified" in out
    code, out, _ = gatectl("audit", "--json", "--socket", str(served.socket))
    entry = json.loads(out)["data"]["entries"][0]
    assert entry["outcome"] == "accepted"
    assert entry["ts"].endswith("Z")


def _config(tmp: Path, sock: Path) -> Path:
    document = yaml.safe_load((ROOT / "deploy/examples/emulated-lane.yaml").read_text())
    document["socket"] = str(sock)
    del document["clearance"]["manifest"]
    path = tmp / "gateway.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_the_socket_comes_from_the_config_or_the_environment(
    served: Served, tmp_path: Path
) -> None:
    config = _config(tmp_path, served.socket)
    (tmp_path / "other").mkdir()
    elsewhere = _config(tmp_path / "other", tmp_path / "nowhere.sock")
    assert gatectl("status", "--config", str(config))[0] == 0
    assert gatectl("status", env={"GATEBRIDGE_CONFIG": str(config)})[0] == 0
    assert gatectl("status", env={"GATEBRIDGE_SOCKET": str(served.socket)})[0] == 0
    # flags before the environment, a socket before a config
    assert gatectl("status", "--socket", str(served.socket), "--config", str(elsewhere))[0] == 0
    assert gatectl("status", "--config", str(elsewhere))[0] == 3
    env = {"GATEBRIDGE_SOCKET": str(tmp_path / "nowhere.sock")}
    assert gatectl("status", "--config", str(config), env=env)[0] == 0


def test_socket_resolution_order(tmp_path: Path) -> None:
    config = _config(tmp_path, tmp_path / "from-config.sock")
    flag = tmp_path / "flag.sock"
    assert resolve_socket(flag, config, {}) == flag
    assert (
        resolve_socket(None, config, {"GATEBRIDGE_SOCKET": "/e.sock"})
        == tmp_path / "from-config.sock"
    )
    assert resolve_socket(None, None, {"GATEBRIDGE_SOCKET": "/e.sock"}) == Path("/e.sock")
    assert (
        resolve_socket(None, None, {"GATEBRIDGE_CONFIG": str(config)})
        == tmp_path / "from-config.sock"
    )
    assert resolve_socket(None, None, {}) == Path("/run/gatebridge/gatectl.sock")
    with pytest.raises(ClientError) as bad:
        resolve_socket(None, tmp_path / "missing.yaml", {})
    assert bad.value.code == 2


def _process(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEBRIDGE_")}
    return subprocess.run(  # noqa: S603 - our own gatectl, fixed arguments
        [sys.executable, "-m", "controller.cli.main", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )


def test_as_processes_errors_are_one_line_with_the_exit_code(
    served: Served, tmp_path: Path
) -> None:
    sock = str(served.socket)
    unknown = _process("mode", "L99", "closed", "--socket", sock)
    assert (unknown.returncode, unknown.stderr) == (
        2,
        "error: lane: no lane 'L99' on this gateway (lanes: L01)\n",
    )
    side = _process("barrier", "L01", "left", "open", "--socket", sock)
    assert side.returncode == 2
    assert side.stderr == (
        "error: Invalid value for 'side': 'left' is not one of 'entry', 'exit'.\n"
    )
    refused = _process("barrier", "L01", "entry", "open", "--socket", sock)
    assert (refused.returncode, refused.stderr) == (1, "refused: S2: not in maintenance mode\n")
    missing = _process("status", "--socket", str(tmp_path / "none.sock"))
    assert missing.returncode == 3
    assert missing.stderr.count("\n") == 1
    assert "Traceback" not in missing.stderr


def test_following_a_controller_that_stops_exits_3(served: Served) -> None:
    served.journal("vehicle_admitted", 1, tag="E200")
    stream = follow(served.socket, 10)
    assert next(stream)["seq"] == 1
    served.loop.call_soon_threadsafe(lambda: [t.cancel() for t in asyncio.all_tasks(served.loop)])
    with pytest.raises(ClientError) as gone:
        next(stream)
    assert gone.value.code == 3
    assert "closed the connection" in str(gone.value)


@pytest.mark.parametrize("action", ["confirm", "refuse"])
def test_confirm_and_refuse_send_the_approach_request(
    action: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sent: list[dict[str, object]] = []
    monkeypatch.setattr(
        "controller.cli.main.ask", lambda _sock, payload, _view: sent.append(payload)
    )
    sock = str(tmp_path / "s.sock")
    gatectl(action, "L01", "--reason", "plate checked", "--socket", sock)
    gatectl(action, "L01", "-r", "plate checked", "--request-id", "req-7", "--socket", sock)
    base = {"op": "approach", "lane": "L01", "action": action, "reason": "plate checked"}
    assert sent == [base, {**base, "request_id": "req-7"}]


def test_confirm_is_audited_and_another_vehicle_is_refused(served: Served) -> None:
    code, out, _ = gatectl("confirm", "L01", "-r", "plate checked", "-s", str(served.socket))
    assert (code, out) == (0, "accepted; lane state now idle\n")
    entry = audited(served)[-1]
    assert (entry["action"], entry["reason"], entry["outcome"]) == (
        "confirm",
        "plate checked",
        "accepted",
    )
    args = ("refuse", "L01", "-r", "plate wrong", "--request-id", "req-7")
    code, _, err = gatectl(*args, "-s", str(served.socket))
    assert code == 1
    assert err == "refused: request_id: 'req-7' is not the vehicle at the approach\n"
    assert audited(served)[-1]["request_id"] == "req-7"
