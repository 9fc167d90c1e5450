"""The funding service: yearly budgets and funding decisions that never overspend."""

from pathlib import Path

from shared.contract.base import NotificationRequested
from shared.contract.funding import PUBLISHED
from shared.descriptor import Descriptor

SERVICE = Descriptor("funding", Path(__file__).parent / "migrations", publishes=(*PUBLISHED, NotificationRequested))
