"""The first fetch of Kafka's jars shows each artifact Maven downloads, instead of minutes of silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.local import host, kafka

JAR_URL = "https://repo.maven.apache.org/maven2/org/apache/kafka/kafka_2.13/9.9.9/kafka_2.13-9.9.9.jar"
# What Maven 3.8 prints in batch mode (-B) for one artifact, around its other lines.
FAKE_MAVEN = f"""#!/bin/sh
for arg in "$@"; do
    case "$arg" in -DoutputDirectory=*) out="${{arg#-DoutputDirectory=}}" ;; esac
done
echo "[INFO] Scanning for projects..."
echo "[INFO] Downloading from central: {JAR_URL}"
echo "[INFO] Downloaded from central: {JAR_URL} (6.6 MB at 5.1 MB/s)"
echo "[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/x/x/1/x-1.pom (2.1 kB at 20 kB/s)"
if [ -n "$FAIL" ]; then echo "[ERROR] Could not resolve dependencies for project"; exit 1; fi
mkdir -p "$out"
: > "$out/kafka_2.13-9.9.9.jar"
"""


@pytest.fixture
def libs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    maven = bin_folder / "mvn"
    maven.write_text(FAKE_MAVEN)
    maven.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_folder}:/usr/bin:/bin")
    target = tmp_path / "kafka" / "libs"
    monkeypatch.setattr(kafka, "KAFKA_LIBS", target)
    monkeypatch.setattr(kafka, "KAFKA_LIBS_MARKER", target / ".complete")
    return target


def test_each_downloaded_artifact_is_a_line(libs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kafka.fetch_kafka_jars()
    shown = capsys.readouterr().err.splitlines()
    assert "[infra] maven: kafka_2.13-9.9.9.jar (6.6 MB at 5.1 MB/s)" in shown
    assert "[infra] maven: x-1.pom (2.1 kB at 20 kB/s)" in shown
    assert "[infra] maven: 2 artifact(s) downloaded" in shown
    assert not any("Downloading from" in line or "Scanning" in line for line in shown)
    assert (libs / "kafka_2.13-9.9.9.jar").is_file()
    assert kafka.kafka_jars_fetched()
    assert not kafka.fetch_kafka_jars()  # fetched once


def test_a_failed_fetch_says_why_and_leaves_no_libs(libs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAIL", "1")
    with pytest.raises(host.InfraError, match=r"(?s)exit 1.*Could not resolve dependencies"):
        kafka.fetch_kafka_jars()
    assert not libs.exists()
