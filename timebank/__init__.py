"""timebank: a time-bank ledger of volunteer minutes, as a library and an HTTP API."""

__version__ = "0.1.0"
