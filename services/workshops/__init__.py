"""The workshops service."""
