from shared.service import serve
from tests.probe.app import ProbeSettings, create_app

settings = ProbeSettings()
serve(create_app(settings), settings)
