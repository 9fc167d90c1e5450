"""docs/operations/settings.md is what the generator writes from the settings classes, whole."""

from __future__ import annotations

import os
import re

import pytest
from pydantic import Field, SecretStr

from deploy.settings_doc import SETTINGS_DOC, as_set, render, variable
from shared.cli.main import OperatorSettings
from shared.settings import ServiceSettings
from tests.deploy.support import cli_env_names, env_names, run_python, service_settings


def test_the_page_is_what_the_generator_writes() -> None:
    # In a child without KAFKA_BOOTSTRAP_SERVERS, as `make generated` runs it: the CLI's default reads it.
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    done = run_python("-m", "deploy.settings_doc", "--check", env=env)
    assert done.returncode == 0, f"run `make generated` and commit the page:\n{done.stderr}"


def test_every_variable_the_code_reads_is_on_the_page() -> None:
    documented = set(
        re.findall(r"^\| `([A-Z<][A-Z0-9_<>]*)` \|", SETTINGS_DOC.read_text(encoding="utf-8"), re.MULTILINE)
    )
    wanted = {f"<SVC>_{name.upper()}" for name in ServiceSettings.model_fields}
    for settings in service_settings().values():
        wanted |= {
            variable(settings, name) for name in settings.model_fields if name not in ServiceSettings.model_fields
        }
    # The CLI: what it reads outside its settings, its database and its Kafka connection.
    wanted |= cli_env_names() - env_names(OperatorSettings)
    wanted |= {
        variable(OperatorSettings, name)
        for name in OperatorSettings.model_fields
        if name.startswith("kafka_") and name != "kafka_group_id"
    }
    wanted |= {"PROGRAMME_ADMIN_DSN", "PROGRAMME_ENVIRONMENT"}
    assert sorted(wanted - documented) == [], "read by the code but not on the page"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (("a", "b"), '`["a", "b"]`'),
        ({"micro": 50}, '`{"micro": 50}`'),
        ("", '`""`'),
        (None, "*unset*"),
        (True, "`true`"),
        (SecretStr("postgresql://x:y@h/db"), "`postgresql://x:y@h/db`"),
        (0.05, "`0.05`"),
    ],
)
def test_defaults_are_shown_as_the_variable_takes_them(value: object, shown: str) -> None:
    assert as_set(value) == shown


def test_a_setting_without_a_description_stops_the_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    class Undescribed(ServiceSettings):
        database_dsn: SecretStr = SecretStr("postgresql://x:x@h/db")
        mystery: int = Field(default=1)

    monkeypatch.setitem(service_settings(), "applications", Undescribed)
    with pytest.raises(LookupError, match="mystery has no description"):
        render()
