"""The workshops service: scheduling across towns, registrations, waitlists, attendance, reminders."""

from pathlib import Path

from shared.contract.base import NotificationRequested
from shared.contract.workshops import PUBLISHED
from shared.descriptor import Descriptor

SERVICE = Descriptor("workshops", Path(__file__).parent / "migrations", publishes=(*PUBLISHED, NotificationRequested))
