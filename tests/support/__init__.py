"""Helpers shared by the test suites (infrastructure start-up)."""
