"""The funding service: yearly budgets, funding decisions that never overspend, and a grant's money until it closes."""

from pathlib import Path

from shared.contract.base import NotificationRequested
from shared.contract.funding import PUBLISHED
from shared.descriptor import Descriptor

SERVICE = Descriptor("funding", Path(__file__).parent / "migrations", publishes=(*PUBLISHED, NotificationRequested))
