"""The gateway's edge to the gate's central systems: MQTT, signed messages (DESIGN 6)."""
