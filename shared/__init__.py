"""What every service shares: the one way they talk to Kafka and Postgres."""
