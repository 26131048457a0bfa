"""In-memory adapters: the full set, for tests and the simulator."""
