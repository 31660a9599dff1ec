"""Emulated lane camera (ANPR): reads the world's plates, POSTs events over HTTP."""
