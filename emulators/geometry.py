"""The lane's geometry and physics defaults (DESIGN section 3), in metres along the lane.

x grows in the driving direction; the entry arm is at x = 0. A truck is the segment
[front - length, front]. Zones are closed intervals; a point zone is a beam.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Geometry:
    approach_loop: tuple[float, float] = (-3.5, -0.6)
    entry_arm: float = 0.0
    entry_arm_loop: tuple[float, float] = (-0.5, 0.5)
    entry_photocell: tuple[float, float] = (-0.3, 0.3)
    beam_in: float = 1.0
    beam_out: float = 19.0  # 18 m between the beams
    exit_arm: float = 20.0
    exit_arm_loop: tuple[float, float] = (19.5, 20.5)
    exit_photocell: tuple[float, float] = (19.7, 20.3)
    stop_line: float = -0.7  # an obedient truck's front waits here
    deck_stop: float = 18.6  # an obedient truck's front stops here on the deck
    gone_after: float = 40.0  # rear beyond this: out of the model
    queue_gap: float = 3.0
    rfid_range: float = 8.0  # metres before the antenna at the entry arm

    @classmethod
    def for_deck(cls, deck_length_m: float) -> Geometry:
        """The default lane with `deck_length_m` between the beams: the exit side (beam,
        arm, its loop and photocell, the deck stop) moves with beam_out. Rounded to the
        millimetre, so 18 m gives exactly the default geometry."""
        beam_out = round(cls().beam_in + deck_length_m, 3)
        exit_arm = round(beam_out + 1.0, 3)
        return cls(
            beam_out=beam_out,
            exit_arm=exit_arm,
            exit_arm_loop=(round(exit_arm - 0.5, 3), round(exit_arm + 0.5, 3)),
            exit_photocell=(round(exit_arm - 0.3, 3), round(exit_arm + 0.3, 3)),
            deck_stop=round(beam_out - 0.4, 3),
            gone_after=round(exit_arm + 20.0, 3),
        )


@dataclass(frozen=True, slots=True)
class Physics:
    time_scale: float = 1.0
    barrier_travel_s: float = 3.0
    truck_speed_mps: float = 10 / 3.6
    driver_reaction_s: float = 1.0
    rfid_first_read_s: float = 0.5
    gross_kg: tuple[int, int] = (12000, 49000)
    length_m: tuple[float, float] = (10.0, 16.5)
    loop_response_s: float = 0.0  # the loop detectors' response time (DESIGN 3: 60 ms)


def overlaps(segment: tuple[float, float], zone: tuple[float, float]) -> bool:
    return segment[0] <= zone[1] and zone[0] <= segment[1]


def covers(segment: tuple[float, float], point: float) -> bool:
    return segment[0] < point < segment[1]


def fraction_inside(segment: tuple[float, float], zone: tuple[float, float]) -> float:
    length = segment[1] - segment[0]
    inside = min(segment[1], zone[1]) - max(segment[0], zone[0])
    return max(0.0, inside) / length if length > 0 else 0.0
