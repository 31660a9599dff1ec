"""Config models (DESIGN section 8). `extra="forbid"` everywhere: a misspelt key is an
error naming its path, never a silently ignored setting.

Times keep the units the YAML uses (`_ms`, `_s`); `controller.config.lane` converts them
for the core. Cross-field rules that a reviewer would check by hand are checked here.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from controller.config.console import ConsoleConfig
from controller.errors import ConfigError
from devices.transport.url import MemoryUrl, ModbusRtuUrl, ModbusTcpUrl, SerialUrl, parse_url

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Channel = Annotated[int, Field(ge=0, le=15)]
Ms = Annotated[int, Field(gt=0, le=600_000)]
Seconds = Annotated[float, Field(gt=0, le=86_400)]
Kg = Annotated[float, Field(ge=0, le=200_000)]

REQUIRED_INPUTS = ("approach_loop", "entry_arm_loop", "beam_in", "beam_out", "exit_arm_loop")
OPTIONAL_INPUTS = ("entry_red_ok", "exit_red_ok", "loop_fault")
REQUIRED_OUTPUTS = ("entry_red", "entry_green", "exit_red", "exit_green")
OPTIONAL_OUTPUTS = ("sign_reposition", "sign_reverse")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _url(value: str, kinds: tuple[type, ...], what: str) -> str:
    try:
        parsed = parse_url(value)
    except ConfigError as error:
        raise ValueError(str(error).removeprefix("url: ")) from None
    if not isinstance(parsed, kinds):
        raise ValueError(f"{value!r} is not a {what} endpoint")  # noqa: TRY004 - pydantic wants ValueError
    return value


class IoConfig(Strict):
    url: str
    unit: int = Field(default=1, ge=0, le=255)
    poll_ms: Ms = 50
    watchdog_ms: int = Field(default=300, ge=0, le=65_535)
    fresh_ms: Ms = 200

    @field_validator("url")
    @classmethod
    def _modbus_tcp(cls, value: str) -> str:
        return _url(value, (ModbusTcpUrl, MemoryUrl), "Modbus TCP")


class BarrierConfig(Strict):
    url: str
    unit: int = Field(ge=1, le=247)
    poll_ms: Ms = 100
    fresh_ms: Ms = 500

    @field_validator("url")
    @classmethod
    def _modbus(cls, value: str) -> str:
        return _url(value, (ModbusRtuUrl, ModbusTcpUrl, MemoryUrl), "Modbus")


class ScaleConfig(Strict):
    """`poll_ms` is the period of an SMA indicator's weight requests; a Toledo indicator
    streams by itself (about 10 frames/s), so it takes no poll period."""

    url: str
    protocol: Literal["toledo", "sma"] = "toledo"
    poll_ms: Ms | None = None
    fresh_ms: Ms = 500

    @field_validator("url")
    @classmethod
    def _serial(cls, value: str) -> str:
        return _url(value, (SerialUrl, MemoryUrl), "serial")

    @model_validator(mode="after")
    def _poll_only_for_sma(self) -> Self:
        if self.protocol == "toledo" and self.poll_ms is not None:
            raise ValueError(
                "poll_ms: a Toledo indicator streams continuously and is not polled; "
                "remove poll_ms (it sets the request period of protocol sma)"
            )
        return self

    @property
    def request_period_s(self) -> float:
        """How often an SMA indicator is asked for the weight (0: as fast as it answers)."""
        return 0.0 if self.poll_ms is None else self.poll_ms / 1000


class RfidConfig(Strict):
    url: str
    address: int = Field(default=0, ge=0, le=254)  # 255 is the broadcast address
    poll_ms: Ms = 200
    debounce_s: Seconds = 5.0
    fresh_ms: Ms = 1000

    @field_validator("url")
    @classmethod
    def _serial(cls, value: str) -> str:
        return _url(value, (SerialUrl, MemoryUrl), "serial")


def _listen(value: str) -> str:
    host, colon, port = value.rpartition(":")
    try:
        address = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        raise ValueError(f"{value!r}: HOST:PORT with an IP address to bind to") from None
    if address.is_unspecified:  # every interface would open it to more than the cameras
        raise ValueError(f"{value!r}: bind to the camera network's address, not all interfaces")
    if not colon or not port.isdigit() or not 0 <= int(port) <= 65_535:
        raise ValueError(f"{value!r}: the port must be a number in 0..65535 (0: any free port)")
    return value


class CameraSideConfig(Strict):
    """One ANPR camera: who it is and how it proves it (a secret, a source, or both)."""

    id: Name
    secret_file: Path | None = None
    allow_from: list[str] = Field(default_factory=list, max_length=16)

    @field_validator("allow_from")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(f"{address!r} is not an IP address") from None
        return value

    @model_validator(mode="after")
    def _authenticated(self) -> Self:
        if self.secret_file is None and not self.allow_from:
            raise ValueError("give secret_file, allow_from, or both: an open camera is refused")
        return self


class CameraConfig(Strict):
    """The lane's cameras (docs/devices.md "Lane camera"): the listener their events go to,
    one camera per side, the listener's limits, and the core's cross-check of the tag
    against the plate (controller.core.params.CameraParams; docs/core.md)."""

    listen: str
    path: str = Field(default="/events", pattern=r"^/[A-Za-z0-9/_.-]{0,99}$")
    entry: CameraSideConfig
    exit: CameraSideConfig | None = None
    max_body_kb: int = Field(default=256, ge=4, le=4096)
    queue_size: int = Field(default=64, ge=1, le=4096)
    header_timeout_s: Seconds = 10
    min_confidence: float = Field(default=0.8, ge=0, le=1)
    plate_wait_ms: Ms = 3000
    early_read_s: Seconds = 30
    missing_alarm_after: int = Field(default=3, ge=1, le=1000)

    @field_validator("listen")
    @classmethod
    def _bindable(cls, value: str) -> str:
        return _listen(value)

    @model_validator(mode="after")
    def _two_cameras(self) -> Self:
        if self.exit is not None and self.exit.id == self.entry.id:
            raise ValueError(f"entry and exit are one camera id {self.entry.id!r}")
        return self

    @property
    def sides(self) -> tuple[CameraSideConfig, ...]:
        return (self.entry,) if self.exit is None else (self.entry, self.exit)


class WiringConfig(Strict):
    inputs: dict[str, Channel]
    outputs: dict[str, Channel]

    @model_validator(mode="after")
    def _complete_and_unique(self) -> Self:
        for kind, mapping, required, optional in (
            ("inputs", self.inputs, REQUIRED_INPUTS, OPTIONAL_INPUTS),
            ("outputs", self.outputs, REQUIRED_OUTPUTS, OPTIONAL_OUTPUTS),
        ):
            unknown = sorted(set(mapping) - set(required) - set(optional))
            missing = [name for name in required if name not in mapping]
            if unknown:
                raise ValueError(f"{kind}: unknown signal {unknown[0]!r}")
            if missing:
                raise ValueError(f"{kind}: {missing[0]!r} must be wired")
            if len(set(mapping.values())) != len(mapping):
                raise ValueError(f"{kind}: two signals on one channel")
        if ("entry_red_ok" in self.inputs) != ("exit_red_ok" in self.inputs):
            raise ValueError("inputs: wire 'entry_red_ok' and 'exit_red_ok' together, or neither")
        return self


class WeighingConfig(Strict):
    empty_kg: Kg = 200
    on_deck_kg: Kg = 1000
    zero_band_kg: Kg = 20
    zero_capture_kg: Kg = 500
    stable_band_kg: Kg = 20
    stable_window_s: Seconds = 1.0
    tolerance_kg: Kg = 500
    max_gross_kg: Kg = 60_000

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.zero_band_kg < self.empty_kg < self.on_deck_kg < self.max_gross_kg:
            raise ValueError("zero_band_kg < empty_kg < on_deck_kg < max_gross_kg must hold")
        if self.zero_band_kg > self.zero_capture_kg:
            raise ValueError("zero_band_kg must not exceed zero_capture_kg")
        return self


class TimingConfig(Strict):
    """`safe_ms` is S7's deadline: from a device's data running out of its freshness
    budget to the lane's red lights confirmed on the wire; the runtime measures every
    such reaction and raises `s7_deadline_missed` when one takes longer."""

    safe_ms: Ms = 250
    latch_ms: Ms = 5000
    field_check_ms: Ms = 1000
    stroke_timeout_s: Seconds = 8
    clear_hold_ms: Ms = 1000
    position_timeout_s: Seconds = 60
    stall_alarm_s: Seconds = 120

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.safe_ms >= self.latch_ms:
            raise ValueError("safe_ms must be shorter than latch_ms")
        if self.field_check_ms / 1000 >= self.stroke_timeout_s:
            raise ValueError("field_check_ms must be shorter than stroke_timeout_s")
        return self


class EmulationConfig(Strict):
    """The emulated lane's physics (DESIGN section 3); read by `gatectl emulate`, the demo
    and the simulation, never by `gatectl run`. `loop_response_ms` delays the emulated
    loop detectors' outputs; 0 (the default, which the seeded figures were measured with)
    reports a loop the instant a truck covers it, DESIGN's detectors take 60 ms.
    `clearance_median_s` is the emulated central service's median decision time."""

    time_scale: float = Field(default=1.0, gt=0, le=1000)
    barrier_travel_s: Seconds = 3.0
    loop_response_ms: float = Field(default=0.0, ge=0, le=1000)
    rfid_range_m: float = Field(default=8.0, gt=0, le=30)
    rfid_first_read_s: float = Field(default=0.5, ge=0, le=10)
    truck_speed_kmh: float = Field(default=10.0, gt=0, le=60)
    driver_reaction_s: float = Field(default=1.0, ge=0, le=30)
    deck_length_m: float = Field(default=18.0, ge=17, le=40)  # holds a 16.5 m truck
    scale_settle_s: Seconds = 1.5
    scale_noise_kg: float = Field(default=5.0, ge=0, le=500)
    scale_frame_hz: float = Field(default=10.0, gt=0, le=100)
    clearance_median_s: float = Field(default=3.0, ge=0, le=600)
    rtu_turnaround_ms: float = Field(default=2.0, ge=0, le=100)


class LaneConfig(Strict):
    id: Name
    io: IoConfig
    entry_barrier: BarrierConfig
    exit_barrier: BarrierConfig
    scale: ScaleConfig
    rfid: RfidConfig
    wiring: WiringConfig
    weighing: WeighingConfig = WeighingConfig()
    timing: TimingConfig = TimingConfig()
    emulation: EmulationConfig = EmulationConfig()
    camera: CameraConfig | None = None


class MqttConfig(Strict):
    url: str = Field(pattern=r"^mqtts?://[^/:]+(:\d{1,5})?/?$")
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    keepalive_s: int = Field(default=30, ge=5, le=3600)


class ClearanceConfig(Strict):
    verify_keys: dict[Name, Path] = Field(default_factory=dict)
    timeout_s: Seconds = 10
    max_clock_skew_s: float = Field(default=30, ge=0, le=3600)
    manifest: Path | None = None


class RolesConfig(Strict):
    viewer: str = "gatebridge"
    technician: str = "gatebridge-tech"
    officer: str = "gatebridge-officer"
    console: str = "gatebridge-console"  # the web console's own user: may act on behalf


class JournalRetentionConfig(Strict):
    """DESIGN 6: delivered records past `max_age_days` or `max_mb` are pruned; past
    `admission_limit_mb` the lanes admit no more vehicles (the rest is headroom for
    the vehicles already admitted to commit)."""

    max_age_days: float = Field(default=90, gt=0, le=36_500)
    max_mb: int = Field(default=1024, ge=2, le=1_048_576)
    admission_limit_mb: int = Field(default=900, ge=1, le=1_048_576)

    @model_validator(mode="after")
    def _headroom(self) -> Self:
        if self.admission_limit_mb >= self.max_mb:
            raise ValueError(
                f"admission_limit_mb ({self.admission_limit_mb}) must be below max_mb "
                f"({self.max_mb}): the difference is the headroom to commit admitted vehicles"
            )
        return self


class SnapshotsConfig(Strict):
    """Where the cameras' JPEG snapshots are kept (by sha256, the hash the journal names)
    and for how long: pruned oldest first past `max_age_days` or `max_mb`, like the
    journal's delivered records. `dir` defaults to `<journal>.snapshots/` beside it."""

    dir: Path | None = None
    max_age_days: float = Field(default=90, gt=0, le=36_500)
    max_mb: int = Field(default=2048, ge=1, le=1_048_576)


class MetricsConfig(Strict):
    """The optional Prometheus endpoint (docs/operations.md): loopback only, since it has
    no authentication; a scraper elsewhere reaches it through an ssh tunnel or a proxy."""

    listen: str = "127.0.0.1:9108"

    @field_validator("listen")
    @classmethod
    def _loopback(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        try:
            address = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
        except ValueError:
            raise ValueError(f"{value!r}: give HOST:PORT with a loopback IP address") from None
        if not address.is_loopback:
            raise ValueError(f"{value!r}: only a loopback address (127.0.0.1, [::1]) is allowed")
        if not port.isdigit() or not 1 <= int(port) <= 65_535:
            raise ValueError(f"{value!r}: the port must be 1-65535")
        return value

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].removeprefix("[").removesuffix("]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


def _one_listener_per_address(lanes: list[LaneConfig]) -> None:
    """Each lane owns its camera listener: two on one address could not both bind."""
    seen: dict[tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int], str] = {}
    for lane in lanes:
        if lane.camera is None:
            continue
        host, _, port = lane.camera.listen.rpartition(":")
        if int(port) == 0:  # any free port: never the same one twice
            continue
        key = (ipaddress.ip_address(host.removeprefix("[").removesuffix("]")), int(port))
        if key in seen:
            raise ValueError(
                f"lanes {seen[key]} and {lane.id}: camera.listen {lane.camera.listen} is one "
                "address; give each lane's cameras a listener (port) of its own"
            )
        seen[key] = lane.id


class GatewayConfig(Strict):
    site: Name
    gateway: Name
    journal: Path
    socket: Path
    # the exclusive locks on the gateway and its device endpoints; default: the socket's dir
    lock_dir: Path | None = None
    audit_log: Path | None = None
    roles: RolesConfig = RolesConfig()
    mqtt: MqttConfig | None = None
    clearance: ClearanceConfig = ClearanceConfig()
    retention: JournalRetentionConfig = JournalRetentionConfig()
    snapshots: SnapshotsConfig = SnapshotsConfig()
    console: ConsoleConfig = ConsoleConfig()
    metrics: MetricsConfig | None = None  # off unless configured
    lanes: list[LaneConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_lanes(self) -> Self:
        ids = [lane.id for lane in self.lanes]
        duplicate = next((i for i in ids if ids.count(i) > 1), None)
        if duplicate is not None:
            raise ValueError(f"lane id {duplicate!r} appears twice")
        cameras = [side.id for lane in self.lanes if lane.camera for side in lane.camera.sides]
        duplicate = next((i for i in cameras if cameras.count(i) > 1), None)
        if duplicate is not None:
            raise ValueError(f"camera id {duplicate!r} appears twice")
        _one_listener_per_address(self.lanes)
        return self

    @model_validator(mode="after")
    def _lock_dir_is_a_directory(self) -> Self:
        if self.lock_dir is not None and self.lock_dir in (self.socket, self.journal):
            raise ValueError(f"lock_dir: {self.lock_dir} is a file of this config, not a directory")
        return self

    @property
    def locks(self) -> Path:
        """Where the gateway's and its endpoints' lock files live."""
        return self.lock_dir if self.lock_dir is not None else self.socket.parent
