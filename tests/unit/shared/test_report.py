"""The yearly report from known look-up answers: its tables, CSV files and the page's charts as Chromium draws them."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from shared.cli import report_html, report_tables
from shared.cli.report import Clients, Report, gather
from shared.cli.report_lookups import LookupClient
from tests.chromium import chart_marks

YEAR = 2027
COMPLETED = "00000000-0000-4000-8000-00000000000a"


def _application(app_id: str, status: str, cluster: str, requested: int, approved: int | None, **more: Any) -> Any:
    return {
        "application_id": app_id,
        "title": f"Project {app_id[-1]}",
        "lead_cluster": cluster,
        "status": status,
        "requested_nok": requested,
        "approved_nok": approved,
        "ready_at": "2027-02-01T10:00:00+00:00",
        "focus_areas": more.get("focus_areas", []),
    }


def _workshop(kind: str, cluster: str, town: str, *, attended: int, companies: int, **more: Any) -> Any:
    return {
        "kind": kind,
        "hosting_cluster": cluster,
        "town": town,
        "past": more.get("past", True),
        "cancelled_at": more.get("cancelled_at"),
        "attended": attended,
        "companies_attended": companies,
    }


ANSWERS: dict[str, Any] = {
    f"/v1/budgets/{YEAR}": {
        "allocated_nok": 5_000_000,
        "granted_nok": 1_800_000,
        "released_nok": 200_000,
        "paid_nok": 900_000,
        "remaining_nok": 3_400_000,
        "grants": 2,
        "months": [
            {"month": 3, "granted_nok": 1_000_000, "released_nok": 0},
            {"month": 6, "granted_nok": 800_000, "released_nok": 200_000},
        ],
    },
    "/v1/applications": [
        _application(COMPLETED, "completed", "nce-raufoss", 1_000_000, 1_000_000, focus_areas=["digitalisation"]),
        _application(
            "00000000-0000-4000-8000-00000000000b",
            "approved",
            "nce-x",
            900_000,
            800_000,
            focus_areas=["digitalisation", "system_innovation"],
        ),
        _application("00000000-0000-4000-8000-00000000000c", "declined", "nce-x", 500_000, None),
    ],
    "/v1/workshops": [
        _workshop("clarification", "nce-raufoss", "Raufoss", attended=3, companies=2),
        _workshop("competence", "nce-x", "Oslo", attended=4, companies=4),
        _workshop("competence", "nce-x", "Oslo", attended=2, companies=2),
        _workshop("competence", "nce-x", "Oslo", attended=0, companies=0, cancelled_at="2027-03-01T00:00:00Z"),
        _workshop("clarification", "nce-x", "Bergen", attended=0, companies=0, past=False),
    ],
    # Companies counted once per place: nce-x's two workshops reached 5 companies, not 4 + 2.
    "/v1/activity": {
        "clusters": [
            {"name": "nce-raufoss", "workshops_held": 1, "participants": 3, "companies": 2},
            {"name": "nce-x", "workshops_held": 2, "participants": 6, "companies": 5},
        ],
        "towns": [
            {"name": "Oslo", "workshops_held": 2, "participants": 6, "companies": 5},
            {"name": "Raufoss", "workshops_held": 1, "participants": 3, "companies": 2},
        ],
    },
    f"/v1/applications/{COMPLETED}": {
        "history": [
            {"type": "applications.ApplicationSubmitted.v1", "data": {}},
            {
                "type": "applications.FinalReportAccepted.v1",
                "data": {
                    "results": [
                        {"indicator": "unplanned stops", "target": "-50 %", "achieved": "-55 %"},
                        {"indicator": "culture", "target": "better", "achieved": "much better"},
                    ]
                },
            },
        ]
    },
}


class Canned(LookupClient):
    """A look-up client answering from ANSWERS, one page per list: what the services would have said."""

    async def get(self, path: str, query: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        answer = ANSWERS.get(path)
        if isinstance(answer, list):
            return {"items": answer, "next_cursor": None}
        return answer


@pytest.fixture
async def report() -> Report:
    canned = Canned("http://unused", "token")
    return await gather(YEAR, Clients(canned, canned, canned))


def rows(report: Report, table: str) -> list[tuple[Any, ...]]:
    return report.tables[table].rows


async def test_the_tables_add_up_the_look_ups_answers(report: Report) -> None:
    assert dict(rows(report, "summary")) == {
        "budget allocated (NOK)": 5_000_000,
        "granted (NOK)": 1_800_000,
        "released back (NOK)": 200_000,
        "paid (NOK)": 900_000,
        "remaining (NOK)": 3_400_000,
        "grants": 2,
        "applications submitted": 3,
        "requested (NOK)": 2_400_000,
        "workshops scheduled": 4,
        "workshops held": 3,
        "participants": 9,
    }
    assert rows(report, "budget_by_month")[2:6] == [
        (3, 1_000_000, 0, 1_000_000, 5_000_000),
        (4, 0, 0, 1_000_000, 5_000_000),
        (5, 0, 0, 1_000_000, 5_000_000),
        (6, 800_000, 200_000, 1_600_000, 5_000_000),
    ]
    assert rows(report, "budget_by_month")[-1] == (12, 0, 0, 1_600_000, 5_000_000)
    assert dict(rows(report, "demand")) == {
        "requested": 2_400_000,
        "granted": 1_800_000,
        "declined": 500_000,
        "not decided (incl. refused for lack of budget)": 0,
        "budget allocated": 5_000_000,
    }
    assert rows(report, "path") == [
        ("clarification (attended)", 3),
        ("application", 3),
        ("ready for decision", 3),
        ("granted", 2),
        ("completed", 1),
    ]
    assert rows(report, "clusters") == [("nce-raufoss", 1, 3, 2, 1, 1_000_000), ("nce-x", 2, 6, 5, 2, 800_000)]
    assert rows(report, "towns") == [("Oslo", 2, 6, 5), ("Raufoss", 1, 3, 2)]
    assert rows(report, "focus_areas") == [
        ("digitalisation", 2, 1_900_000, 1_800_000),
        ("system_innovation", 1, 900_000, 800_000),
    ]
    assert rows(report, "results") == [
        (COMPLETED, "Project a", "unplanned stops", "-50 %", "-55 %"),
        (COMPLETED, "Project a", "culture", "better", "much better"),
    ]


async def test_the_printed_table_shows_each_table_with_its_figures(report: Report) -> None:
    printed = report_tables.text(report)

    assert printed.startswith(f"Programme report {YEAR}")
    for table in report.tables.values():
        assert table.title in printed
    assert "  budget allocated (NOK)  5 000 000" in printed
    assert "  Raufoss  " in printed


async def test_the_csv_files_hold_each_table_with_its_header(report: Report, tmp_path: Path) -> None:
    written = report_tables.write_csv(report, tmp_path / "csv")

    assert sorted(path.name for path in written) == sorted(f"{name}-{YEAR}.csv" for name in report.tables)
    with (tmp_path / "csv" / f"towns-{YEAR}.csv").open(encoding="utf-8") as file:
        assert list(csv.reader(file)) == [
            ["town", "workshops_held", "participants", "companies"],
            ["Oslo", "2", "6", "5"],
            ["Raufoss", "1", "3", "2"],
        ]


async def test_chromium_draws_every_chart_of_the_page(report: Report, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(report_html.render(report), encoding="utf-8")

    marks = chart_marks(page)

    # 12 months x 2 lines; 5 demand bars; 5 path stages; 2 clusters x 3; 2 towns x 3; 2 areas x 2;
    # one numeric result x (target, achieved): the other result's text only in the table.
    assert marks == {
        "budget-use": 24,
        "demand": 5,
        "path": 5,
        "clusters": 6,
        "towns": 6,
        "focus-areas": 4,
        "results": 2,
    }
    assert "http" not in page.read_text(encoding="utf-8").replace('xmlns="http://www.w3.org/2000/svg"', "")
