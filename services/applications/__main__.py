"""`python -m applications`: run the service (consumers, relay, HTTP on APPLICATIONS_HTTP_PORT)."""

from applications.app import create_app
from applications.settings import ApplicationsSettings
from shared.service import serve

settings = ApplicationsSettings()
serve(create_app(settings), settings)
