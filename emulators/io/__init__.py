"""Emulated digital I/O module (DESIGN 5.1): `model.IoModel`, `interface.IoInterface`."""
