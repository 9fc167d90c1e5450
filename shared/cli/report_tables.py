"""The report's tables as text for the terminal and as CSV files, one per table."""

from __future__ import annotations

import csv
from pathlib import Path

from shared.cli.report import Cell, Report, Table


def text(report: Report) -> str:
    """Every table, its title above, columns aligned; numbers right-aligned with thousands spaced."""
    return "\n".join([f"Programme report {report.year}", *(_table_text(t) for t in report.tables.values())])


def _table_text(table: Table) -> str:
    rows = [tuple(cell(value) for value in row) for row in table.rows]
    widths = [max(len(row[i]) for row in [table.columns, *rows]) for i in range(len(table.columns))]
    # A column of figures is right-aligned, its header with it.
    numeric = [
        bool(table.rows) and all(isinstance(row[i], int | float) for row in table.rows) for i in range(len(widths))
    ]
    lines = [f"\n{table.title}"]
    for row in [table.columns, *rows]:
        cells = (
            text.rjust(width) if right else text.ljust(width)
            for text, width, right in zip(row, widths, numeric, strict=True)
        )
        lines.append("  " + "  ".join(cells))
    if not table.rows:
        lines.append("  (none)")
    return "\n".join(line.rstrip() for line in lines)


def write_csv(report: Report, folder: Path) -> list[Path]:
    """One CSV per table in `folder` (created if missing), raw figures, a header row first."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in report.tables.values():
        path = folder / f"{table.name}-{report.year}.csv"
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(table.columns)
            writer.writerows(table.rows)
        written.append(path)
    return written


def cell(value: Cell) -> str:
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    return str(value)
