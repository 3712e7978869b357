"""The parts that need no API: results, error mapping, Retry-After, TOTP helper, client set-up."""

import copy
import datetime
import pickle
import unittest
from typing import List

from helpers import totp

import saasready
from saasready import (
    AuthenticationError,
    ConflictError,
    GoneError,
    NotFoundError,
    Page,
    PermissionDeniedError,
    RateLimitError,
    Resource,
    SaaSReady,
    SaaSReadyError,
    ServerError,
    TwoFactorRequiredError,
    ValidationError,
)
from saasready._transport import iso_utc
from saasready.errors import error_from_response, parse_retry_after

ORG = {
    "id": "0190a0a0-0000-7000-8000-000000000001",
    "name": "Acme",
    "slug": "acme",
    "metadata": {"plan": "pro", "limits": {"seats": 5}, "tags": [{"k": "a"}, "b"]},
    "your_role": "Owner",
}


class ResourceTest(unittest.TestCase):
    def test_attribute_and_subscript_access_nested(self) -> None:
        org = Resource(ORG)
        self.assertEqual(org.your_role, "Owner")
        self.assertEqual(org["your_role"], "Owner")
        self.assertEqual(org.metadata.plan, "pro")
        self.assertEqual(org.metadata.limits.seats, 5)
        self.assertEqual(org.metadata.tags[0].k, "a")
        self.assertEqual(org.metadata.tags[1], "b")
        self.assertIn("slug", org)
        self.assertEqual(org.get("missing", 7), 7)
        self.assertIn("your_role", dir(org))

    def test_to_dict_is_a_plain_deep_copy(self) -> None:
        org = Resource(ORG)
        plain = org.to_dict()
        self.assertEqual(plain, ORG)
        self.assertIs(type(plain["metadata"]["limits"]), dict)
        plain["metadata"]["plan"] = "free"
        self.assertEqual(org.metadata.plan, "pro")
        self.assertEqual(org, ORG)
        self.assertEqual(org, Resource(ORG))
        self.assertNotEqual(org, Resource({**ORG, "name": "Other"}))

    def test_missing_fields_and_writes_are_errors(self) -> None:
        org = Resource(ORG)
        with self.assertRaises(AttributeError) as missing:
            org.nope
        self.assertIn("your_role", str(missing.exception))
        self.assertFalse(hasattr(org, "nope"))
        with self.assertRaises(KeyError):
            org["nope"]
        with self.assertRaises(AttributeError):
            org.name = "x"  # type: ignore[misc]

    def test_copy_and_pickle(self) -> None:
        org = Resource(ORG)
        self.assertEqual(copy.deepcopy(org), org)
        self.assertEqual(copy.copy(org), org)
        self.assertEqual(pickle.loads(pickle.dumps(org)), org)
        self.assertIn("Acme", repr(org))


class PageTest(unittest.TestCase):
    def pages(self) -> List[Page]:
        fetched: List[str] = []

        def fetch(cursor: str) -> Page:
            fetched.append(cursor)
            return Page({"data": [{"id": 3}], "next_cursor": None}, fetch)

        self.fetched = fetched
        return [Page({"data": [{"id": 1}, {"id": 2}], "next_cursor": "c2"}, fetch)]

    def test_a_page_is_a_sequence_of_resources(self) -> None:
        page = self.pages()[0]
        self.assertEqual(len(page), 2)
        self.assertEqual(page[0].id, 1)
        self.assertEqual([r.id for r in page[0:2]], [1, 2])
        self.assertEqual([r.id for r in page], [1, 2])
        self.assertEqual(page["next_cursor"], "c2")
        self.assertTrue(page.has_more)
        self.assertEqual(page.to_dict(), {"data": [{"id": 1}, {"id": 2}], "next_cursor": "c2"})
        self.assertFalse(Page({"data": [], "next_cursor": None}))

    def test_auto_paging_follows_next_cursor_lazily(self) -> None:
        page = self.pages()[0]
        items = page.auto_paging_iter()
        self.assertEqual(next(items).id, 1)
        self.assertEqual(self.fetched, [])
        self.assertEqual([r.id for r in items], [2, 3])
        self.assertEqual(self.fetched, ["c2"])

    def test_a_page_without_a_client_says_how_to_continue(self) -> None:
        with self.assertRaises(RuntimeError):
            Page({"data": [], "next_cursor": "x"}).next_page()
        self.assertIsNone(Page({"data": []}).next_page())


class ErrorMappingTest(unittest.TestCase):
    def problem(self, status: int, code: str, **extra: object) -> dict:
        return {"type": "about:blank", "title": "T", "status": status, "detail": "D", "code": code, "request_id": "req-1", **extra}

    def test_status_to_class(self) -> None:
        cases = [
            (400, "validation_failed", ValidationError),
            (401, "invalid_credentials", AuthenticationError),
            (401, "two_factor_required", TwoFactorRequiredError),
            (403, "permission_denied", PermissionDeniedError),
            (404, "org_not_found", NotFoundError),
            (409, "slug_taken", ConflictError),
            (410, "invitation_expired", GoneError),
            (429, "rate_limited", RateLimitError),
            (500, "internal_error", ServerError),
            (503, "service_unavailable", ServerError),
            (415, "unsupported_media_type", SaaSReadyError),
        ]
        for status, code, cls in cases:
            with self.subTest(status=status, code=code):
                error = error_from_response(status, self.problem(status, code), {})
                self.assertIs(type(error), cls)
                self.assertEqual((error.status, error.code, error.title, error.detail, error.request_id), (status, code, "T", "D", "req-1"))
                self.assertIsInstance(error, SaaSReadyError)

    def test_field_errors_and_message(self) -> None:
        error = error_from_response(400, self.problem(400, "validation_failed", errors=[{"field": "slug", "message": "bad"}]), {})
        self.assertEqual(error.errors, [{"field": "slug", "message": "bad"}])
        self.assertIn("slug: bad", str(error))
        self.assertIn("req-1", str(error))

    def test_a_body_that_is_not_problem_json(self) -> None:
        error = error_from_response(502, "<html>Bad Gateway</html>", {"X-Request-Id": "from-header"})
        self.assertIs(type(error), ServerError)
        self.assertIsNone(error.code)
        self.assertEqual(error.request_id, "from-header")
        self.assertIn("Bad Gateway", error.detail or "")

    def test_retry_after(self) -> None:
        error = error_from_response(429, self.problem(429, "account_locked"), {"Retry-After": "42"})
        assert isinstance(error, RateLimitError)
        self.assertEqual(error.retry_after, 42)
        self.assertIsNone(error_from_response(429, self.problem(429, "rate_limited"), {}).retry_after)  # type: ignore[attr-defined]
        self.assertEqual(parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0), 10)
        self.assertEqual(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0), 0)
        self.assertIsNone(parse_retry_after("soon"))


class ClientSetupTest(unittest.TestCase):
    def test_base_url_forms(self) -> None:
        for url in ("http://api.example.test", "http://api.example.test/", "http://api.example.test/api/v1", "http://api.example.test/api/v1/"):
            with self.subTest(url=url):
                client = SaaSReady(url)
                self.assertEqual(client.base_url, "http://api.example.test")
                self.assertEqual(client._transport.url("/auth/me"), "http://api.example.test/api/v1/auth/me")
        with self.assertRaises(ValueError):
            SaaSReady("api.example.test")

    def test_defaults(self) -> None:
        client = SaaSReady("http://api.example.test", timeout=2.5)
        self.assertEqual(client.timeout, 2.5)
        self.assertEqual(SaaSReady("http://x.test").timeout, saasready.DEFAULT_TIMEOUT)
        self.assertEqual(saasready.USER_AGENT, "saasready-python/" + saasready.__version__)
        self.assertIsNone(client.access_token)
        client.set_token("a", "r")
        self.assertEqual((client.access_token, client.refresh_token), ("a", "r"))
        client.clear_tokens()
        self.assertEqual((client.access_token, client.refresh_token), (None, None))

    def test_query_strings(self) -> None:
        client = SaaSReady("http://x.test")
        when = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
        url = client._transport.url("/orgs/o/audit-logs", {"limit": 5, "cursor": None, "since": when, "action": "org.updated"})
        self.assertEqual(url, "http://x.test/api/v1/orgs/o/audit-logs?limit=5&since=2024-05-01T10%3A00%3A00Z&action=org.updated")
        self.assertEqual(iso_utc(datetime.datetime(2024, 5, 1)), "2024-05-01T00:00:00Z")


class TotpHelperTest(unittest.TestCase):
    def test_rfc_6238_vectors(self) -> None:
        secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of the RFC's "12345678901234567890"
        self.assertEqual(totp(secret, 59, digits=8), "94287082")
        self.assertEqual(totp(secret, 1111111109, digits=8), "07081804")
        self.assertEqual(totp(secret, 20000000000, digits=8), "65353130")


if __name__ == "__main__":
    unittest.main()
