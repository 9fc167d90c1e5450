"""The report as one self-contained HTML page: its charts drawn here as inline SVG, its tables beneath.

No script, no stylesheet or font from elsewhere: the page opens the same offline, in a mail
attachment or years later. Every drawn figure (a bar, a point) is an SVG element of class `mark`.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from shared.cli.report import Report, Table, number
from shared.cli.report_tables import cell

WIDTH = 760
BAR = 14
GAP = 6
LABEL_W = 230
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
_STYLE = """body{font:14px system-ui,sans-serif;margin:2em;color:#222;max-width:60em}
figure{margin:2em 0}figcaption{font-weight:600;margin-bottom:.5em}svg text{font-size:12px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px}td.n{text-align:right}"""

Series = tuple[str, Sequence[float]]


def render(report: Report) -> str:
    tables = report.tables
    months = tables["budget_by_month"].rows
    charts = [
        _figure(
            "budget-use",
            "Budget use through the year against the allocation (NOK)",
            _line(
                [str(row[0]) for row in months],
                [("used to date", [float(row[3]) for row in months]), ("allocated", [float(row[4]) for row in months])],
            ),
        ),
        _figure("demand", tables["demand"].title, _bars(*_columns(tables["demand"]))),
        _figure("path", tables["path"].title, _bars(*_columns(tables["path"]))),
        _figure("clusters", "Activity by cluster", _bars(*_columns(tables["clusters"], upto=4))),
        _figure("towns", "Activity by town", _bars(*_columns(tables["towns"]))),
        _figure("focus-areas", "Applications by focus area (NOK)", _bars(*_columns(tables["focus_areas"], start=2))),
        _figure("results", tables["results"].title, _bars(*_results(tables["results"]))),
    ]
    body = "\n".join(charts) + "\n" + "\n".join(_table(table) for table in tables.values())
    title = f"Programme report {report.year}"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_STYLE}</style></head>\n<body><h1>{title}</h1>\n{body}\n</body></html>\n"
    )


def _columns(table: Table, *, start: int = 1, upto: int | None = None) -> tuple[list[str], list[Series]]:
    labels = [str(row[0]) for row in table.rows]
    chosen = range(start, upto or len(table.columns))
    return labels, [(table.columns[i], [float(row[i]) for row in table.rows]) for i in chosen]


def _results(table: Table) -> tuple[list[str], list[Series]]:
    """Each indicator whose target and result hold numbers: their sizes side by side (the text in the table)."""
    drawn = [
        (str(row[2]), abs(target), abs(achieved))
        for row in table.rows
        if (target := number(str(row[3]))) is not None and (achieved := number(str(row[4]))) is not None
    ]
    labels = [label for label, _, _ in drawn]
    return labels, [("target", [t for _, t, _ in drawn]), ("achieved", [a for _, _, a in drawn])]


def _figure(chart_id: str, caption: str, svg: str) -> str:
    return f'<figure class="chart" id="{chart_id}"><figcaption>{escape(caption)}</figcaption>{svg}</figure>'


def _bars(labels: Sequence[str], series: Sequence[Series]) -> str:
    """Horizontal bars, one group per label and one bar per series, scaled to the largest value."""
    if not labels:
        return '<svg width="400" height="30"><text x="0" y="20">no figures for this year</text></svg>'
    top = max((value for _, values in series for value in values), default=0.0) or 1.0
    group = len(series) * BAR + GAP * 2
    legend = 22
    height = legend + group * len(labels)
    room = WIDTH - LABEL_W - 90
    parts = [_legend([name for name, _ in series])]
    for i, label in enumerate(labels):
        y0 = legend + i * group
        parts.append(f'<text x="0" y="{y0 + group / 2 + 4:.0f}">{escape(label[:34])}</text>')
        for j, (name, values) in enumerate(series):
            width = max(values[i] / top * room, 1.0)
            y = y0 + GAP + j * BAR
            parts.append(
                f'<rect class="mark" x="{LABEL_W}" y="{y}" width="{width:.1f}" height="{BAR - 2}" '
                f'fill="{COLOURS[j % len(COLOURS)]}"><title>{escape(name)}: {cell(values[i])}</title></rect>'
                f'<text x="{LABEL_W + width + 4:.1f}" y="{y + BAR - 3}">{cell(_whole(values[i]))}</text>'
            )
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}">{"".join(parts)}</svg>'


def _line(labels: Sequence[str], series: Sequence[Series]) -> str:
    """Lines over the labels (months), each point a mark, scaled to the largest value."""
    height, left, bottom, top_margin = 260, 90, 30, 26
    top = max((value for _, values in series for value in values), default=0.0) or 1.0
    step = (WIDTH - left - 20) / max(len(labels) - 1, 1)
    plot = height - bottom - top_margin

    def y(value: float) -> float:
        return top_margin + plot - value / top * plot

    parts = [_legend([name for name, _ in series])]
    parts.append(f'<text x="0" y="{top_margin + 10}">{cell(_whole(top))}</text><text x="0" y="{y(0):.0f}">0</text>')
    for i, label in enumerate(labels):
        parts.append(f'<text x="{left + i * step - 4:.1f}" y="{height - 8}">{escape(label)}</text>')
    for j, (name, values) in enumerate(series):
        colour = COLOURS[j % len(COLOURS)]
        points = " ".join(f"{left + i * step:.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        parts.extend(
            f'<circle class="mark" cx="{left + i * step:.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
            f"<title>{escape(name)} {escape(labels[i])}: {cell(_whole(v))}</title></circle>"
            for i, v in enumerate(values)
        )
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}">{"".join(parts)}</svg>'


def _legend(names: Sequence[str]) -> str:
    return "".join(
        f'<rect x="{LABEL_W + i * 150}" y="2" width="10" height="10" fill="{COLOURS[i % len(COLOURS)]}"/>'
        f'<text x="{LABEL_W + i * 150 + 14}" y="12">{escape(name)}</text>'
        for i, name in enumerate(names)
    )


def _whole(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in table.columns)
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell(value)}</td>' if isinstance(value, int | float) else f"<td>{escape(str(value))}</td>"
            for value in row
        )
        + "</tr>"
        for row in table.rows
    )
    return f"<h2>{escape(table.title)}</h2><table><tr>{head}</tr>{rows}</table>"
