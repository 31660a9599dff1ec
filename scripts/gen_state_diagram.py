"""Generate docs/lane-states.md (a mermaid state diagram) from the core's transition table.

Run: .venv/bin/python scripts/gen_state_diagram.py [--check]
With --check it exits 1 when the file on disk differs (tests/core/test_table.py runs it).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from controller.core.table import CROSS_CHECK, GUARDS, TABLE
from controller.core.types import LaneState

OUT = Path(__file__).resolve().parent.parent / "docs" / "lane-states.md"

HEADER = """# Lane states

Generated from `controller/core/table.py` by `scripts/gen_state_diagram.py`; do not edit.
A test fails when this file is stale.

Edges are labelled with the event kinds (handlers) or progress guards (`g_*`) that may take
them. Any (state, event) pair not in the table, and any move a handler or guard attempts
that its entry does not list, goes to `fault` with safe outputs (fail closed). Operator
commands not listed for a state are refused and audited.

"""


def render() -> str:
    edges: dict[tuple[LaneState, LaneState], set[str]] = defaultdict(set)
    for (state, kind), transition in TABLE.items():
        for target in transition.targets:
            if target != state:
                edges[state, target].add(kind.value)
    for state, guards in GUARDS.items():
        for guard in guards:
            for target in guard.targets:
                edges[state, target].add(guard.name)
    lines = ["```mermaid", "stateDiagram-v2", "    [*] --> booting"]
    for (source, target), labels in sorted(edges.items()):
        label = ", ".join(sorted(labels))
        lines.append(f"    {source.value} --> {target.value}: {label}")
    lines.append("```")
    return HEADER + "\n".join(lines) + "\n" + _cross_check()


def _cross_check() -> str:
    """The approach vehicle's identity: table.CROSS_CHECK as a table (crosscheck.py)."""
    rows = [
        "",
        "## The tag against the plate",
        "",
        "With a camera on the lane, a granted approach vehicle is admitted only once",
        "`table.CROSS_CHECK` allows it (`controller/core/crosscheck.py`; docs/core.md):",
        "",
        "| what the camera says | what follows | identity recorded |",
        "|---|---|---|",
    ]
    for evidence, (verdict, method) in CROSS_CHECK.items():
        rows.append(f"| `{evidence.value}` | {verdict.value} | `{method}` |")
    return "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        return 0 if OUT.exists() and OUT.read_text() == text else 1
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
