"""Emulated UHF RFID reader (UHFReader18 protocol)."""
