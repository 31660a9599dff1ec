"""Modbus framing shared by emulators and raw clients (pure codecs; no pymodbus here)."""
