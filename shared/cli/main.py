"""The operator's subcommands; `programme` (the operator entry point above the services) runs them with the
services it registers."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.cli import consumers, database, deadletters, failures, messages, outbox, report_command, topics
from shared.contract import schemas
from shared.descriptor import Descriptor
from shared.kafka import producer_options
from shared.settings import ServiceSettings
from shared.topic_config import TopicSettings
from shared.topics import contract_topics, events_topic

DEFAULT_ADMIN_DSN = "postgresql://postgres:postgres@127.0.0.1:55432/programme"


class OperatorSettings(ServiceSettings):
    """The CLI's Kafka connection (`PROGRAMME_KAFKA_*`, the same options as a service's)."""

    model_config = SettingsConfigDict(env_prefix="PROGRAMME_", extra="ignore", frozen=True)
    serves_lookups: ClassVar[bool] = False

    # The CLI's database is the administrator's; production refuses the local default here too.
    database_dsn: SecretStr = Field(
        default=SecretStr(DEFAULT_ADMIN_DSN),
        validation_alias="PROGRAMME_ADMIN_DSN",
        description="an administrator's DSN, for `db bootstrap` and `outbox`",
    )
    kafka_bootstrap_servers: str = Field(
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        description="host:port[,host:port]; else KAFKA_BOOTSTRAP_SERVERS",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="programme",
        description="Operate the programme's services: topics, database, commands, tails, dead letters, outbox.",
        epilog="Kafka: --bootstrap-servers or PROGRAMME_KAFKA_BOOTSTRAP_SERVERS / KAFKA_BOOTSTRAP_SERVERS; "
        "TLS and SASL via PROGRAMME_KAFKA_SECURITY_PROTOCOL, _SASL_MECHANISM, _SASL_USERNAME, _SASL_PASSWORD, "
        "_SSL_CAFILE. Database: --admin-dsn or PROGRAMME_ADMIN_DSN. Exit codes: 0 done; 1 the command's own no "
        "(differences found, no answer in time, no events); 2 what was asked is wrong; 3 Kafka or the database "
        "could not be reached or refused the login.",
    )
    parser.add_argument("--bootstrap-servers", default=None, help="Kafka bootstrap servers")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    topic = commands.add_parser(
        "topics", help="create or check the contract's topics", epilog="Configs: PROGRAMME_TOPIC_* (settings page)."
    )
    topic_actions = topic.add_subparsers(dest="action", required=True)
    create = topic_actions.add_parser(
        "create", help="create every missing contract topic (DLQs included) with retention, min ISR and sizes"
    )
    _topic_layout(create)
    topic_check = topic_actions.add_parser(
        "check", help="show each contract topic's partitions, replicas and configs; exit 1 if any is missing or differs"
    )
    _topic_layout(topic_check)
    topic_check.add_argument(
        "--fix", action="store_true", help="set the wanted configs on topics that differ (not partitions or replicas)"
    )

    db = commands.add_parser("db", help="bootstrap roles and schemas, apply migrations")
    db_actions = db.add_subparsers(dest="action", required=True)
    boot = db_actions.add_parser("bootstrap", help="as an administrator: each service's role and schema")
    _admin_dsn(boot)
    db_actions.add_parser(
        "migrate", help="apply each service's migrations as the schema's owner (<SERVICE>_MIGRATION_DSN)"
    )

    send = commands.add_parser("send", help="send a command from a JSON file, filling in the envelope")
    send.add_argument("file", type=Path, help='{"type": ..., "key"?: ..., "data": {...}} or the data alone')
    send.add_argument("--type", dest="ce_type", help="e.g. applications.SubmitApplication.v1")
    send.add_argument("--key", help="the record key (derived from the data when left out)")
    send.add_argument("--correlation-id", help="continue a chain instead of starting one")
    send.add_argument("--source", default="/programme/operator-cli", help="ce_source (default %(default)s)")
    send.add_argument("--wait", type=float, default=10.0, metavar="S", help="wait S seconds for the answer (0: don't)")

    tail = commands.add_parser("tail", help="show records of topics as readable lines")
    tail.add_argument("topics", nargs="*", help="topics (default: every contract topic)")
    tail.add_argument("--from-beginning", action="store_true", help="start at the oldest record, not now")
    tail.add_argument("--no-follow", action="store_true", help="stop at the end instead of waiting for more")
    tail.add_argument("--show-personal", action="store_true", help="show names and e-mails (masked by default)")

    status = commands.add_parser(
        "status",
        help="an application's events across the services, oldest first",
        description="Every record keyed by the id on the registered services' events topics, in the order of "
        "their ce_time: what happened to one application (any record key works, e.g. budget-2027).",
    )
    status.add_argument("key", metavar="APPLICATION_ID", help="the application's id (or another record key)")
    status.add_argument("--show-personal", action="store_true", help="show names and e-mails (masked by default)")

    dlq = commands.add_parser("dlq", help="list dead letters, replay chosen ones")
    dlq_actions = dlq.add_subparsers(dest="action", required=True)
    dlq_list = dlq_actions.add_parser("list", help="every record in a service's DLQ, with why it is there")
    dlq_list.add_argument("service", type=_service_name, help="applications, workshops or funding")
    dlq_replay = dlq_actions.add_parser("replay", help="send chosen dead letters back to their original topic")
    dlq_replay.add_argument("service", type=_service_name, help="applications, workshops or funding")
    chosen = dlq_replay.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--offset", type=int, action="append", help="the DLQ offset to replay (repeatable)")
    chosen.add_argument("--all", action="store_true", help="every record in the DLQ")
    dlq_replay.add_argument("--partition", type=int, help="only this DLQ partition's offsets")
    dlq_replay.add_argument("--new-id", action="store_true", help="send under a fresh ce_id (for refused records)")

    contract = commands.add_parser("contract", help="export the contract's JSON Schemas, check compatibility")
    contract_actions = contract.add_subparsers(dest="action", required=True)
    export = contract_actions.add_parser("export", help="write contract/schemas/*.json from the models")
    export.add_argument("--folder", type=Path, default=Path("contract/schemas"))
    check = contract_actions.add_parser("check", help="is the code backward compatible with a released contract?")
    check.add_argument("--release", type=Path, default=Path("contract/released/v1"))

    _outbox_parser(commands)
    _consumer_commands(commands)
    report_command.add_parser(commands)
    return parser


def _outbox_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backlog = commands.add_parser(
        "outbox", help="outbox backlog and parked rows per service; replay parked rows once their cause is fixed"
    )
    _admin_dsn(backlog)
    backlog_actions = backlog.add_subparsers(dest="action", required=False, metavar="ACTION")
    replay = backlog_actions.add_parser("replay", help="give parked rows back to the relay (after fixing the cause)")
    _admin_dsn(replay)
    replay.add_argument("service", type=_service_name, help="applications, workshops or funding")
    replayed = replay.add_mutually_exclusive_group(required=True)
    replayed.add_argument("--id", type=int, action="append", help="the parked row's id (repeatable)")
    replayed.add_argument("--all", action="store_true", help="every parked row of the service")


def _consumer_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    consumer = commands.add_parser("consumer", help="move a service's consumer group past a batch it holds")
    consumer_actions = consumer.add_subparsers(dest="action", required=True)
    skip = consumer_actions.add_parser(
        "skip-batch",
        help="with every replica stopped: commit the group's offset past the undecodable batch at --offset "
        "(readiness and the log line partition.held name it); refused if the batch decodes here",
    )
    skip.add_argument("--service", type=_service_name, required=True, help="the service whose group holds it")
    skip.add_argument("--group", help="the consumer group, if not the service's name (<SERVICE>_KAFKA_GROUP_ID)")
    skip.add_argument("--topic", required=True, help="the held topic")
    skip.add_argument("--partition", type=int, required=True, help="the held partition")
    skip.add_argument("--offset", type=int, required=True, help="the held batch's offset")


def _service_name(text: str) -> str:
    if not text.isascii() or not text.isalpha() or not text.islower():
        msg = f"{text!r} is not a service name"
        raise argparse.ArgumentTypeError(msg)
    return text


def _topic_layout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--partitions", type=int, help="default PROGRAMME_TOPIC_PARTITIONS (6)")
    parser.add_argument("--replication-factor", type=int, help="default PROGRAMME_TOPIC_REPLICATION_FACTOR (1)")


def _topic_settings(args: argparse.Namespace) -> TopicSettings:
    given = {"partitions": args.partitions, "replication_factor": args.replication_factor}
    return TopicSettings(**{name: value for name, value in given.items() if value is not None})


def _admin_dsn(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin-dsn",
        default=os.environ.get("PROGRAMME_ADMIN_DSN", DEFAULT_ADMIN_DSN),
        help="an administrator's DSN (env PROGRAMME_ADMIN_DSN)",
    )


@dataclass(frozen=True)
class Context:
    """What a subcommand works with: the broker, its client options, and the registered services."""

    bootstrap: str
    options: dict[str, Any]
    services: Sequence[Descriptor]


async def run(args: argparse.Namespace, services: Sequence[Descriptor]) -> int:
    settings = OperatorSettings()
    bootstrap = args.bootstrap_servers or settings.kafka_bootstrap_servers
    options: dict[str, Any] = {k: v for k, v in producer_options(settings).items() if k != "bootstrap_servers"}
    handler = _HANDLERS[(args.command, getattr(args, "action", None))]
    return await handler(args, Context(bootstrap, options, services))


async def _topics_create(args: argparse.Namespace, context: Context) -> int:
    created = await topics.ensure_topics(context.bootstrap, settings=_topic_settings(args), options=context.options)
    print(f"created {len(created)} topic(s){': ' + ', '.join(created) if created else ''}")
    print("existing topics are left as they are: `programme topics check [--fix]` shows [and mends] any that differ")
    return 0


async def _topics_check(args: argparse.Namespace, context: Context) -> int:
    settings = _topic_settings(args)
    bootstrap, options = context.bootstrap, context.options
    if args.fix:
        fixed = await topics.align_topics(bootstrap, settings, options)
        print(f"configs set on {len(fixed)} topic(s){': ' + ', '.join(fixed) if fixed else ''}")
    differing = 0
    for state in await topics.describe_topics(bootstrap, settings, options):
        differences = state.differences(settings)
        differing += bool(differences)
        shown = " ".join(f"{name}={value}" for name, value in state.configs.items())
        layout = f"partitions={state.partitions} replicas={state.replication_factor}"
        print(f"{state.name:28} {'DIFFERS' if differences else 'ok':8} {layout} {shown}")
        for difference in differences:
            print(f"    {difference}")
    print(f"{differing} topic(s) missing or differing" if differing else "every topic as the settings want")
    return 1 if differing else 0


async def _db_bootstrap(args: argparse.Namespace, context: Context) -> int:
    names = tuple(service.name for service in context.services)
    await database.bootstrap_all(args.admin_dsn, names, production=OperatorSettings().environment == "production")
    print(f"roles and schemas ready: {', '.join(names)}")
    return 0


async def _db_migrate(_: argparse.Namespace, context: Context) -> int:
    applied = await database.migrate_all(context.services)
    print(", ".join(f"{service}: {count} applied" for service, count in applied.items()))
    return 0


async def _send(args: argparse.Namespace, context: Context) -> int:
    outgoing = messages.command_from_file(
        args.file, ce_type=args.ce_type, key=args.key, source=args.source, correlation_id=args.correlation_id
    )
    print(f"sending {outgoing.ce_type} key={outgoing.key} ce_id={outgoing.headers['ce_id']} to {outgoing.topic}")
    if args.wait <= 0:
        await messages.send(context.bootstrap, outgoing, context.options)
        return 0
    answers = await messages.send_and_wait_for_answer(
        context.bootstrap, outgoing, wait_s=args.wait, options=context.options
    )
    if not answers:
        print(f"no answer within {args.wait:.0f}s (is the service running? see `programme tail`)")
        return 1
    for seen in answers:
        print("  " + seen.line())
    return 2 if any(answer.rejection for answer in answers) else 0


async def _tail(args: argparse.Namespace, context: Context) -> int:
    chosen = args.topics or list(contract_topics())
    reader = await messages.open_reader(
        context.bootstrap, chosen, from_beginning=args.from_beginning, options=context.options
    )
    failures.echo_library_lines()  # connected: a broker lost while following is worth seeing
    try:
        async for seen in messages.records(reader, follow=not args.no_follow):
            print(seen.line(show_personal=args.show_personal), flush=True)
    finally:
        await messages.stop_consumer(reader)
    return 0


async def _status(args: argparse.Namespace, context: Context) -> int:
    topics = [events_topic(service.name) for service in context.services]
    history = await messages.keyed_history(context.bootstrap, args.key, topics, options=context.options)
    for seen in history:
        print(seen.line(show_personal=args.show_personal))
    services = sorted({seen.topic.split(".")[0] for seen in history})
    if not history:
        print(f"no events keyed {args.key} on {', '.join(topics)}")
        return 1
    print(f"{len(history)} event(s) keyed {args.key} from {', '.join(services)}")
    return 0


async def _dlq_list(args: argparse.Namespace, context: Context) -> int:
    letters = await deadletters.list_letters(context.bootstrap, args.service, context.options)
    for letter in letters:
        print(deadletters.describe(letter))
    print(f"{len(letters)} dead letter(s) in {args.service}.dlq.v1")
    return 0


async def _dlq_replay(args: argparse.Namespace, context: Context) -> int:
    letters = await deadletters.list_letters(context.bootstrap, args.service, context.options)
    if not args.all:
        wanted = set(args.offset)
        letters = [
            letter
            for letter in letters
            if letter.offset in wanted and (args.partition is None or letter.partition == args.partition)
        ]
        missing = wanted - {letter.offset for letter in letters}
        if missing:
            print(f"no dead letter at offset(s) {sorted(missing)}", file=sys.stderr)
            return 1
    for letter, ce_id in await deadletters.replay(
        context.bootstrap, letters, new_ids=args.new_id, options=context.options
    ):
        print(f"replayed dlq@{letter.partition}:{letter.offset} -> {letter.headers['x-original-topic']} ce_id={ce_id}")
    return 0


async def _outbox(args: argparse.Namespace, context: Context) -> int:
    names = [service.name for service in context.services]
    for backlog in await outbox.backlogs(args.admin_dsn, names):
        oldest = backlog.oldest.isoformat() if backlog.oldest else "-"
        recent = backlog.sent_last_minute
        print(
            f"{backlog.service:13} unsent={backlog.unsent:<6} oldest={oldest:32} sent_last_minute={recent:<6} "
            f"parked={backlog.parked}"
        )
    for row in await outbox.parked(args.admin_dsn, names):
        print("  parked: " + outbox.describe(row))
    return 0


async def _outbox_replay(args: argparse.Namespace, _: Context) -> int:
    replayed = await outbox.replay(args.admin_dsn, args.service, None if args.all else args.id)
    missing = set(args.id or ()) - set(replayed)
    if replayed:
        print(f"replayed {len(replayed)} parked row(s) of {args.service}: ids {', '.join(map(str, replayed))}")
    if missing:
        print(f"no parked row with id(s) {sorted(missing)} in {args.service}", file=sys.stderr)
        return 1
    return 0


async def _consumer_skip_batch(args: argparse.Namespace, context: Context) -> int:
    try:
        skipped = await consumers.skip_batch(
            context.bootstrap,
            group=args.group or args.service,
            topic=args.topic,
            partition=args.partition,
            offset=args.offset,
            options=context.options,
        )
    except consumers.SkipRefusedError as refused:
        print(f"programme: not skipped: {refused}", file=sys.stderr)
        return 1
    where = f"{skipped.partition.topic}/{skipped.partition.partition}"
    print(f"group {skipped.group} on {where}: moved from {skipped.offset} to {skipped.next_offset} ({skipped.error})")
    return 0


async def _contract_export(args: argparse.Namespace, _: Context) -> int:
    written = schemas.export(args.folder)
    print(f"{len(written)} schema(s) in {args.folder}")
    return 0


async def _contract_check(args: argparse.Namespace, _: Context) -> int:
    problems = schemas.check_against(args.release)
    for problem in problems:
        print(problem)
    print("compatible" if not problems else f"{len(problems)} incompatibility(ies) with {args.release}")
    return 1 if problems else 0


async def _report(args: argparse.Namespace, _: Context) -> int:
    return await report_command.run(args)


_HANDLERS = {
    ("contract", "export"): _contract_export,
    ("contract", "check"): _contract_check,
    ("topics", "create"): _topics_create,
    ("topics", "check"): _topics_check,
    ("db", "bootstrap"): _db_bootstrap,
    ("db", "migrate"): _db_migrate,
    ("send", None): _send,
    ("tail", None): _tail,
    ("status", None): _status,
    ("dlq", "list"): _dlq_list,
    ("dlq", "replay"): _dlq_replay,
    ("outbox", None): _outbox,
    ("outbox", "replay"): _outbox_replay,
    ("consumer", "skip-batch"): _consumer_skip_batch,
    ("report", None): _report,
}


def main(argv: Sequence[str] | None, *, services: Sequence[Descriptor]) -> int:
    args = build_parser().parse_args(argv)
    with failures.library_lines() as held:
        try:
            return asyncio.run(run(args, services))
        except KeyboardInterrupt:
            return 130
        except Exception as error:
            failure = failures.explain(error, kafka=_bootstrap_servers(args), reason=held.last)
            if failure is None:
                raise
            print(f"programme: {failure.message}", file=sys.stderr)
            return failure.exit_code


def _bootstrap_servers(args: argparse.Namespace) -> str:
    """The broker a failed command was pointed at, for its error line."""
    if args.bootstrap_servers:
        return str(args.bootstrap_servers)
    try:
        return OperatorSettings().kafka_bootstrap_servers
    except ValueError:
        return "the configured broker"
