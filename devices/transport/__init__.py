"""Transports: how a driver reaches its device (Modbus TCP/RTU via pymodbus, serial, memory)."""
