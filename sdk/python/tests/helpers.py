"""What the SDK tests share: the API addresses, unique names, a stdlib TOTP, JWT claims.

The live tests talk to a running API at ``SAASREADY_URL`` (e.g. ``http://localhost:8000``).
``npm test`` runs them through test/sdk/python-sdk.e2e-spec.ts, which serves the API and sets:

- ``SAASREADY_URL``: the API;
- ``SAASREADY_RATE_LIMITED_URL``: the same deployment with a login limit of 3 a minute per address;
- ``SAASREADY_PAST_CLOCK_URL``: the same deployment with its clock one hour behind (the access tokens it
  issues are already expired): the automatic-refresh tests sign in there.

Without them, the live tests are skipped with a message saying how to run them.
"""

import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import time
import unittest
import uuid
from typing import Any, Dict, Optional, Tuple

_SDK_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _SDK_ROOT not in sys.path:
    sys.path.insert(0, _SDK_ROOT)

from saasready import Resource, SaaSReady  # noqa: E402

API_URL = os.environ.get("SAASREADY_URL") or None
RATE_LIMITED_URL = os.environ.get("SAASREADY_RATE_LIMITED_URL") or None
PAST_CLOCK_URL = os.environ.get("SAASREADY_PAST_CLOCK_URL") or None

PASSWORD = "correct horse battery"

_HOW = "run them with `npm test -- test/sdk` (it serves the API and sets the addresses)"

requires_api = unittest.skipUnless(
    API_URL, "SAASREADY_URL is not set: start the API and set SAASREADY_URL=http://localhost:8000, or " + _HOW
)
requires_rate_limited_api = unittest.skipUnless(
    API_URL and RATE_LIMITED_URL,
    "SAASREADY_RATE_LIMITED_URL is not set (an instance with RATE_LIMIT_LOGIN=3/1m): " + _HOW,
)
requires_past_clock_api = unittest.skipUnless(
    API_URL and PAST_CLOCK_URL,
    "SAASREADY_PAST_CLOCK_URL is not set (an instance of SAASREADY_URL's deployment whose clock is 1 h behind): " + _HOW,
)


def unique(prefix: str) -> str:
    return "{}-{}".format(prefix, uuid.uuid4().hex[:12])


def unique_email(prefix: str = "user") -> str:
    return "{}@example.test".format(unique(prefix))


def new_user(url: Optional[str] = None, full_name: str = "Test User", **client_options: Any) -> Tuple[SaaSReady, Resource, str]:
    """A freshly registered user: ``(signed-in client, token response, email)``; the password is PASSWORD."""
    client = SaaSReady(url or API_URL or "", **client_options)
    email = unique_email(full_name.split()[0].lower())
    tokens = client.auth.register(email, PASSWORD, full_name)
    return client, tokens, email


def totp(secret: str, for_time: Optional[float] = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 TOTP (HMAC-SHA1, 30 s steps, 6 digits), as an authenticator app computes it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if for_time is None else for_time) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def jwt_claims(token: str) -> Dict[str, Any]:
    """The payload of a JWT (no signature check: for assertions only)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
