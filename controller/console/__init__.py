"""The officers' web console: a client of the maintenance socket (docs/console.md)."""
