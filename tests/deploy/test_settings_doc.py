"""docs/operations/settings.md names every setting the code reads, and nothing it does not."""

from __future__ import annotations

import re
from pathlib import Path

from applications.settings import ApplicationsSettings
from funding.settings import FundingSettings
from workshops.settings import WorkshopsSettings

from shared.settings import ServiceSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations" / "settings.md"


def test_every_setting_of_every_service_is_documented() -> None:
    text = DOC.read_text()
    documented = set(re.findall(r"`((?:<SVC>|APPLICATIONS|WORKSHOPS|FUNDING)_[A-Z0-9_]+)`", text))
    wanted = {f"<SVC>_{name.upper()}" for name in ServiceSettings.model_fields}
    for cls, prefix in (
        (ApplicationsSettings, "APPLICATIONS_"),
        (WorkshopsSettings, "WORKSHOPS_"),
        (FundingSettings, "FUNDING_"),
    ):
        wanted |= {f"{prefix}{name.upper()}" for name in cls.model_fields if name not in ServiceSettings.model_fields}
    assert sorted(wanted - documented) == [], "document these in docs/operations/settings.md"
    assert sorted(documented - wanted) == [], "these are documented but no longer read"
