"""The lane journal: SQLite, durable before it answers (S10); the outbox the MQTT bridge
forwards from, S6's replay state, retention, and a read-only export."""
