"""Writing the contract's documents for integrators: AsyncAPI per service, the notification catalogue and schemas.

`programme contract export` writes the JSON Schemas; these are written beside them by
`python -m programme.contract` (both run by `make contract`), and tests check each against the code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared import asyncapi
from shared.contract import notifications


def asyncapi_files(documents: Mapping[str, dict[str, Any]]) -> dict[str, str]:
    """`asyncapi/<service>.json`: each service's document, as served."""
    return {f"asyncapi/{service}.json": asyncapi.render(doc) for service, doc in sorted(documents.items())}


def notification_files() -> dict[str, str]:
    """`notifications.md` and `notifications/<template>.params.json`."""
    files = {"notifications.md": notifications.catalogue()}
    for template in notifications.templates():
        schema = notifications.params_schema(template)
        files[f"notifications/{template.name}.params.json"] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return files


def write(root: Path, files: Mapping[str, str], *, owned: tuple[str, ...]) -> list[Path]:
    """Write the files under `root`; remove stale `*.json` from the folders named in `owned` (generated only)."""
    written = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    for folder in owned:
        for stale in (root / folder).glob("*.json"):
            if str(stale.relative_to(root)) not in files:
                stale.unlink()
    return written
