"""`gatectl config check FILE`: validate a config and summarise what it drives."""

from __future__ import annotations

import sys
from pathlib import Path

from controller.config.load import check_files, load_config
from controller.errors import ConfigError


def config_check(path: Path) -> int:
    try:
        config = load_config(path)
        check_files(config)
    except ConfigError as error:
        for line in str(error).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return 2
    lanes = ", ".join(lane.id for lane in config.lanes)
    print(f"ok: {config.site}/{config.gateway}, {len(config.lanes)} lane(s): {lanes}")
    for lane in config.lanes:
        print(
            f"  {lane.id}: io {lane.io.url} unit {lane.io.unit}; barriers "
            f"{lane.entry_barrier.url} units {lane.entry_barrier.unit}/{lane.exit_barrier.unit}; "
            f"scale {lane.scale.url} ({lane.scale.protocol}); rfid {lane.rfid.url}"
        )
    broker = config.mqtt.url if config.mqtt else "none (standalone: events kept locally)"
    print(f"  mqtt: {broker}; journal {config.journal}; socket {config.socket}")
    return 0
