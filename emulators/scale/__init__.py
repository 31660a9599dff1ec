"""Emulated weighbridge indicator (Toledo continuous, SMA request/response)."""
