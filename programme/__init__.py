"""`programme`, the operator's command line: shared's CLI with the programme's services registered, above them all.

The services are named here and nowhere below: `shared` knows no service, so the CLI's functions
take the services' descriptors (name, migrations) from this entry point.
"""

from __future__ import annotations

from collections.abc import Sequence

import applications
import funding
import workshops

from shared.cli import main as cli
from shared.descriptor import Descriptor

SERVICES: tuple[Descriptor, ...] = (applications.SERVICE, workshops.SERVICE, funding.SERVICE)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, services=SERVICES)
