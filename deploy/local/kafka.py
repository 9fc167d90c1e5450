"""The local Kafka broker: one KRaft node from Apache's jars on Maven Central, on 127.0.0.1 only.

The jars are fetched once into ``.cache/kafka/libs``; the data lives under ``.local/kafka``.
The port comes from the argument, else ``PROGRAMME_KAFKA_PORT``, else 9092 (and the port
after it for the KRaft controller).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import shutil
import subprocess
import time
import uuid
from collections import deque
from string import Template
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped,unused-ignore]

from deploy.local import host

KAFKA_POM = host.TEMPLATES / "kafka-pom.xml"
KAFKA_LIBS = host.CACHE_DIR / "kafka" / "libs"
KAFKA_LIBS_MARKER = KAFKA_LIBS / ".complete"
KAFKA_DIR = host.LOCAL_DIR / "kafka"
KAFKA_DATA = KAFKA_DIR / "data"
KAFKA_PROPS = KAFKA_DIR / "server.properties"
KAFKA_LOG4J = KAFKA_DIR / "log4j2.properties"
KAFKA_LOG = KAFKA_DIR / "kafka.log"
KAFKA_CLUSTER_ID = KAFKA_DIR / "cluster-id"
KAFKA_PID = host.RUN_DIR / "kafka.pid"
KAFKA_PORT_FILE = host.RUN_DIR / "kafka.port"
KAFKA_MAIN_CLASS = "kafka.Kafka"
# Maven's line per artifact in batch mode: "[INFO] Downloaded from central: https://.../name.jar (1.2 MB at 3.4 MB/s)".
_MAVEN_DOWNLOADED = re.compile(r"Downloaded from \S+: \S*/(?P<file>[^/\s]+)(?: (?P<size>\(.*\)))?")

DEFAULT_KAFKA_PORT = 9092
KAFKA_PORT_ENV = "PROGRAMME_KAFKA_PORT"
KAFKA_READY_TIMEOUT_S = 90.0
MIN_JAVA = 17
CLUSTER_ID_LENGTH = 22

KAFKA_JVM_OPTIONS = (
    "-Xms256m",
    "-Xmx768m",
    # On 2 cores G1's concurrent threads compete with the broker; serial GC is enough here.
    "-XX:+UseSerialGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)


def kafka_port(port: int | None = None) -> int:
    """The PLAINTEXT port to use: the argument, else $PROGRAMME_KAFKA_PORT, else 9092."""
    return host.resolve_port(port, KAFKA_PORT_ENV, DEFAULT_KAFKA_PORT)


def kafka_bootstrap(port: int) -> str:
    return f"127.0.0.1:{port}"


def require_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise host.MissingPrerequisiteError(
            "java not found: install openjdk-17-jre-headless (apt-get install openjdk-17-jre-headless)"
        )
    probe = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    first = (probe.stderr or probe.stdout).splitlines()[:1]
    version = first[0].split('"')[1] if first and '"' in first[0] else ""
    major = version.split(".")[0]
    if major.isdigit() and int(major) < MIN_JAVA:
        raise host.MissingPrerequisiteError(
            f"Kafka 4.x needs Java 17 or newer, found {version}: install openjdk-17-jre-headless"
        )
    return java


def require_maven() -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise host.MissingPrerequisiteError("mvn not found: install maven (apt-get install maven)")
    return mvn


def _pom_digest() -> str:
    return hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest()


def kafka_jars_fetched() -> bool:
    return KAFKA_LIBS_MARKER.is_file() and KAFKA_LIBS_MARKER.read_text().strip() == _pom_digest()


def fetch_kafka_jars() -> bool:
    """Copy Kafka's runtime jars into .cache/kafka/libs unless that pom's jars are already there.

    Returns True when it fetched. The marker holds the pom's digest, so a version bump in the
    pom fetches again; the copy goes to a scratch folder first so a failed fetch leaves no
    half-filled libs folder behind.
    """
    if kafka_jars_fetched():
        return False
    mvn = require_maven()
    scratch = KAFKA_LIBS.with_name("libs.partial")
    shutil.rmtree(scratch, ignore_errors=True)
    host.say(f"fetching Kafka jars with Maven into {KAFKA_LIBS} (once; each download is shown)")
    command = [
        mvn, "-B", "-f", str(KAFKA_POM), "dependency:copy-dependencies",
        f"-DoutputDirectory={scratch}", "-DincludeScope=runtime",
    ]  # fmt: skip
    returncode, tail = _run_maven(command)
    if returncode != 0 or not any(scratch.glob("kafka_2.13-*.jar")):
        shown = "\n".join(tail)
        raise host.InfraError(f"Maven could not fetch Kafka's jars (exit {returncode}); its last lines:\n{shown}")
    shutil.rmtree(KAFKA_LIBS, ignore_errors=True)
    scratch.rename(KAFKA_LIBS)
    KAFKA_LIBS_MARKER.write_text(_pom_digest() + "\n")
    return True


def _run_maven(command: list[str]) -> tuple[int, list[str]]:
    """Run Maven, passing each artifact it downloads through as one line: a first fetch takes minutes.

    Returns its exit code and its last lines, which say why when it failed.
    """
    tail: deque[str] = deque(maxlen=host.LOG_TAIL_LINES)
    downloads = 0
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=host.REPO_ROOT
    ) as maven:
        assert maven.stdout is not None  # noqa: S101 - stdout=PIPE
        for raw in maven.stdout:
            line = raw.rstrip()
            tail.append(line)
            downloaded = _MAVEN_DOWNLOADED.search(line)
            if downloaded:
                downloads += 1
                host.say(f"maven: {downloaded['file']} {downloaded['size']}")
    if downloads:
        host.say(f"maven: {downloads} artifact(s) downloaded")
    return maven.returncode, list(tail)


def kafka_version() -> str | None:
    """The Kafka version in .cache/kafka/libs, if fetched."""
    for jar in sorted(KAFKA_LIBS.glob("kafka_2.13-*.jar")):
        return jar.name.removeprefix("kafka_2.13-").removesuffix(".jar")
    return None


def _new_cluster_id() -> str:
    # Kafka's Uuid: 16 random bytes as URL-safe base64 without padding (22 characters).
    # A leading '-' would be read by the StorageTool's argument parser as an option.
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate


def _cluster_id() -> str:
    # Stable across runs: the formatted data folder remembers the id it was formatted with.
    if KAFKA_CLUSTER_ID.is_file():
        existing = KAFKA_CLUSTER_ID.read_text().strip()
        if len(existing) == CLUSTER_ID_LENGTH and not existing.startswith("-"):
            return existing
    cluster_id = _new_cluster_id()
    host.write_text(KAFKA_CLUSTER_ID, cluster_id + "\n")
    return cluster_id


def _write_kafka_config(port: int) -> None:
    template = Template((host.TEMPLATES / "kafka-server.properties.tmpl").read_text())
    properties = template.substitute(port=port, controller_port=port + 1, data_dir=KAFKA_DATA.as_posix())
    host.write_text(KAFKA_PROPS, properties)
    shutil.copyfile(host.TEMPLATES / "kafka-log4j2.properties", KAFKA_LOG4J)


def _kafka_java_command(java: str, main_class: str, *args: str) -> list[str]:
    return [
        java,
        *KAFKA_JVM_OPTIONS,
        f"-Dlog4j2.configurationFile={KAFKA_LOG4J}",
        f"-Dkafka.logs.dir={KAFKA_DIR}",
        "-cp",
        f"{KAFKA_LIBS}/*",
        main_class,
        *args,
    ]


def _format_kafka_storage(java: str) -> None:
    command = _kafka_java_command(
        java, "kafka.tools.StorageTool", "format",
        "-t", _cluster_id(), "-c", str(KAFKA_PROPS), "--ignore-formatted",
    )  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=KAFKA_DIR)
    if result.returncode != 0:
        raise host.InfraError(
            f"formatting Kafka storage in {KAFKA_DATA} failed:\n{result.stdout}{result.stderr}\n"
            f"(if the cluster id changed, remove {KAFKA_DIR} and start again)"
        )


def kafka_pid() -> int | None:
    """The pid of our broker, if its pid file names a live process running our broker."""
    pid = host.read_int(KAFKA_PID)
    if pid is None or not host.alive(pid):
        return None
    command = host.cmdline(pid)
    # The pid may have been reused by an unrelated process since we wrote the file.
    if KAFKA_MAIN_CLASS in command and str(KAFKA_PROPS) in command:
        return pid
    return None


def kafka_running() -> bool:
    return kafka_pid() is not None


def running_kafka_port() -> int | None:
    """The port of the running broker, or of the last one started (None if never started)."""
    return host.read_int(KAFKA_PORT_FILE)


async def _kafka_controller(bootstrap: str) -> int | None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        cluster: dict[str, Any] = await admin.describe_cluster()
    finally:
        await admin.close()
    controller = cluster.get("controller_id")
    return controller if isinstance(controller, int) and controller >= 0 else None


def kafka_answers(bootstrap: str) -> bool:
    """True if an admin client gets an answer naming a controller (an open port is not enough)."""
    # aiokafka logs every refused connection; skip it until the broker listens at all.
    if not host.port_open(int(bootstrap.rsplit(":", 1)[1])):
        return False
    try:
        return host.run_async(asyncio.wait_for(_kafka_controller(bootstrap), 10)) is not None
    except Exception:  # noqa: BLE001 - any failure means "not ready yet"
        return False


def _wait_kafka_ready(bootstrap: str, pid: int, timeout_s: float = KAFKA_READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not host.alive(pid):
            raise host.InfraError(
                f"Kafka (pid {pid}) exited during start-up; end of {KAFKA_LOG}:\n{host.log_tail(KAFKA_LOG)}"
            )
        if kafka_answers(bootstrap):
            return
        time.sleep(0.5)
    raise host.InfraError(
        f"Kafka at {bootstrap} did not answer within {timeout_s:.0f}s; end of {KAFKA_LOG}:\n{host.log_tail(KAFKA_LOG)}"
    )


def _start_kafka(port: int) -> None:
    java = require_java()
    fetch_kafka_jars()
    host.require_free_ports("Kafka", KAFKA_PORT_ENV, (port, port + 1))
    KAFKA_DATA.mkdir(parents=True, exist_ok=True)
    _write_kafka_config(port)
    _format_kafka_storage(java)
    command = _kafka_java_command(java, KAFKA_MAIN_CLASS, str(KAFKA_PROPS))
    pid = host.spawn_detached(command, KAFKA_LOG, KAFKA_DIR)
    host.write_text(KAFKA_PID, f"{pid}\n")
    host.write_text(KAFKA_PORT_FILE, f"{port}\n")
    _wait_kafka_ready(kafka_bootstrap(port), pid)


def provide_kafka(port: int | None = None) -> host.Provided:
    """Make sure our broker runs and answers; start it if needed."""
    wanted = kafka_port(port)
    with host.locked():
        pid = kafka_pid()
        if pid is not None:
            current = running_kafka_port()
            if current != wanted:
                raise host.InfraError(
                    f"Kafka already runs on port {current}, not {wanted}: run `python -m deploy.local.infra down` first"
                )
            # Already running (perhaps still starting): wait for it rather than start another.
            _wait_kafka_ready(kafka_bootstrap(wanted), pid)
            return host.Provided(kafka_bootstrap(wanted), started=False)
        started_at = time.monotonic()
        _start_kafka(wanted)
        host.say(f"Kafka {kafka_version()} ready on 127.0.0.1:{wanted} in {time.monotonic() - started_at:.1f}s")
        return host.Provided(kafka_bootstrap(wanted), started=True)


def ensure_kafka(port: int | None = None) -> str:
    """Start the local broker unless it already runs; return its bootstrap servers."""
    return provide_kafka(port).address


def stop_kafka() -> bool:
    """Stop the broker we started (SIGTERM: Kafka shuts down cleanly). True if one was running."""
    with host.locked():
        pid = kafka_pid()
        if pid is None:
            KAFKA_PID.unlink(missing_ok=True)
            return False
        host.signal_and_wait(pid)
        KAFKA_PID.unlink(missing_ok=True)
        host.say(f"Kafka (pid {pid}) stopped")
        return True


def restart_kafka() -> str:
    """Stop and start the broker on the same port with the same data (for fault tests)."""
    with host.locked():
        port = running_kafka_port()
        stop_kafka()
        return ensure_kafka(port)
