"""Benchmarks and the fault suite: `make bench`, `make chaos`."""
