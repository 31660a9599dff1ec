"""Wire-accurate device emulators: pure models, protocol interfaces, server adapters."""
