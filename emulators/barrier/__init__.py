"""Emulated barrier controllers (DESIGN 5.2):
`model.BarrierModel`, `interface.BarrierBusInterface`.
"""
