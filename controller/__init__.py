"""gatebridge lane controller: core (pure), runtime, bridge, maintenance CLI."""
