"""gatectl: the maintenance CLI."""
