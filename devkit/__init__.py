"""The development kit: drive the programme as other systems would, and run it as processes.

Used by the tests, the benchmark, the fault suite and the demo; it imports none of them.
`driver` speaks the contract (commands in the envelope, topics read back, a command's
answer awaited); `payloads` and `ids` build valid commands; `processes` runs one service as a
process; `system` prepares topics, roles and schemas and starts services; `infra` finds or
starts Kafka and PostgreSQL.
"""
