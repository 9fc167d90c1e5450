"""Entry point of `programme`: subcommands for operators."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from shared.cli import database, topics
from shared.topics import SERVICES

DEFAULT_ADMIN_DSN = "postgresql://postgres:postgres@127.0.0.1:55432/programme"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="programme",
        description="Operate the programme's services: topics, database, commands, tails and dead letters.",
    )
    parser.add_argument(
        "--bootstrap-servers",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        help="Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS; default %(default)s)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    topic = commands.add_parser("topics", help="create or check the contract's topics")
    topic_actions = topic.add_subparsers(dest="action", required=True)
    create = topic_actions.add_parser("create", help="create every missing contract topic (DLQs included)")
    create.add_argument("--partitions", type=int, default=int(os.environ.get("PROGRAMME_TOPIC_PARTITIONS", "6")))
    create.add_argument("--replication-factor", type=int, default=1)
    topic_actions.add_parser("check", help="list the contract's topics and their partitions; exit 1 if any is missing")

    db = commands.add_parser("db", help="bootstrap roles and schemas, apply migrations")
    db_actions = db.add_subparsers(dest="action", required=True)
    boot = db_actions.add_parser("bootstrap", help="as an administrator: each service's role and schema")
    boot.add_argument(
        "--admin-dsn",
        default=os.environ.get("PROGRAMME_ADMIN_DSN", DEFAULT_ADMIN_DSN),
        help="a superuser's DSN (env PROGRAMME_ADMIN_DSN)",
    )
    db_actions.add_parser("migrate", help="apply each service's migrations as its own role (<SERVICE>_DATABASE_DSN)")
    return parser


async def run(args: argparse.Namespace) -> int:
    if args.command == "topics" and args.action == "create":
        created = await topics.ensure_topics(
            args.bootstrap_servers, partitions=args.partitions, replication=args.replication_factor
        )
        print(f"created {len(created)} topic(s){': ' + ', '.join(created) if created else ''}")
        return 0
    if args.command == "topics" and args.action == "check":
        found = await topics.describe_topics(args.bootstrap_servers)
        for name, partitions in found.items():
            print(f"{name:32} {partitions or 'MISSING'}")
        return 0 if all(found.values()) else 1
    if args.command == "db" and args.action == "bootstrap":
        await database.bootstrap_all(args.admin_dsn)
        print(f"roles and schemas ready: {', '.join(SERVICES)}")
        return 0
    if args.command == "db" and args.action == "migrate":
        applied = await database.migrate_all()
        print(", ".join(f"{service}: {count} applied" for service, count in applied.items()))
        return 0
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
