"""A probe service for the foundation's tests: the shared machinery with the smallest domain that shows it works."""
