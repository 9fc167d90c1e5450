"""The applications service: a project application from submission to its outcome."""

from pathlib import Path

from shared.contract.applications import PUBLISHED
from shared.contract.base import NotificationRequested
from shared.descriptor import Descriptor

SERVICE = Descriptor(
    "applications", Path(__file__).parent / "migrations", publishes=(*PUBLISHED, NotificationRequested)
)
