"""The public contract as pydantic models: one module per producing service, plus what all share."""
