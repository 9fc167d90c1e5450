"""Alert rules, dashboard and scrape set-up: promtool passes them, they read what the code exports, and agree."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.local.services import PORTS
from deploy.prometheus_rule import ALERTS, PROMETHEUS_RULE, render
from shared.topics import SERVICES
from tests.deploy.metric_names import TARGET_LABELS, Reads, exported, reads
from tests.deploy.support import ROOT, by_kind, load_compose, load_k8s

ALERT_TESTS = ALERTS.with_name("alerts.test.yml")
SCRAPE_CONFIG = ALERTS.with_name("prometheus.yml")
DASHBOARD = ROOT / "deploy" / "grafana" / "programme.json"
GRAFANA_PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"

# What issue 15 asks an operator be warned of, each by its own rule.
WANTED_ALERTS = {
    "ProgrammeServiceNotReady",
    "ProgrammeDeadLettersArriving",
    "ProgrammeRelayStalled",
    "ProgrammeOutboxBacklogGrowing",
    "ProgrammeConsumerLagGrowing",
    "ProgrammePassingFaultsPersisting",
    "ProgrammePartitionHeld",
    "ProgrammeOutboxRowsParked",
}
# What the dashboard shows: throughput by type and outcome, latency, lag, backlog, parked rows,
# held partitions, dead letters and memory per service.
WANTED_ON_DASHBOARD = {
    "programme_messages_in_total",
    "programme_messages_out_total",
    "programme_handler_seconds_bucket",
    "programme_consumer_lag",
    "programme_outbox_backlog",
    "programme_outbox_parked",
    "programme_partition_held",
    "programme_dlq_records_total",
    "process_resident_memory_bytes",
}


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel.get("targets", [])]
    variables = [
        (f"variable {variable['name']}", variable["definition"].removeprefix("label_values(").split(",")[0])
        for variable in dashboard["templating"]["list"]
        if variable["type"] == "query"
    ]
    return queries + variables


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool runs the alert rules' unit tests: apt-get install prometheus (Debian's package)"
    return found


def test_alert_rules_are_valid_for_promtool(promtool: str) -> None:
    done = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], check=False, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_alert_rules_pass_their_unit_tests(promtool: str) -> None:
    done = subprocess.run(
        [promtool, "test", "rules", ALERT_TESTS.name],
        cwd=ALERT_TESTS.parent,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_is_wanted_and_has_a_test_where_it_fires_and_one_where_it_does_not() -> None:
    alerts = {rule["alert"] for rule in _rules()}
    assert alerts >= WANTED_ALERTS
    cases = [
        case
        for test in yaml.safe_load(ALERT_TESTS.read_text(encoding="utf-8"))["tests"]
        for case in test["alert_rule_test"]
    ]
    fires = {case["alertname"] for case in cases if case["exp_alerts"]}
    quiet = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert alerts - fires == set(), "alerts no test sees firing"
    assert alerts - quiet == set(), "alerts no test sees staying quiet"
    for rule in _rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), rule["alert"]


def test_every_alert_has_its_runbook_section() -> None:
    page = (ROOT / "docs" / "operations" / "monitoring.md").read_text(encoding="utf-8")
    headings = {line.lstrip("#").strip().lower() for line in page.splitlines() if line.startswith("#")}
    for rule in _rules():
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert rule["annotations"]["runbook"].startswith("docs/operations/monitoring.md#")
        assert anchor in headings, f"{rule['alert']}: monitoring.md has no heading {anchor}"


def _assert_reads_only_what_the_code_exports(where: str, used: Reads) -> None:
    names = exported()
    unknown = set(used.selected) - set(names)
    assert not unknown, f"{where}: {sorted(unknown)} are not exported by shared/metrics.py"
    available = set(TARGET_LABELS)
    for metric, labels in used.selected.items():
        assert labels <= names[metric] | TARGET_LABELS, (
            f"{where}: {metric} has no label {sorted(labels - names[metric])}"
        )
        available |= names[metric]
    assert used.grouped <= available, f"{where}: grouped by {sorted(used.grouped - available)}, which no series has"


@pytest.mark.parametrize("rule", _rules(), ids=lambda rule: rule["alert"])
def test_alert_rule_reads_only_metrics_and_labels_the_code_exports(rule: dict[str, Any]) -> None:
    _assert_reads_only_what_the_code_exports(rule["alert"], reads(rule["expr"]))


@pytest.mark.parametrize(("panel", "expression"), _dashboard_queries(), ids=lambda value: str(value)[:60])
def test_dashboard_query_reads_only_metrics_and_labels_the_code_exports(panel: str, expression: str) -> None:
    _assert_reads_only_what_the_code_exports(panel, reads(expression))


def test_the_metric_check_catches_a_name_the_code_does_not_export() -> None:
    with pytest.raises(AssertionError, match="programme_messages_total"):
        _assert_reads_only_what_the_code_exports("made up", reads("rate(programme_messages_total[5m])"))
    with pytest.raises(AssertionError, match="colour"):
        _assert_reads_only_what_the_code_exports("made up", reads("sum by (colour) (programme_outbox_backlog)"))


def test_dashboard_shows_what_operators_watch() -> None:
    shown: set[str] = set()
    for _, expression in _dashboard_queries():
        shown |= set(reads(expression).selected)
    assert shown >= WANTED_ON_DASHBOARD, f"not on the dashboard: {sorted(WANTED_ON_DASHBOARD - shown)}"
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "programme"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}", "every query follows the data source variable"


def test_kubernetes_prometheus_rule_is_generated_from_the_alert_rules() -> None:
    assert PROMETHEUS_RULE.read_text(encoding="utf-8") == render(), "stale: make generated"
    rule = yaml.safe_load(PROMETHEUS_RULE.read_text(encoding="utf-8"))
    assert rule["spec"]["groups"] == yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]


def test_kubernetes_service_monitor_scrapes_each_service_where_it_serves_metrics() -> None:
    documents = load_k8s()
    monitors = by_kind(documents, "ServiceMonitor")
    assert set(monitors) == {"programme"}
    assert set(by_kind(documents, "PrometheusRule")) == {"programme"}
    monitor = monitors["programme"]["spec"]
    selected = {
        name
        for name, service in by_kind(documents, "Service").items()
        if service["metadata"]["labels"].items() >= monitor["selector"]["matchLabels"].items()
    }
    assert selected == set(SERVICES)
    (endpoint,) = monitor["endpoints"]
    for service in SERVICES:
        ports = {port["name"] for port in by_kind(documents, "Service")[service]["spec"]["ports"]}
        assert endpoint["port"] in ports
        annotations = by_kind(documents, "Deployment")[service]["spec"]["template"]["metadata"]["annotations"]
        assert endpoint["path"] == annotations["prometheus.io/path"]


def test_compose_observability_profile_scrapes_the_services_and_loads_rules_and_dashboard() -> None:
    compose = load_compose()
    prometheus = compose["services"]["prometheus"]
    mounts = dict(volume.split(":")[:2] for volume in prometheus["volumes"] if volume.startswith("./"))
    assert (ROOT / _mount_source(mounts, "prometheus.yml")).resolve() == SCRAPE_CONFIG
    assert (ROOT / _mount_source(mounts, "alerts.yml")).resolve() == ALERTS
    config = yaml.safe_load(SCRAPE_CONFIG.read_text(encoding="utf-8"))
    assert config["rule_files"] == [mounts[_mount_source(mounts, "alerts.yml")]]
    targets = {
        target for job in config["scrape_configs"] for static in job["static_configs"] for target in static["targets"]
    }
    assert targets == {f"{service}:{PORTS[service]}" for service in SERVICES}
    assert all(job.get("metrics_path", "/metrics") == "/metrics" for job in config["scrape_configs"])

    grafana = compose["services"]["grafana"]
    grafana_mounts = dict(volume.split(":")[:2] for volume in grafana["volumes"] if volume.startswith("./"))
    assert (ROOT / _mount_source(grafana_mounts, "programme.json")).resolve() == DASHBOARD
    provider = yaml.safe_load((GRAFANA_PROVISIONING / "dashboards" / "programme.yml").read_text(encoding="utf-8"))
    assert Path(grafana_mounts[_mount_source(grafana_mounts, "programme.json")]).parent == Path(
        provider["providers"][0]["options"]["path"]
    )
    datasource = yaml.safe_load((GRAFANA_PROVISIONING / "datasources" / "prometheus.yml").read_text(encoding="utf-8"))
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    assert grafana_mounts[_mount_source(grafana_mounts, "provisioning")] == "/etc/grafana/provisioning"


def _mount_source(mounts: dict[str, str], ending: str) -> str:
    """The host path of the bind mount whose host path ends so."""
    return next(source for source in mounts if source.endswith(ending))
