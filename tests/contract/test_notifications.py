"""The notification catalogue: every template and param documented, typed, and no third party's personal data."""

from __future__ import annotations

import jsonschema
import pytest

from shared.contract import notifications

TEMPLATES = {template.name: template for template in notifications.templates()}


def test_every_template_says_when_it_comes_and_every_param_has_a_type_and_a_meaning() -> None:
    assert set(notifications.WHEN) == set(TEMPLATES), "say in WHEN (shared/contract/notifications.py) when each comes"
    undocumented = {name for t in TEMPLATES.values() for name in t.params if name not in notifications.PARAMS}
    assert undocumented == set(), "give each param an entry in PARAMS"
    assert all(param.meaning and param.schema for param in notifications.PARAMS.values())


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_template_has_a_json_schema_of_its_params(name: str) -> None:
    schema = notifications.params_schema(TEMPLATES[name])
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) == set(schema["required"]) == set(TEMPLATES[name].params)
    assert all(prop.get("description") for prop in schema["properties"].values())


def test_personal_data_goes_only_to_the_person_it_belongs_to() -> None:
    personal = {name for name, param in notifications.PARAMS.items() if param.personal}
    for template in TEMPLATES.values():
        if personal & set(template.params):
            assert template.audience != "staff", f"{template.name} gives staff a person's data"
            assert template.role is None, template.name


def test_the_catalogue_lists_every_template_and_names_the_deduplication_key() -> None:
    text = notifications.catalogue()
    assert "**`notification_id` is the\ndeduplication key**" in text
    for template in TEMPLATES.values():
        assert f"## `{template.name}`" in text
        assert all(f"| `{param}` |" in text for param in template.params)
