"""Device layer: pure codecs, thin async drivers, and the transports they sit on."""
