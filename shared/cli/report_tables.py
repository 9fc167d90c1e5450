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
    lines = [f"\n{table.title}", "  " + "  ".join(c.ljust(w) for c, w in zip(table.columns, widths, strict=True))]
    for raw, row in zip(table.rows, rows, strict=True):
        cells = (
            shown.rjust(width) if isinstance(value, int | float) else shown.ljust(width)
            for value, shown, width in zip(raw, row, widths, strict=True)
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
