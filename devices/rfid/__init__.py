"""UHF RFID reader (serial; the UHFReader18 / CF-RU5102 protocol: DESIGN 5.4)."""
