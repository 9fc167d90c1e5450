"""`python -m funding`: run the service (consumers, relay, HTTP on FUNDING_HTTP_PORT)."""

from funding.app import create_app
from funding.settings import FundingSettings
from shared.service import serve

settings = FundingSettings()
serve(create_app(settings), settings)
