"""SaaSReady for Python: a client of the SaaSReady auth/authz API, standard library only.

    from saasready import SaaSReady

    client = SaaSReady("http://localhost:8000")
    client.auth.login("ada@example.com", "correct horse battery")
    for org in client.orgs.list():
        print(org.name, org.your_role)
"""

from ._version import __version__
from .client import DEFAULT_TIMEOUT, USER_AGENT, AuthAPI, AuthzAPI, FeaturesAPI, InvitationsAPI, OrgsAPI, SaaSReady
from .errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    GoneError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SaaSReadyError,
    ServerError,
    TwoFactorRequiredError,
    ValidationError,
)
from .resources import Page, Resource

__all__ = [
    "__version__",
    "SaaSReady",
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "AuthAPI",
    "AuthzAPI",
    "FeaturesAPI",
    "InvitationsAPI",
    "OrgsAPI",
    "Resource",
    "Page",
    "SaaSReadyError",
    "APIConnectionError",
    "APITimeoutError",
    "ValidationError",
    "AuthenticationError",
    "TwoFactorRequiredError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "GoneError",
    "RateLimitError",
    "ServerError",
]
