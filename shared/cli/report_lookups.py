"""The report's reading side: the three services' look-ups over HTTP, with a bearer token, every page of them.

Only the look-ups are read (never a service's schema): the report sees what any authorised
client sees. The standard library's client is enough for a few GETs, run in a thread.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# The token local development shares between `make up`'s services and the CLI (deploy/local/services.py).
# Never accepted in production: there the services hash only the tokens they are configured with.
LOCAL_LOOKUP_TOKEN = "local-development-lookups"  # noqa: S105 - a well-known local token, not a secret
TIMEOUT_S = 15.0


class ReportSettings(BaseSettings):
    """Where the services' look-ups answer and the token to show them (`PROGRAMME_*`)."""

    model_config = SettingsConfigDict(env_prefix="PROGRAMME_", extra="ignore", frozen=True)

    environment: Literal["local", "production"] = Field(default="local", description="local or production")
    applications_url: str = Field(default="http://127.0.0.1:8081", description="the applications service's base URL")
    workshops_url: str = Field(default="http://127.0.0.1:8082", description="the workshops service's base URL")
    funding_url: str = Field(default="http://127.0.0.1:8083", description="the funding service's base URL")
    lookup_token: SecretStr | None = Field(
        default=None, description="a bearer token the services accept; local development's own when left out locally"
    )

    def token(self) -> str:
        if self.lookup_token is not None:
            return self.lookup_token.get_secret_value()
        if self.environment == "local":
            return LOCAL_LOOKUP_TOKEN
        msg = "PROGRAMME_LOOKUP_TOKEN (or --token) is needed outside local development"
        raise ValueError(msg)


class LookupUnavailableError(Exception):
    """A look-up could not be read: the service is down, refused the token, or answered with an error."""


@dataclass(frozen=True)
class LookupClient:
    base_url: str
    token: str

    async def get(self, path: str, query: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The JSON answer, or None when the service has no such thing (404)."""
        given = {name: value for name, value in (query or {}).items() if value is not None}
        url = self.base_url.rstrip("/") + path + (f"?{urlencode(given)}" if given else "")
        return await asyncio.to_thread(self._get, url)

    async def pages(self, path: str, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every item of a paginated look-up, following `next_cursor` to the last page."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = await self.get(path, {**query, "cursor": cursor})
            if page is None:
                return items
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    def _get(self, url: str) -> dict[str, Any] | None:
        if not url.startswith(("http://", "https://")):
            msg = f"a look-up URL is http:// or https://: {url}"
            raise ValueError(msg)
        # Only http(s), checked above: never a file: or custom scheme.
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.token}"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - http(s) only
                body: dict[str, Any] = json.loads(response.read())
                return body
        except urllib.error.HTTPError as error:
            if error.code == HTTPStatus.NOT_FOUND:
                return None
            detail = error.read().decode("utf-8", "replace")[:300]
            hint = (
                " (check PROGRAMME_LOOKUP_TOKEN against the service's token hashes)"
                if error.code == HTTPStatus.UNAUTHORIZED
                else ""
            )
            msg = f"{url} answered {error.code}: {detail}{hint}"
            raise LookupUnavailableError(msg) from None
        except (urllib.error.URLError, OSError) as error:
            msg = f"cannot reach {url} ({getattr(error, 'reason', error)}): is the service running (`make up`)?"
            raise LookupUnavailableError(msg) from None
