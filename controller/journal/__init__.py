"""The lane journal: SQLite, durable before it answers (S10)."""
