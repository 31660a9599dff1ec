"""Boom barrier controller (Modbus RTU, CAME-like register map: DESIGN 5.2)."""
