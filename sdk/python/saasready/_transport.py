"""HTTP with the standard library (urllib): JSON in and out, problem+json errors raised as exceptions."""

import datetime
import http.client
import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Mapping, Optional, Tuple

from .errors import APIConnectionError, APITimeoutError, error_from_response

Headers = Dict[str, str]


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _decode(payload: bytes, headers: Mapping[str, str]) -> Any:
    if not payload:
        return None
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    text = payload.decode("utf-8", errors="replace")
    if _is_json(content_type):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


class Transport:
    """Sends one request and answers ``(status, headers, body)``; error statuses raise ``SaaSReadyError``s."""

    def __init__(self, api_url: str, timeout: float, user_agent: str, ssl_context: Optional[ssl.SSLContext] = None) -> None:
        self.api_url = api_url
        self.timeout = timeout
        self.user_agent = user_agent
        handlers = [urllib.request.HTTPSHandler(context=ssl_context)] if ssl_context is not None else []
        self._opener = urllib.request.build_opener(*handlers)

    def url(self, path: str, params: Optional[Mapping[str, Any]] = None) -> str:
        url = self.api_url + path
        query = [(k, _query_value(v)) for k, v in (params or {}).items() if v is not None]
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return url

    def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        token: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Tuple[int, Headers, Any]:
        data: Optional[bytes] = None
        sent: Headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        if body is not None:
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            sent["Content-Type"] = "application/json"
        if token:
            sent["Authorization"] = "Bearer " + token
        sent.update(headers or {})
        request = urllib.request.Request(self.url(path, params), data=data, headers=sent, method=method)
        wait = self.timeout if timeout is None else timeout
        try:
            with self._opener.open(request, timeout=wait) as response:
                got = dict(response.headers.items())
                return response.status, got, _decode(response.read(), got)
        except urllib.error.HTTPError as e:
            got = dict(e.headers.items()) if e.headers is not None else {}
            try:
                payload = e.read()
            except (OSError, http.client.HTTPException):
                payload = b""
            finally:
                e.close()
            raise error_from_response(e.code, _decode(payload, got), got) from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, (socket.timeout, TimeoutError)):
                raise APITimeoutError("{} {}: no answer within {} s".format(method, self.url(path), wait)) from None
            raise APIConnectionError("{} {}: {}".format(method, self.url(path), e.reason)) from None
        except (socket.timeout, TimeoutError):
            raise APITimeoutError("{} {}: no answer within {} s".format(method, self.url(path), wait)) from None
        except (OSError, http.client.HTTPException) as e:
            raise APIConnectionError("{} {}: {}".format(method, self.url(path), e or type(e).__name__)) from None


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return iso_utc(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def iso_utc(value: datetime.datetime) -> str:
    """ISO 8601 in UTC with ``Z``; a naive datetime is taken as UTC already."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(datetime.timezone.utc)
    return value.replace(tzinfo=None).isoformat() + "Z"
