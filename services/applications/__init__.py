"""The applications service."""
