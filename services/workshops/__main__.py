"""`python -m workshops`: run the service (consumers, relay, HTTP on WORKSHOPS_HTTP_PORT)."""

from shared.service import serve
from workshops.app import create_app
from workshops.settings import WorkshopsSettings

settings = WorkshopsSettings()
serve(create_app(settings), settings)
