"""`programme`: the operator's command line (topics, database, commands, tails, dead letters)."""
