"""The lane runtime: asyncio around the pure core (one TaskGroup per lane)."""
