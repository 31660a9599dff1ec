"""What `gatectl monitor` shows, built from what the maintenance socket says (pure).

`MonitorState` folds the status answers and the followed events into what a technician
looks at: per lane its state, lights, barriers, deck, each device's health and data age,
the last transactions and the alarms. `render` turns it into lines that fit the terminal:
every line is cut at the width (with an ellipsis), and when the lanes do not fit the
height, each lane shrinks to its two most telling lines, then the last lanes are counted
instead of shown, so an 80x24 ssh session never scrolls.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from rich.console import Group
from rich.markup import escape
from rich.text import Text

from controller.cli.views import approach_part

DEVICE_LABELS = {
    "io": "io",
    "entry_barrier": "entry",
    "exit_barrier": "exit",
    "scale": "scale",
    "rfid": "rfid",
}
KEPT_TRANSACTIONS = 3
FULL_LINES = 6  # lines of one lane in full (a blank line after it)
COMPACT_LINES = 2


@dataclass(slots=True)
class TransactionView:
    transaction_id: str
    tag: str = "-"
    gross_kg: object = None
    stage: str = "admitted"


@dataclass(slots=True)
class MonitorState:
    socket: str
    lanes: list[Mapping[str, object]] = field(default_factory=list)
    reachable: bool = False
    error: str = "connecting"
    banner: str = "controller unreachable, retrying"
    polled_at: float = 0.0  # this host's monotonic clock at the last good status
    transactions: dict[str, OrderedDict[str, TransactionView]] = field(default_factory=dict)

    def status_received(self, data: Mapping[str, object], now: float) -> None:
        lanes = data.get("lanes")
        self.lanes = (
            [lane for lane in lanes if isinstance(lane, dict)] if isinstance(lanes, list) else []
        )
        self.reachable, self.error, self.polled_at = True, "", now

    def unreachable(self, error: str) -> None:
        self.reachable, self.error = False, error
        self.banner = "controller unreachable, retrying"

    def refused(self, error: str) -> None:
        """The controller answers but will not show the status (no gatebridge role)."""
        self.reachable, self.error = False, error
        self.banner = "the controller refuses the status"

    def event_received(self, event: Mapping[str, object]) -> None:
        """Follow a vehicle's transaction through its events (replays are idempotent)."""
        tx_id, lane = event.get("transaction_id"), str(event.get("lane", "?"))
        kind = event.get("type")
        if not isinstance(tx_id, str) or kind not in _STAGES:
            return
        book = self.transactions.setdefault(lane, OrderedDict())
        view = book.setdefault(tx_id, TransactionView(tx_id))
        view.stage = _STAGES[str(kind)]
        if kind == "vehicle_admitted":
            view.tag = str(event.get("tag") or "-")
        if kind == "weight_captured":
            view.gross_kg = event.get("gross_kg")
        while len(book) > KEPT_TRANSACTIONS:
            book.popitem(last=False)


_STAGES = {
    "vehicle_admitted": "admitted",
    "weight_captured": "weighed",
    "transaction_committed": "committed",
    "vehicle_departed": "departed",
}


def render(state: MonitorState, width: int, height: int, now: float, clock: str) -> Group:
    head = f"[b]gatebridge monitor[/b]  {clock}  [dim]q quits[/dim]  {_e(state.socket)}"
    lines = [_fit(head, width)]
    if not state.reachable:
        lines.append(_fit(f"[b red]{state.banner}[/b red]: {_e(state.error)}", width))
        if state.lanes:
            lines.append(_fit(f"[dim]last seen {now - state.polled_at:.0f} s ago:[/dim]", width))
    budget = max(height - len(lines), 1)
    lines += _lanes(state, width, budget, now)
    return Group(*lines[:height])


def _lanes(state: MonitorState, width: int, budget: int, now: float) -> list[Text]:
    lanes, age_base = state.lanes, now if state.reachable else state.polled_at
    if not lanes:
        return [_fit("[dim]no lanes[/dim]", width)] if state.reachable else []
    full = len(lanes) * FULL_LINES <= budget
    per_lane = FULL_LINES if full else COMPACT_LINES
    shown = lanes if len(lanes) * per_lane <= budget else lanes[: max((budget - 1) // per_lane, 0)]
    out: list[Text] = []
    for lane in shown:
        book = state.transactions.get(str(lane.get("lane")), OrderedDict())
        rows = _lane_lines(lane, book, age_base)
        out += [_fit(row, width) for row in (rows if full else rows[:COMPACT_LINES])]
    if len(shown) < len(lanes):
        more = len(lanes) - len(shown)
        out.append(_fit(f"[yellow]... {more} more lane(s): enlarge the terminal[/yellow]", width))
    return out


def _lane_lines(
    lane: Mapping[str, object], book: Mapping[str, TransactionView], now: float
) -> list[str]:
    lights, barriers = _map(lane.get("lights")), _map(lane.get("barriers"))
    fault = lane.get("latched_fault")
    alarms = escape("; ".join(f"{k}: {v}" for k, v in _map(lane.get("alarms")).items())) or "-"
    alarm_text = f"[b red]{alarms}[/b red]" if alarms != "-" else "-"
    deck_kg = lane.get("deck_kg")
    deck = f"{deck_kg:,.0f} kg" if isinstance(deck_kg, int | float) else "? kg"
    state = escape(str(lane.get("state", "?")))
    return [
        f"[b]{_e(lane.get('lane', '?'))}[/b] [b {_state_style(state)}]{state.upper()}[/b "
        f"{_state_style(state)}]  entry {_lamp(lights, 'entry')} {_e(barriers.get('entry', '?'))}"
        f"  exit {_lamp(lights, 'exit')} {_e(barriers.get('exit', '?'))}  deck {deck}",
        f"  alarms {alarm_text}"
        + (f"  [b red]FAULT {_e(fault)}[/b red]" if fault else "")
        + f"  vehicle {_e(lane.get('deck_vehicle') or '-')}",
        "  " + "  ".join(_device(name, info, now) for name, info in _devices(lane)),
        "  approach " + _e(approach_part(lane).get("stage") or "-") + _hold(lane),
        "  last " + (" | ".join(_transaction(t) for t in reversed(list(book.values()))) or "-"),
        "",
    ]


def _devices(lane: Mapping[str, object]) -> list[tuple[str, Mapping[str, object]]]:
    return [(str(k), _map(v)) for k, v in _map(lane.get("devices")).items()]


def _device(name: str, info: Mapping[str, object], now: float) -> str:
    label = _e(DEVICE_LABELS.get(name, name))
    last_ok = info.get("last_ok")
    age = f"{max(now - last_ok, 0.0):.1f}s" if isinstance(last_ok, int | float) else "never"
    if info.get("healthy"):
        return f"{label} [green]ok[/green] {age}"
    return f"{label} [b red]STALE[/b red] {age}"


def _hold(lane: Mapping[str, object]) -> str:
    reason = lane.get("hold_reason")
    return f"  [b yellow]hold: {_e(reason)}[/b yellow]" if reason else ""


def _transaction(view: TransactionView) -> str:
    gross = f" {view.gross_kg:,} kg" if isinstance(view.gross_kg, int) else ""
    return _e(f"{view.transaction_id[-6:]} {view.tag[-8:]}{gross} {view.stage}")


def _lamp(lights: Mapping[str, object], side: str) -> str:
    aspect = lights.get(side)
    if aspect == "green":
        return "[b black on green] GREEN [/b black on green]"
    if aspect == "red":
        return "[b white on red] RED [/b white on red]"
    return f"[dim]{_e(aspect or '?')}[/dim]"


def _state_style(state: str) -> str:
    if state in ("fault", "degraded", "hold"):
        return "red"
    return "yellow" if state in ("maintenance", "closed", "booting", "starting") else "green"


def _e(value: object) -> str:
    return escape(str(value))


def _map(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


def _fit(markup: str, width: int) -> Text:
    text = Text.from_markup(markup, overflow="ellipsis")
    text.no_wrap = True
    text.truncate(width, overflow="ellipsis")
    return text
