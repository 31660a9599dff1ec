"""The UHFReader18 protocol mapped onto the RFID model (DESIGN 5.4).

Commands addressed to this reader (or broadcast 0xFF) are answered; others are ignored,
as on a shared bus. A frame with a bad CRC or an unknown command gets status 0xFE, a
wrong data length 0xFD, a bad parameter 0xFF. Scan mode pushes `Len Adr 0xEE 0x00 EPC`.
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

READER_INFO = bytes([0x03, 0x01, 0x08, 0x03, 0x31, 0x80, 0x00, 0x0A, 0x1E])  # version, type, ...


class RfidInterface:
    def __init__(self, model: RfidModel, address: int = 0) -> None:
        self.model, self.address = model, address
        self._parser = RfidCommandParser("rfid-emulator")
        self.frame_period_s = 0.05

    def receive(self, data: bytes, now: float = 0.0) -> list[bytes]:
        replies: list[bytes] = []
        crc_error = False
        for item in self._parser.feed(data, now):
            if isinstance(item, DeviceProtocolError):
                crc_error = crc_error or "CRC" in str(item)
            elif item.address in (self.address, BROADCAST):
                replies.append(self._answer(item))
        if crc_error and not replies:  # one 0xFE per damaged burst, as the reader does
            replies.append(encode_response(self.address, 0x00, RfidStatus.ILLEGAL_COMMAND))
        return replies

    def _answer(self, request: RfidRequest) -> bytes:
        command, data = request.command, request.data
        if command == RfidCommand.INVENTORY:
            return encode_inventory_reply(self.address, self.model.inventory())
        if command == RfidCommand.READER_INFO:
            return encode_response(self.address, command, RfidStatus.OK, READER_INFO)
        if command == RfidCommand.SCAN_TIME:
            return self._scan_time(data)
        if command == RfidCommand.WORK_MODE:
            return self._work_mode(data)
        return encode_response(self.address, command, RfidStatus.ILLEGAL_COMMAND)

    def _scan_time(self, data: bytes) -> bytes:
        if len(data) != 1:
            return encode_response(self.address, RfidCommand.SCAN_TIME, RfidStatus.WRONG_LENGTH)
        if not 3 <= data[0] <= 255:
            return encode_response(self.address, RfidCommand.SCAN_TIME, RfidStatus.BAD_PARAMETER)
        self.model.scan_time_ds = data[0]
        return encode_response(self.address, RfidCommand.SCAN_TIME, RfidStatus.OK)

    def _work_mode(self, data: bytes) -> bytes:
        if not data:
            return encode_response(self.address, RfidCommand.WORK_MODE, RfidStatus.WRONG_LENGTH)
        if data[0] not in (0, 1):
            return encode_response(self.address, RfidCommand.WORK_MODE, RfidStatus.BAD_PARAMETER)
        self.model.mode = WorkMode.SCAN if data[0] == 1 else WorkMode.ANSWER
        return encode_response(self.address, RfidCommand.WORK_MODE, RfidStatus.OK)

    def continuous(self) -> bytes | None:
        """Pushed frames (scan mode), drained from the model."""
        if not self.model.pushes:
            return None
        frames = b"".join(encode_push(self.address, epc) for epc in self.model.pushes)
        self.model.pushes.clear()
        return frames
