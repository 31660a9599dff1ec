"""The `console:` config section: loopback or an explicit address with TLS, errors that
name the field; relative paths resolve beside the config file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from controller.config.load import load_config, validate
from controller.console.sessions import Sessions
from controller.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _with_console(console: dict[str, object]) -> dict[str, object]:
    document = yaml.safe_load((ROOT / "deploy/examples/emulated-lane.yaml").read_text())
    document["console"] = console
    return dict(document)


@pytest.mark.parametrize(
    ("console", "message"),
    [
        ({"listen": "0.0.0.0:8443"}, "console.listen: 0.0.0.0 listens everywhere"),
        ({"listen": "gate.local:8443"}, "console.listen: 'gate.local' is not an IP address"),
        ({"listen": "127.0.0.1"}, "console.listen: '127.0.0.1' is not HOST:PORT"),
        ({"listen": "10.1.2.3:8443"}, "console: listen: 10.1.2.3 is not a loopback address"),
        ({"tls_cert": "c.pem"}, "console: tls_cert and tls_key: set both, or neither"),
        ({"session_minutes": 0}, "console.session_minutes: Input should be greater"),
        ({"session_minutes": 0.05}, "console.session_minutes: Input should be greater"),
        ({"session_minutes": "soon"}, "console.session_minutes: Input should be a valid number"),
        ({"port": 8443}, "console.port: unknown field"),
    ],
)
def test_a_bad_console_section_names_the_field(console: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        validate(_with_console(console))
    assert str(raised.value).startswith(message), str(raised.value)


def test_an_explicit_address_with_tls_is_accepted_and_paths_resolve(tmp_path: Path) -> None:
    document = _with_console(
        {"listen": "10.1.2.3:8443", "tls_cert": "tls/c.pem", "tls_key": "tls/k.pem"}
    )
    document["clearance"] = {"manifest": str(ROOT / "deploy/examples/manifest.yaml")}
    (tmp_path / "gw.yaml").write_text(yaml.safe_dump(document))
    config = load_config(tmp_path / "gw.yaml")
    assert config.console.tls_cert == tmp_path / "tls/c.pem"
    assert config.console.listen == "10.1.2.3:8443"
    assert config.roles.console == "gatebridge-console"


def test_a_session_of_a_fraction_of_a_minute_is_accepted_and_lasts_that_long() -> None:
    config = validate(_with_console({"session_minutes": 0.1}))
    assert config.console.session_minutes == 0.1
    now = [0.0]
    sessions = Sessions(config.console.session_minutes, lambda: now[0])
    sid = sessions.start("olga", "officer").sid
    now[0] = 5.9
    assert sessions.find(sid, touch=False) is not None
    now[0] = 6.0
    assert sessions.find(sid) is None
