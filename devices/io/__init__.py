"""Digital I/O module (Modbus TCP, ioLogik/ADAM-like: DESIGN 5.1)."""
