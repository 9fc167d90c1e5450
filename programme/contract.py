"""`python -m programme.contract`: write the AsyncAPI documents and the notification catalogue into contract/.

Here, above the services, because a service's document needs what it reads, which only its
handlers say. The documents are the ones each service serves at `/docs/asyncapi.json`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import applications
import funding
import workshops
from applications.handlers import subscriptions as applications_reads
from applications.settings import ApplicationsSettings
from applications.usecases import UseCases as ApplicationsCases
from funding.handlers import subscriptions as funding_reads
from funding.settings import FundingSettings
from funding.usecases import UseCases as FundingCases
from workshops.handlers import subscriptions as workshops_reads
from workshops.settings import WorkshopsSettings
from workshops.usecases import UseCases as WorkshopsCases

from shared import asyncapi
from shared.cli import contract_documents
from shared.consumer import Subscription
from shared.descriptor import Descriptor

CONTRACT = Path(__file__).resolve().parents[1] / "contract"


def reads() -> dict[str, list[Subscription]]:
    """What each service reads, as its handlers say."""
    # Defaults, not this shell's environment: what a service reads does not depend on its settings.
    return {
        "applications": applications_reads(ApplicationsCases(ApplicationsSettings.model_construct().policy())),
        "workshops": workshops_reads(WorkshopsCases(WorkshopsSettings.model_construct().policy())),
        "funding": funding_reads(FundingCases(FundingSettings.model_construct().policy())),
    }


def documents() -> dict[str, dict[str, Any]]:
    """Each service's AsyncAPI document."""
    reads_by_service = reads()
    services: tuple[Descriptor, ...] = (applications.SERVICE, workshops.SERVICE, funding.SERVICE)
    return {
        service.name: asyncapi.document(
            service.name,
            version=service.version,
            summary=service.summary,
            publishes=service.publishes,
            reads=[asyncapi.Reads.of(subscription) for subscription in reads_by_service[service.name]],
        )
        for service in services
    }


def files() -> dict[str, str]:
    return {**contract_documents.asyncapi_files(documents()), **contract_documents.notification_files()}


def main() -> int:
    written = contract_documents.write(CONTRACT, files(), owned=("asyncapi", "notifications"))
    print(f"{len(written)} document(s) in {CONTRACT}")  # noqa: T201 - a command line prints
    return 0


if __name__ == "__main__":
    sys.exit(main())
