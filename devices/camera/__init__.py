"""Lane camera (ANPR): plate reads pushed as one JSON event per read over HTTP POST."""
