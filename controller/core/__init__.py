"""The pure lane core: workflow, interlock filter and invariants. No I/O, no clock.

Events in (events.py), commands out (commands.py), one `LaneCore` per lane (lane.py).
"""

from controller.core.lane import LaneCore
from controller.core.params import LaneParams

__all__ = ["LaneCore", "LaneParams"]
