"""Local infrastructure (Kafka and PostgreSQL without Docker): see deploy/local/infra.py."""
