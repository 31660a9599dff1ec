"""Weighbridge indicator (serial): Mettler Toledo continuous output and SMA SCP-0499."""
