"""The metrics the code exports (read from shared/metrics.py) and the ones a PromQL expression reads."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import promql_parser
from prometheus_client import CollectorRegistry, ProcessCollector

METRICS_MODULE = Path(__file__).resolve().parents[2] / "shared" / "metrics.py"

# The sample names prometheus_client writes for each kind of metric it is given the name of.
_SUFFIXES = {
    "Counter": ("_total", "_created"),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count", "_created"),
    "Summary": ("", "_sum", "_count", "_created"),
}
# Labels Prometheus itself puts on every scraped series.
TARGET_LABELS = frozenset({"instance", "job"})
# Grafana's variables, replaced by values PromQL accepts before parsing.
_GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$service": ".*"}


@cache
def exported() -> dict[str, frozenset[str]]:
    """Every sample name the code can export, with its label names, as shared/metrics.py declares them."""
    tree = ast.parse(METRICS_MODULE.read_text(encoding="utf-8"))
    constants = {
        target.id: node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    names: dict[str, frozenset[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        kind = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if kind == "ProcessCollector":
            names.update(_process_collector_names())
        if kind not in _SUFFIXES:
            continue
        arguments = _arguments(node, ("name", "documentation", "labelnames"))
        name = _literal(arguments["name"], constants)
        labels = _literal(arguments["labelnames"], constants) if "labelnames" in arguments else ()
        base = re.sub(r"_total$", "", str(name)) if kind == "Counter" else str(name)
        for suffix in _SUFFIXES[kind]:
            names[base + suffix] = frozenset(labels) | ({"le"} if suffix == "_bucket" else set())
    return names


def _arguments(call: ast.Call, positional: tuple[str, ...]) -> dict[str, ast.expr]:
    found: dict[str, ast.expr] = dict(zip(positional, call.args, strict=False))
    found.update({keyword.arg: keyword.value for keyword in call.keywords if keyword.arg})
    return found


def _literal(node: ast.expr, constants: dict[str, ast.expr]) -> Any:
    if isinstance(node, ast.Name) and node.id in constants:
        return _literal(constants[node.id], constants)
    return ast.literal_eval(node)


def _process_collector_names() -> dict[str, frozenset[str]]:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    return {sample.name: frozenset(sample.labels) for family in registry.collect() for sample in family.samples}


@dataclass
class Reads:
    """What one expression reads: metric names, the labels it selects on each, and the labels it groups by."""

    selected: dict[str, set[str]] = field(default_factory=dict)
    grouped: set[str] = field(default_factory=set)


def reads(expression: str) -> Reads:
    for variable, value in _GRAFANA_VARIABLES.items():
        expression = expression.replace(variable, value)
    found = Reads()
    _walk(promql_parser.parse(expression), found)
    return found


def _walk(node: Any, found: Reads) -> None:
    if isinstance(node, promql_parser.VectorSelector):
        assert node.name, f"a selector without a metric name: {node}"
        matchers = [*node.matchers.matchers, *(m for group in node.matchers.or_matchers for m in group)]
        found.selected.setdefault(node.name, set()).update(m.name for m in matchers if m.name != "__name__")
        return
    if isinstance(node, promql_parser.MatrixSelector):
        _walk(node.vector_selector, found)
        return
    if isinstance(node, promql_parser.AggregateExpr):
        if node.modifier is not None:
            found.grouped.update(node.modifier.labels)
        _walk(node.expr, found)
        if node.param is not None:
            _walk(node.param, found)
        return
    if isinstance(node, promql_parser.BinaryExpr):
        if node.modifier is not None:
            if node.modifier.matching is not None:
                found.grouped.update(node.modifier.matching.labels)
            found.grouped.update(node.modifier.group_labels or [])
        _walk(node.lhs, found)
        _walk(node.rhs, found)
        return
    if isinstance(node, promql_parser.Call):
        for argument in node.args:
            _walk(argument, found)
        return
    if isinstance(node, (promql_parser.ParenExpr, promql_parser.SubqueryExpr, promql_parser.UnaryExpr)):
        _walk(node.expr, found)
