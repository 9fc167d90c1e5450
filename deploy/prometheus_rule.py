"""Writes deploy/k8s/prometheus-rule.yaml, the Prometheus Operator's copy of deploy/prometheus/alerts.yml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deploy import generated

ROOT = Path(__file__).resolve().parents[1]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMETHEUS_RULE = ROOT / "deploy" / "k8s" / "prometheus-rule.yaml"

HEADER = """\
# GENERATED from deploy/prometheus/alerts.yml by `make generated` (python -m deploy.prometheus_rule):
# edit alerts.yml, not this file; tests/deploy/test_monitoring.py fails when the two differ.
# Needs the Prometheus Operator (monitoring.coreos.com/v1); see docs/operations/monitoring.md.
"""


class _BlockStyleDumper(yaml.SafeDumper):
    """Multi-line strings (the longer expressions) as literal blocks, as alerts.yml writes them."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BlockStyleDumper.add_representer(str, _represent_text)


def render(alerts: Path = ALERTS) -> str:
    groups: Any = yaml.safe_load(alerts.read_text(encoding="utf-8"))["groups"]
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "programme",
            "namespace": "programme",
            "labels": {"app.kubernetes.io/name": "programme", "app.kubernetes.io/component": "alerts"},
        },
        "spec": {"groups": groups},
    }
    body = yaml.dump(rule, Dumper=_BlockStyleDumper, sort_keys=False, width=10_000, allow_unicode=True)
    return HEADER + body


if __name__ == "__main__":
    generated.main(PROMETHEUS_RULE, render, __doc__)
