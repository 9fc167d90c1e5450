"""`programme report --year Y`: the yearly report gathered from the look-ups, printed, and as CSV and HTML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared.cli import report_html, report_tables
from shared.cli.report import Clients, gather
from shared.cli.report_lookups import LookupClient, LookupUnavailableError, ReportSettings

UNREACHABLE = 3


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report",
        help="the yearly programme report from the services' look-ups: a table, CSV files, an HTML page with charts",
        epilog="Services: PROGRAMME_APPLICATIONS_URL, _WORKSHOPS_URL, _FUNDING_URL (default the local ports "
        "8081-8083); token: PROGRAMME_LOOKUP_TOKEN (local development's own when PROGRAMME_ENVIRONMENT is local).",
    )
    report.add_argument("--year", type=int, required=True, help="the programme year (Europe/Oslo)")
    report.add_argument("--csv", type=Path, metavar="DIR", help="write each table as DIR/<table>-<year>.csv")
    report.add_argument("--html", type=Path, metavar="FILE", help="write one self-contained page with charts")
    report.add_argument("--token", help="a look-up bearer token (else PROGRAMME_LOOKUP_TOKEN)")


async def run(args: argparse.Namespace) -> int:
    settings = ReportSettings()
    token = args.token or settings.token()
    clients = Clients(
        LookupClient(settings.applications_url, token),
        LookupClient(settings.workshops_url, token),
        LookupClient(settings.funding_url, token),
    )
    try:
        report = await gather(args.year, clients)
    except LookupUnavailableError as error:
        print(f"programme: {error}", file=sys.stderr)
        return UNREACHABLE
    print(report_tables.text(report))
    if args.csv is not None:
        written = report_tables.write_csv(report, args.csv)
        print(f"\n{len(written)} CSV file(s) in {args.csv}")
    if args.html is not None:
        args.html.write_text(report_html.render(report), encoding="utf-8")
        print(f"the page with charts: {args.html}")
    return 0
