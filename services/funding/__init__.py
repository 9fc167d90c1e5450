"""The funding service."""
