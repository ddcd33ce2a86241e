"""SMART App Launch 2.x for ``wb-fhir serve``: EHR and standalone launch, tokens on the server side.

SmartConfig(client_id=, redirect_uri=, issuers=)   how the app is registered with the EHRs
SmartLauncher(config).routes()                     /launch, /login, /callback (Starlette routes)
SmartLauncher.current_context(request)             the LaunchContext (patient, fhirUser, encounter)
SmartLauncher.client_for(request)                  a FhirClient whose bearer token refreshes
scopes.requested / scopes.missing                  the fewest scopes, v1 fallback, what a grant lacks
"""

from wb_fhir.web.smart.launch import SessionAuth, SmartConfig, SmartEndpoints, SmartError, SmartLauncher, problem_page
from wb_fhir.web.smart.session import LaunchContext, TokenStore

__all__ = [
    "LaunchContext",
    "SessionAuth",
    "SmartConfig",
    "SmartEndpoints",
    "SmartError",
    "SmartLauncher",
    "TokenStore",
    "problem_page",
]
