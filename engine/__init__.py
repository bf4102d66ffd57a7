"""The engine: passes of one connector against the state store (poller, writer, journal,
timers, store, ownership). Imports only ``sync``."""
