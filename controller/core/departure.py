"""Departure and reversal: how the deck vehicle leaves the lane, forwards or backwards.

Theory of operation: a decided vehicle leaves forwards once the exit is open (RELEASING
to LEAVING, `g_exit_open`), past the exit arm and off an empty deck (`g_vehicle_left`);
a second vehicle still on the deck then is held as an unknown one. A released vehicle
gone without passing the exit arm's sensors (it left while they were silent, or before a
restart) is let go after the deck and both arms have been empty on fresh data for
GONE_UNSEEN_S, with an alarm. A vehicle leaving backwards (DESIGN 10: a truck leaving
without permission) is recognised two ways: presence rising at the entry arm behind a
blocked beam_in after it was fully on the deck (`_from_the_deck`, from the sensing
handler), or a deck empty again after it was on it with the exit closed all along
(`_watch_deck_side`, every step). Either way `reversed_off_deck` alarms once and holds a
vehicle not yet decided for an officer; a decided one that has backed out through the
entry is let go, the exit never opened for nobody (`g_left_backwards`).
"""

from __future__ import annotations

from controller.core.alarms import Clears
from controller.core.base import LaneBase
from controller.core.commands import SetInventory
from controller.core.invariants import s1_close
from controller.core.types import SIDES, Device, LaneState, Side, Signal
from controller.core.vehicles import DeckVehicle

S = LaneState
GONE_UNSEEN_S = 20.0  # a released truck clears the deck and the exit arm in about 10 s


class Departure(LaneBase):
    def g_exit_open(self, now: float) -> LaneState | None:
        deck = self.lane.deck
        reached = deck is not None and deck.reached_exit
        return S.LEAVING if reached or self.image.fully_open(Side.EXIT) else None

    def g_left_backwards(self, now: float) -> LaneState | None:
        """The decided vehicle reversed off the deck and out through the entry: nobody is
        left to release, so the exit stays shut and the lane closes up."""
        deck = self.lane.deck
        if deck is None or not deck.reversed_off or deck.reached_exit:
            return None
        if not self.image.deck_empty():
            return None
        self._let_go(deck, direction="entry")
        return S.CLEARING

    def g_vehicle_left(self, now: float) -> LaneState | None:
        deck, image = self.lane.deck, self.image
        if deck is not None and not deck.reached_exit and self._gone_unseen(deck, now):
            # an incident over when it is seen: listed until an officer acknowledges it
            self.alarm("departure_not_seen", "the released vehicle is no longer in the lane")
            self._let_go(deck, seen=False)
            if self.lane.approach is not None:  # its tag is unbound now: read it afresh (it may
                self.emit(SetInventory(active=True))  # be the truck at the stop line)
            return S.CLEARING
        if deck is None or not deck.reached_exit or s1_close(self, Side.EXIT, now):
            return None
        if image.deck_empty():
            self._let_go(deck)
            return S.CLEARING
        kg = image.weight_kg or 0.0
        if image.beams_clear and kg < self.params.on_deck_kg:
            return None  # the scale is still settling towards empty
        self.event("vehicle_departed", transaction_id=deck.transaction_id)
        self.lane.deck = DeckVehicle.unknown(
            self.new_id(), now, "second vehicle on the deck at exit"
        )
        self.alarm("tailgating", self.lane.deck.hold_reason, Clears.VEHICLE_GONE)
        return S.HOLD

    def _let_go(self, deck: DeckVehicle, **detail: object) -> None:
        """The deck vehicle has left the lane (the detail says how): forget it, durably."""
        self.event("vehicle_departed", transaction_id=deck.transaction_id, **detail)
        self.lane.deck = None
        self.save_context()

    def _gone_unseen(self, deck: DeckVehicle, now: float) -> bool:
        """The released vehicle left without passing the exit arm's sensors (it was gone
        before a restart recorded it on the deck, or left while they were silent): the
        deck empty and nothing at either arm, on fresh data, for GONE_UNSEEN_S."""
        image = self.image
        fresh = image.presence_data_fresh(Side.ENTRY) and image.presence_data_fresh(Side.EXIT)
        empty = fresh and image.deck_empty() and not any(image.presence(s) for s in SIDES)
        if not empty:
            deck.empty_since = None
            return False
        deck.empty_since = deck.empty_since if deck.empty_since is not None else now
        return now - deck.empty_since >= GONE_UNSEEN_S

    def reversed_off_deck(self, deck: DeckVehicle) -> None:
        """The deck vehicle leaves the deck backwards, towards the entry (DESIGN 10: a truck
        leaving without permission): alarm once; a vehicle not yet decided is held for an
        officer, who decides its record. The entry stays as S1 keeps it: never closed onto
        the vehicle at the arm."""
        deck.reversed_off = True
        if "vehicle_reversed_off_deck" not in deck.alarmed:
            deck.alarmed.add("vehicle_reversed_off_deck")
            self.alarm(
                "vehicle_reversed_off_deck",
                "the deck vehicle is leaving the deck backwards",
                Clears.VEHICLE_GONE,
            )
        if deck.outcome is None and not deck.hold_reason:
            deck.hold_reason = "vehicle reversed off the deck"

    def _from_the_deck(self, deck: DeckVehicle) -> bool:
        """Presence rising at the entry arm behind a blocked beam_in, after the deck vehicle
        was fully on the deck: it is backing off the deck (a vehicle from the approach side
        reaches the arm loop before beam_in)."""
        return deck.on_deck and self.image.signal(Signal.BEAM_IN)

    def _watch_deck_side(self, deck: DeckVehicle) -> None:
        """Note when the deck vehicle is on the scale, over beam_in, and fully on the deck;
        a deck empty after it was on it, the exit closed all along, means it left backwards
        (when the rising edge at the entry arm was missed, e.g. while the I/O module was
        silent, even all the time it was on the deck, or never came: the scale was silent
        while it drove on and it backed off before standing clear of the arm)."""
        image = self.image
        if not image.fully_closed(Side.EXIT):
            deck.exit_opened = True  # from here on it may have left forwards
        kg = image.weight_kg or 0.0
        if image.fresh(Device.SCALE) and kg >= self.params.on_deck_kg:
            deck.on_scale = True
        if deck.reached_entry and image.fresh(Device.IO) and image.signal(Signal.BEAM_IN):
            deck.over_beam_in = True
        if not image.fresh_io_and_scale:
            return
        if image.beams_clear and not image.presence(Side.ENTRY) and kg >= self.params.on_deck_kg:
            deck.on_deck = True
        elif not deck.exit_opened and image.deck_empty() and self._was_on_deck(deck):
            self.reversed_off_deck(deck)

    def _was_on_deck(self, deck: DeckVehicle) -> bool:
        """The scale carried it, or (while the scale was silent) it blocked beam_in and
        has since gone back past the entry arm too: a front that only poked over beam_in
        and stands under the arm is not yet off the deck backwards."""
        gone_back = deck.over_beam_in and not self.image.presence(Side.ENTRY)
        return deck.on_scale or gone_back
