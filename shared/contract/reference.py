"""The programme's reference data as the contract names it: its clusters, and the staff roles notifications go to."""

from __future__ import annotations

from typing import Final

# The clusters the programme started with; a deployment grows the list in configuration
# (`<SVC>_CLUSTERS`), without a release.
CLUSTERS: Final = ("nce-systems-engineering", "nce-raufoss", "nce-smart-energy-markets")

# Staff roles a notification can be addressed to (`recipient.role`).
CASE_HANDLERS: Final = "case-handlers"
PROGRAMME_OFFICE: Final = "programme-office"
# The finance system that pays out: it receives the payment orders.
FINANCE: Final = "finance"
