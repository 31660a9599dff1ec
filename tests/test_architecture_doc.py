"""docs/architecture.md's layer diagram is generated from the code's imports: it must be current."""

from __future__ import annotations

from scripts.gen_architecture import OUT, edges, render


def test_the_layer_diagram_is_current() -> None:
    assert OUT.read_text() == render(OUT.read_text()), "run: make docs"


def test_the_core_depends_on_no_other_component() -> None:
    assert edges()["controller.core"] == set()


def test_devices_and_emulators_never_depend_on_the_controller() -> None:
    graph = edges()
    for component, targets in graph.items():
        if component.split(".")[0] in ("devices", "emulators"):
            assert not {t for t in targets if t.startswith("controller")}, component
