"""The UHFReader18 protocol mapped onto the RFID model (DESIGN 5.4).

Commands addressed to this reader (or broadcast 0xFF) are answered, always from the
reader's own address; others are ignored, as on a shared bus. Status codes as the reader
gives them: a burst holding a frame with a bad CRC (and nothing good) gets one 0xFE
answer, as does an unknown command; a data length the command does not take gets 0xFD;
a value out of range 0xFF. A partial frame cut by a byte gap (the codec's 15 ms sync
rule, on the `now` the adapter stamps each chunk with) is dropped silently. Inventory
takes no data, or the two TID bytes (AdrTID, LenTID) newer hosts send. Work mode 0x35
reads its first data byte (Read_mode: 0 answer, 1 scan); trigger modes are refused with
0xFF. In scan mode the pushes `Len Adr 0xEE 0x00 EPC CRC` come out of `continuous()`.
"""

from __future__ import annotations

from controller.errors import DeviceProtocolError
from devices.rfid.codec import (
    BROADCAST,
    RfidCommand,
    RfidCommandParser,
    RfidRequest,
    RfidStatus,
    encode_inventory_reply,
    encode_push,
    encode_response,
)
from emulators.rfid.model import RfidModel, WorkMode

# version 3.1, reader type 0x08, protocols 0x03, max/min frequency, power 30 dBm, scan
# time 10 (x 100 ms): the shape of a real 0x21 answer
READER_INFO = bytes([0x03, 0x01, 0x08, 0x03, 0x31, 0x80, 0x00, 0x0A, 0x1E])
FRAME_PERIOD_S = 0.05
SCAN_TIME_DS = range(3, 256)


class RfidInterface:
    def __init__(self, model: RfidModel, address: int = 0) -> None:
        if not 0 <= address <= BROADCAST:  # 0xFF: a reader that only answers broadcasts
            raise ValueError(f"rfid address: 0..255, got {address}")
        self.model, self.address = model, address
        self._parser = RfidCommandParser("rfid-emulator")
        self.frame_period_s = FRAME_PERIOD_S

    @property
    def streaming(self) -> bool:
        return self.model.mode == WorkMode.SCAN

    def receive(self, data: bytes, now: float = 0.0) -> list[bytes]:
        """Bytes from the host (arrived at `now`) in, replies out."""
        replies: list[bytes] = []
        crc_error = False
        for item in self._parser.feed(data, now):
            if isinstance(item, DeviceProtocolError):
                crc_error = crc_error or "CRC" in str(item)
            elif item.address in (self.address, BROADCAST):
                replies.append(self._answer(item))
        if crc_error and not replies:  # one 0xFE per damaged burst, as the reader does
            replies.append(self._status(0x00, RfidStatus.ILLEGAL_COMMAND))
        return replies

    def _status(self, command: int, status: RfidStatus, data: bytes = b"") -> bytes:
        return encode_response(self.address, command, status, data)

    def _answer(self, request: RfidRequest) -> bytes:
        command, data = request.command, request.data
        if command == RfidCommand.INVENTORY:
            if len(data) not in (0, 2):
                return self._status(command, RfidStatus.WRONG_LENGTH)
            return encode_inventory_reply(self.address, self.model.inventory())
        if command == RfidCommand.READER_INFO:
            if data:
                return self._status(command, RfidStatus.WRONG_LENGTH)
            return self._status(command, RfidStatus.OK, READER_INFO)
        if command == RfidCommand.SCAN_TIME:
            return self._scan_time(data)
        if command == RfidCommand.WORK_MODE:
            return self._work_mode(data)
        return self._status(command, RfidStatus.ILLEGAL_COMMAND)

    def _scan_time(self, data: bytes) -> bytes:
        if len(data) != 1:
            return self._status(RfidCommand.SCAN_TIME, RfidStatus.WRONG_LENGTH)
        if data[0] not in SCAN_TIME_DS:
            return self._status(RfidCommand.SCAN_TIME, RfidStatus.BAD_PARAMETER)
        self.model.scan_time_ds = data[0]
        return self._status(RfidCommand.SCAN_TIME, RfidStatus.OK)

    def _work_mode(self, data: bytes) -> bytes:
        if not data:
            return self._status(RfidCommand.WORK_MODE, RfidStatus.WRONG_LENGTH)
        if data[0] not in (0, 1):
            return self._status(RfidCommand.WORK_MODE, RfidStatus.BAD_PARAMETER)
        self.model.mode = WorkMode.SCAN if data[0] == 1 else WorkMode.ANSWER
        return self._status(RfidCommand.WORK_MODE, RfidStatus.OK)

    def continuous(self) -> bytes | None:
        """Pushed frames (scan mode) queued since the last frame tick, or None."""
        if not self.model.pushes:
            return None
        frames = b"".join(encode_push(self.address, epc) for epc in self.model.pushes)
        self.model.pushes.clear()
        return frames
