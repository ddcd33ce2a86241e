"""``wb-fhir serve``: the co-production app in the browser (ASGI, server-rendered pages).

create_app(config) -> ASGI app     the app; run it with any ASGI server (uvicorn)
WebConfig                          where maps are kept, which FHIR server, how it is protected;
                                   inside an EHR: its SMART registration and CDS Hooks (web/ehr.py)
MapStore                           the app's own SQLite store of maps, versions and drafts
Identity, LocalIdentity, Session   the pluggable identity layer (an EHR launch replaces it)
"""

from wb_fhir.web.app import create_app
from wb_fhir.web.config import WebConfig
from wb_fhir.web.session import Identity, LocalIdentity, Session
from wb_fhir.web.store import MapStore

__all__ = ["Identity", "LocalIdentity", "MapStore", "Session", "WebConfig", "create_app"]
