"""Exceptions raised by the SDK.

Every error answer of the API is an RFC 9457 ``application/problem+json`` body
``{type, title, status, detail, code, request_id, errors?}``; the SDK raises it
as a :class:`SaaSReadyError` subclass chosen by HTTP status, with every field
as an attribute. ``code`` is the API's stable machine code (``invalid_credentials``,
``permission_denied``, ``slug_taken``, ...): branch on it, not on the message.
"""

import email.utils
import time
from typing import Any, Dict, List, Mapping, Optional, Type

__all__ = [
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
    "error_from_response",
]


class SaaSReadyError(Exception):
    """Base class of every SDK error.

    Attributes: ``status`` (HTTP status, ``None`` when no answer arrived), ``code``
    (the problem+json ``code``), ``title``, ``detail``, ``errors`` (field problems
    ``[{"field", "message"}]`` of a 400, else ``[]``), ``request_id`` (quote it when
    asking the operator: the server log holds it), ``type``, ``body`` (the parsed
    body, or the raw text when it was not JSON) and ``headers``.
    """

    def __init__(
        self,
        status: Optional[int],
        code: Optional[str],
        title: Optional[str] = None,
        detail: Optional[str] = None,
        errors: Optional[List[Dict[str, Any]]] = None,
        request_id: Optional[str] = None,
        *,
        type: Optional[str] = None,
        body: Any = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors: List[Dict[str, Any]] = list(errors or [])
        self.request_id = request_id
        self.type = type
        self.body = body
        self.headers: Dict[str, str] = dict(headers or {})
        super().__init__(self._message())

    def _message(self) -> str:
        head = " ".join(str(p) for p in (self.status, self.code) if p is not None) or type(self).__name__
        text = self.detail or self.title or ""
        if self.errors:
            fields = "; ".join("{}: {}".format(e.get("field"), e.get("message")) for e in self.errors)
            text = "{} ({})".format(text, fields) if text else fields
        message = "{}: {}".format(head, text) if text else head
        if self.request_id:
            message += " [request_id={}]".format(self.request_id)
        return message

    def __repr__(self) -> str:
        return "{}(status={!r}, code={!r}, detail={!r}, request_id={!r})".format(
            type(self).__name__, self.status, self.code, self.detail, self.request_id
        )


class APIConnectionError(SaaSReadyError):
    """The API could not be reached (refused connection, DNS, TLS, reset). ``status`` is ``None``."""

    def __init__(self, detail: str, *, code: str = "connection_error") -> None:
        super().__init__(None, code, "Connection error", detail)


class APITimeoutError(APIConnectionError):
    """No answer within the client's ``timeout``. The request may or may not have been processed."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, code="timeout")


class ValidationError(SaaSReadyError):
    """400: the request was refused as invalid (``validation_failed`` with ``errors``, ``password_too_weak``, ...)."""


class AuthenticationError(SaaSReadyError):
    """401: ``invalid_credentials``, ``token_invalid``, ``token_expired``, ``session_revoked``, ..."""


class TwoFactorRequiredError(AuthenticationError):
    """401 ``two_factor_required``: the account has 2FA on; log in again with ``two_factor_code``."""


class PermissionDeniedError(SaaSReadyError):
    """403: ``permission_denied`` (a member without the permission), ``reauthentication_failed``, ..."""


class NotFoundError(SaaSReadyError):
    """404: ``org_not_found`` (also for organizations you are not a member of), ``invitation_not_found``, ``not_found``."""


class ConflictError(SaaSReadyError):
    """409: ``email_taken``, ``slug_taken``, ``already_member``, ``last_owner``, ..."""


class GoneError(SaaSReadyError):
    """410: ``invitation_expired``, ``invitation_not_pending``."""


class RateLimitError(SaaSReadyError):
    """429: ``rate_limited`` (per address) or ``account_locked``.

    ``retry_after`` is the number of seconds the API asks you to wait (from the
    ``Retry-After`` header), or ``None`` when it sent none.
    """

    def __init__(self, *args: Any, retry_after: Optional[float] = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(*args, **kwargs)


class ServerError(SaaSReadyError):
    """5xx: the API failed (``internal_error``) or is unavailable; ``request_id`` finds it in the server log."""


_BY_STATUS: Dict[int, Type[SaaSReadyError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
    429: RateLimitError,
}


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date (RFC 9110); ``None`` if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def error_from_response(status: int, body: Any, headers: Mapping[str, str]) -> SaaSReadyError:
    """The exception for an error answer (problem+json or not)."""
    problem: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    lower = {k.lower(): v for k, v in headers.items()}
    code = problem.get("code")
    cls: Type[SaaSReadyError]
    if status == 401 and code == "two_factor_required":
        cls = TwoFactorRequiredError
    elif status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status, SaaSReadyError)
    detail = problem.get("detail")
    if detail is None and not problem and isinstance(body, str) and body.strip():
        detail = body.strip()[:500]
    fields: Dict[str, Any] = dict(
        title=problem.get("title"),
        detail=detail,
        errors=problem.get("errors") if isinstance(problem.get("errors"), list) else None,
        request_id=problem.get("request_id") or lower.get("x-request-id"),
        type=problem.get("type"),
        body=body,
        headers=headers,
    )
    if cls is RateLimitError:
        return RateLimitError(status, code, retry_after=parse_retry_after(lower.get("retry-after")), **fields)
    return cls(status, code, **fields)
