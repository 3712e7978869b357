"""Typed exceptions, against the live API (and a dead port, and a server that never answers)."""

import socket
import time
import unittest

from helpers import API_URL, PASSWORD, RATE_LIMITED_URL, new_user, requires_api, requires_rate_limited_api, unique, unique_email

from saasready import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    GoneError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SaaSReady,
    SaaSReadyError,
    TwoFactorRequiredError,
    ValidationError,
)


@requires_api
class ApiErrorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.owner, cls.owner_tokens, cls.owner_email = new_user(full_name="Olivia Owner")
        cls.org = cls.owner.orgs.create("Errors Co", unique("errors"))
        member_email = unique_email("member")
        member_role = cls.owner.orgs.get_role(cls.org.id, "Member")
        invitation = cls.owner.orgs.invite_member(cls.org.id, member_email, member_role.id)
        cls.member = SaaSReady(API_URL)
        cls.member.auth.register(member_email, PASSWORD, "Max Member", invitation_token=invitation.token)

    def assertProblem(self, error: SaaSReadyError, status: int, code: str) -> None:
        self.assertEqual((error.status, error.code), (status, code), repr(error))
        self.assertTrue(error.title)
        self.assertTrue(error.detail)
        self.assertTrue(error.request_id)
        self.assertEqual(error.headers.get("x-request-id") or error.headers.get("X-Request-Id"), error.request_id)
        self.assertIn(code, str(error))
        self.assertIn(error.request_id, str(error))

    def test_a_wrong_password_is_an_authentication_error_with_its_code(self) -> None:
        client = SaaSReady(API_URL)
        with self.assertRaises(AuthenticationError) as caught:
            client.auth.login(self.owner_email, "not the password at all")
        self.assertProblem(caught.exception, 401, "invalid_credentials")
        self.assertNotIsInstance(caught.exception, TwoFactorRequiredError)
        self.assertIsNone(client.access_token)
        # an unknown email answers the same
        with self.assertRaises(AuthenticationError) as unknown:
            client.auth.login(unique_email("nobody"), PASSWORD)
        self.assertEqual(unknown.exception.code, "invalid_credentials")

    def test_calling_without_signing_in_is_token_invalid(self) -> None:
        with self.assertRaises(AuthenticationError) as caught:
            SaaSReady(API_URL).auth.me()
        self.assertProblem(caught.exception, 401, "token_invalid")

    def test_another_tenants_organization_is_not_found(self) -> None:
        stranger, _, _ = new_user(full_name="Sam Stranger")
        with self.assertRaises(NotFoundError) as caught:
            stranger.orgs.get(self.org.id)
        self.assertProblem(caught.exception, 404, "org_not_found")
        with self.assertRaises(NotFoundError):
            stranger.orgs.update(self.org.id, metadata={"owned": "by me"})
        with self.assertRaises(NotFoundError):
            stranger.orgs.list_members(self.org.id)
        self.assertEqual(self.owner.orgs.get(self.org.id).metadata, {})
        self.assertIs(stranger.authz.check(self.org.id, "org.read"), False)

    def test_a_member_doing_an_admin_action_is_permission_denied(self) -> None:
        self.assertEqual([m.email for m in self.member.orgs.list_members(self.org.id)][0], self.owner_email)  # user.read: allowed
        with self.assertRaises(PermissionDeniedError) as caught:
            self.member.orgs.invite_member(self.org.id, unique_email("friend"), self.member.orgs.get_role(self.org.id, "Member"))
        self.assertProblem(caught.exception, 403, "permission_denied")
        with self.assertRaises(PermissionDeniedError):
            self.member.orgs.update(self.org.id, metadata={"plan": "free"})
        with self.assertRaises(PermissionDeniedError):
            self.member.features.set_flag(self.org.id, "beta", True)
        with self.assertRaises(PermissionDeniedError):
            self.member.orgs.list_audit_logs(self.org.id)
        self.assertEqual(self.member.authz.check_many([(self.org.id, "org.read"), (self.org.id, "org.update")]), [True, False])

    def test_an_invalid_body_is_a_validation_error_with_field_errors(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            self.owner.orgs.create("Bad Slug", "Not A Slug!")
        self.assertProblem(caught.exception, 400, "validation_failed")
        self.assertIn("slug", [e["field"] for e in caught.exception.errors])
        with self.assertRaises(ValidationError) as weak:
            SaaSReady(API_URL).auth.register(unique_email("weak"), "password", "Weak Password")
        self.assertIn(weak.exception.code, ("password_too_weak", "validation_failed"))
        with self.assertRaises(ValidationError) as bad_cursor:
            self.owner.orgs.list(cursor="not-a-cursor")
        self.assertEqual(bad_cursor.exception.code, "validation_failed")

    def test_conflicts_and_gone(self) -> None:
        with self.assertRaises(ConflictError) as taken:
            self.owner.orgs.create("Errors Co again", self.org.slug)
        self.assertProblem(taken.exception, 409, "slug_taken")
        with self.assertRaises(ConflictError) as email_taken:
            SaaSReady(API_URL).auth.register(self.owner_email, PASSWORD, "Olivia Again")
        self.assertEqual(email_taken.exception.code, "email_taken")
        invitation = self.owner.orgs.invite_member(self.org.id, unique_email("late"), self.owner.orgs.get_role(self.org.id, "Viewer"))
        self.owner.orgs.revoke_invitation(self.org.id, invitation.id)
        with self.assertRaises(GoneError) as gone:
            self.owner.orgs.revoke_invitation(self.org.id, invitation.id)
        self.assertProblem(gone.exception, 410, "invitation_not_pending")

    def test_a_locked_account_is_a_rate_limit_error_with_retry_after(self) -> None:
        _, _, email = new_user(full_name="Lena Locked")
        client = SaaSReady(API_URL)
        failures = []
        for _ in range(12):  # API.md: locked after at most 10 consecutive failures
            try:
                client.auth.login(email, "wrong password, again")
            except RateLimitError as locked:
                failures.append(locked)
                break
            except AuthenticationError as e:
                failures.append(e)
        locked = failures[-1]
        self.assertIsInstance(locked, RateLimitError, failures)
        self.assertProblem(locked, 429, "account_locked")
        self.assertIsNotNone(locked.retry_after)
        self.assertGreater(locked.retry_after, 0)
        self.assertLessEqual(locked.retry_after, 15 * 60)
        # right and wrong passwords get the same answer while locked
        with self.assertRaises(RateLimitError) as right:
            client.auth.login(email, PASSWORD)
        self.assertEqual(right.exception.code, "account_locked")


@requires_rate_limited_api
class RateLimitTest(unittest.TestCase):
    def test_too_many_logins_from_one_address_is_a_rate_limit_error_with_retry_after(self) -> None:
        client, _, email = new_user(RATE_LIMITED_URL, full_name="Rita Rapid")  # registering is not the login limit
        answers = []
        for _ in range(5):  # the instance allows 3 logins a minute per address
            try:
                answers.append(client.auth.login(email, PASSWORD).user.email)
            except RateLimitError as e:
                answers.append(e)
                break
        self.assertEqual(answers[:3], [email] * 3)
        limited = answers[3]
        self.assertIsInstance(limited, RateLimitError, answers)
        self.assertEqual((limited.status, limited.code), (429, "rate_limited"))
        self.assertEqual(limited.headers.get("retry-after") or limited.headers.get("Retry-After"), str(int(limited.retry_after)))
        self.assertTrue(1 <= limited.retry_after <= 60, limited.retry_after)
        self.assertTrue(limited.request_id)


class TransportErrorsTest(unittest.TestCase):
    def test_nothing_listening_is_a_connection_error(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with self.assertRaises(APIConnectionError) as caught:
            SaaSReady("http://127.0.0.1:{}".format(port)).auth.login("a@example.test", PASSWORD)
        self.assertIsNone(caught.exception.status)
        self.assertEqual(caught.exception.code, "connection_error")
        self.assertNotIsInstance(caught.exception, APITimeoutError)

    def test_no_answer_within_the_timeout_is_a_timeout_error(self) -> None:
        with socket.socket() as server:  # accepts connections (in the backlog) and never answers
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            client = SaaSReady("http://127.0.0.1:{}".format(server.getsockname()[1]), timeout=0.3)
            started = time.monotonic()
            with self.assertRaises(APITimeoutError) as caught:
                client.auth.me()
            self.assertLess(time.monotonic() - started, 5)
        self.assertIsInstance(caught.exception, APIConnectionError)
        self.assertEqual(caught.exception.code, "timeout")


if __name__ == "__main__":
    unittest.main()
