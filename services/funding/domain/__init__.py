"""The funding service's rules and decisions: pure and synchronous, one module per subject."""
