"""stgy: a federated social network server."""

__version__ = "0.1.0"
