"""Running the programme on this machine without Docker: Kafka, PostgreSQL, the services, the demo."""
