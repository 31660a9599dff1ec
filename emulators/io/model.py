"""Physics of the digital I/O module (DESIGN 5.1): inputs, outputs and the comm watchdog.

Theory of operation: the world drives the input bits (`set_input`: a loop occupied, a beam
blocked); the wire interface reads them and writes the outputs (the lamps). Images are
bit patterns (bit n = channel n). The communication watchdog counts emulated time since
the last request that reached the module (`note_request`, called by the interface for
every request); past `watchdog_ms` it sets the outputs to the safe pattern and latches
`tripped`: coil writes are then refused until the status is reset (`reset_watchdog`).
The safe pattern is also the power-on output state.

Time enters only through `advance(dt)`; `now` is the sum of the dt seen, so a `FaultBook`
shared with the wire adapter must count from the same origin. Sensor-stuck faults change
what the module reports, not what the world set; a stuck actuator (on one channel, or on
all when `channel` is None) keeps outputs as they are while writes still succeed. Lamp
current senses (`lamp_sense`, when the lane wires `*_red_ok`) read their lamp's output;
a blown lamp is a sensor-stuck-off fault on the sense channel.
`output_log` records each change of the output image as (now, pattern), for the world's
safety oracle.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from emulators.faults import FaultBook, FaultKind

LOG_LENGTH = 256  # the last output changes, for a look


def lamp_senses(inputs: Mapping[str, int], outputs: Mapping[str, int]) -> dict[int, int]:
    """A wiring's red-lamp current senses, as `IoModel(lamp_sense=...)` takes them: the
    `*_red_ok` input channel -> its red lamp's output channel (none where not wired)."""
    return {
        inputs[f"{side}_red_ok"]: outputs[f"{side}_red"]
        for side in ("entry", "exit")
        if f"{side}_red_ok" in inputs
    }


class IoModel:
    def __init__(
        self,
        inputs: int = 16,
        outputs: int = 16,
        *,
        safe_pattern: int = 0,
        watchdog_ms: int = 0,
        faults: FaultBook | None = None,
        lamp_sense: Mapping[int, int] | None = None,
    ) -> None:
        if not 1 <= inputs <= 16 or not 1 <= outputs <= 16:
            raise ValueError(f"inputs/outputs: 1..16 channels, got {inputs}/{outputs}")
        # input channel -> the output whose lamp current it senses (red-lamp supervision)
        self.lamp_sense = dict(lamp_sense or {})
        for sense, lamp in self.lamp_sense.items():
            if not (0 <= sense < inputs and 0 <= lamp < outputs):
                raise ValueError(f"lamp_sense: input {sense} -> output {lamp} out of range")
        self.input_count = inputs
        self.output_count = outputs
        self.faults = faults or FaultBook()
        self.now = 0.0
        self.watchdog_ms = watchdog_ms
        self.safe_pattern = safe_pattern & self._output_mask
        self.tripped = False
        self._world_inputs = 0
        self._outputs = self.safe_pattern
        self._idle_s = 0.0
        self.output_log: deque[tuple[float, int]] = deque(maxlen=LOG_LENGTH)

    @property
    def _output_mask(self) -> int:
        return (1 << self.output_count) - 1

    # ------------------------------------------------------------ world side
    def set_input(self, channel: int, active: bool) -> None:
        if not 0 <= channel < self.input_count:
            raise ValueError(f"channel: 0..{self.input_count - 1}, got {channel}")
        mask = 1 << channel
        self._world_inputs = self._world_inputs | mask if active else self._world_inputs & ~mask

    @property
    def inputs(self) -> int:
        """The input image as the module reports it: the world's inputs, the lamp current
        senses following their lamps, then sensor faults (stuck off: a blown lamp)."""
        image = self._world_inputs
        for sense, lamp in self.lamp_sense.items():
            lit = self._outputs >> lamp & 1
            image = image | 1 << sense if lit else image & ~(1 << sense)
        for spec in self.faults.all_active(self.now):
            if spec.channel is None or spec.channel >= self.input_count:
                continue
            if spec.kind == FaultKind.SENSOR_STUCK_ON:
                image |= 1 << spec.channel
            elif spec.kind == FaultKind.SENSOR_STUCK_OFF:
                image &= ~(1 << spec.channel)
        return image

    @property
    def outputs(self) -> int:
        return self._outputs

    def output(self, channel: int) -> bool:
        return bool(self._outputs >> channel & 1)

    # ------------------------------------------------------------ wire side
    def note_request(self) -> None:
        """A request reached the module: the watchdog starts counting again."""
        self._idle_s = 0.0

    def write_outputs(self, first: int, bits: list[int]) -> bool:
        """Set outputs `first..`; False (and nothing changes) while the watchdog is tripped."""
        if self.tripped:
            return False
        pattern = self._outputs
        for offset, bit in enumerate(bits):
            mask = 1 << (first + offset)
            pattern = pattern | mask if bit else pattern & ~mask
        self._set_outputs(self._unstuck(pattern))
        return True

    def _unstuck(self, pattern: int) -> int:
        stuck = self.faults.active(FaultKind.STUCK_ACTUATOR, self.now)
        if stuck is None:
            return pattern
        if stuck.channel is None:
            return self._outputs
        mask = 1 << stuck.channel
        return (pattern & ~mask) | (self._outputs & mask)

    def set_safe_pattern(self, pattern: int) -> None:
        self.safe_pattern = pattern & self._output_mask

    def reset_watchdog(self) -> None:
        self.tripped = False
        self._idle_s = 0.0

    # ------------------------------------------------------------ physics
    def advance(self, dt: float) -> None:
        self.now += dt
        self._idle_s += dt
        if self.watchdog_ms > 0 and not self.tripped and self._idle_s * 1000 >= self.watchdog_ms:
            self.tripped = True
            self._set_outputs(self.safe_pattern)

    def _set_outputs(self, pattern: int) -> None:
        pattern &= self._output_mask
        if pattern != self._outputs:
            self._outputs = pattern
            self.output_log.append((self.now, pattern))
