"""Tokens: storage, set_token, explicit and automatic refresh (single flight across threads), logout.

The automatic-refresh tests need an access token that the API refuses as expired. They get one
honestly, without waiting: SAASREADY_PAST_CLOCK_URL is an instance of the same deployment whose clock
is one hour behind, so the tokens it issues carry an ``exp`` already past; SAASREADY_URL (wall clock)
refuses them with 401 ``token_expired``, as it would any token past its lifetime.
"""

import threading
import time
import unittest
from typing import Any, List

from helpers import API_URL, PASSWORD, PAST_CLOCK_URL, jwt_claims, new_user, requires_api, requires_past_clock_api, unique

from saasready import AuthenticationError, Resource, SaaSReady


@requires_api
class TokenStorageTest(unittest.TestCase):
    def test_login_and_register_keep_the_tokens_and_report_them(self) -> None:
        seen: List[Resource] = []
        client, tokens, email = new_user(full_name="Tom Tokens", on_tokens=seen.append)
        self.assertEqual([t.access_token for t in seen], [tokens.access_token])
        login = client.auth.login(email, PASSWORD)
        self.assertEqual(len(seen), 2)
        self.assertEqual((client.access_token, client.refresh_token), (login.access_token, login.refresh_token))
        claims = jwt_claims(client.access_token)
        self.assertEqual(claims["sub"], tokens.user.id)
        self.assertEqual(claims["typ"], "access")

    def test_set_token_hands_over_a_session(self) -> None:
        owner, tokens, email = new_user(full_name="Sue Session")
        other = SaaSReady(API_URL)
        other.set_token(tokens.access_token, tokens.refresh_token)
        self.assertEqual(other.auth.me().email, email)
        other.set_token(None)
        self.assertIsNone(other.refresh_token)
        with self.assertRaises(AuthenticationError) as caught:
            other.auth.me()
        self.assertEqual(caught.exception.code, "token_invalid")
        # tokens given to the constructor work the same
        self.assertEqual(SaaSReady(API_URL, access_token=owner.access_token).auth.me().email, email)

    def test_explicit_refresh_rotates_and_reuse_ends_the_session(self) -> None:
        seen: List[Resource] = []
        client, tokens, email = new_user(full_name="Rob Rotate", on_tokens=seen.append)
        refreshed = client.auth.refresh()
        self.assertEqual(len(seen), 2)
        self.assertNotEqual(refreshed.refresh_token, tokens.refresh_token)
        self.assertEqual((client.access_token, client.refresh_token), (refreshed.access_token, refreshed.refresh_token))
        self.assertEqual(client.auth.me().email, email)
        # Presenting the spent refresh token again is reuse: the API ends the whole session.
        with self.assertRaises(AuthenticationError) as reused:
            SaaSReady(API_URL).auth.refresh(tokens.refresh_token)
        self.assertEqual(reused.exception.code, "refresh_token_reused")
        # session_revoked is final: the client does not spend its refresh token on it.
        with self.assertRaises(AuthenticationError) as ended:
            client.auth.me()
        self.assertEqual(ended.exception.code, "session_revoked")
        self.assertEqual(len(seen), 2)

    def test_logout_all_ends_the_other_clients_without_a_refresh(self) -> None:
        seen: List[Resource] = []
        laptop, _, email = new_user(full_name="Lou Logout", on_tokens=seen.append)
        phone = SaaSReady(API_URL)
        phone.auth.login(email, PASSWORD)
        sessions = phone.auth.list_sessions()
        self.assertEqual(len(sessions), 2)
        self.assertEqual(sum(1 for s in sessions if s.current), 1)
        self.assertTrue(all(s.user_agent.startswith("saasready-python/") for s in sessions))
        phone.auth.logout_all()
        self.assertIsNone(phone.access_token)
        with self.assertRaises(AuthenticationError) as caught:
            laptop.auth.me()
        self.assertEqual(caught.exception.code, "session_revoked")
        self.assertEqual(len(seen), 1)  # only the registration

    def test_switch_org_rescopes_the_session_and_keeps_the_new_tokens(self) -> None:
        client, tokens, _ = new_user(full_name="Sam Switch")
        org = client.orgs.create("Second Org", unique("second"))
        self.assertEqual(client.auth.me().current_org_id, tokens.organization.id)
        switched = client.auth.switch_org(org)
        self.assertEqual((switched.organization.id, switched.role), (org.id, "Owner"))
        self.assertEqual(client.access_token, switched.access_token)
        self.assertEqual(client.auth.me().current_org_id, org.id)
        self.assertEqual(jwt_claims(client.access_token)["org_id"], org.id)


@requires_past_clock_api
class AutomaticRefreshTest(unittest.TestCase):
    def expired_session(self) -> Resource:
        """The token response of a new user whose access token is already expired (signed in on the past-clock instance)."""
        past = SaaSReady(PAST_CLOCK_URL)
        tokens = past.auth.register("{}@example.test".format(unique("expired")), PASSWORD, "Eve Expired")
        self.assertLess(jwt_claims(tokens.access_token)["exp"], time.time())
        return tokens

    def test_the_premise_the_api_refuses_the_expired_token(self) -> None:
        tokens = self.expired_session()
        client = SaaSReady(API_URL, access_token=tokens.access_token, refresh_token=tokens.refresh_token, auto_refresh=False)
        with self.assertRaises(AuthenticationError) as caught:
            client.auth.me()
        self.assertEqual(caught.exception.code, "token_expired")
        self.assertEqual(client.access_token, tokens.access_token)

    def test_an_expired_access_token_is_refreshed_once_and_the_call_retried(self) -> None:
        tokens = self.expired_session()
        seen: List[Resource] = []
        client = SaaSReady(API_URL, on_tokens=seen.append)
        client.set_token(tokens.access_token, tokens.refresh_token)
        me = client.auth.me()
        self.assertEqual(me.id, tokens.user.id)
        self.assertEqual(len(seen), 1)
        self.assertNotEqual(client.access_token, tokens.access_token)
        self.assertNotEqual(client.refresh_token, tokens.refresh_token)
        self.assertEqual(client.refresh_token, seen[0].refresh_token)
        self.assertGreater(jwt_claims(client.access_token)["exp"], time.time())
        # the new access token is used from then on: no further refresh
        client.orgs.list()
        self.assertEqual(len(seen), 1)
        # the old refresh token was really spent on the server
        with self.assertRaises(AuthenticationError) as reused:
            SaaSReady(API_URL).auth.refresh(tokens.refresh_token)
        self.assertEqual(reused.exception.code, "refresh_token_reused")

    def test_concurrent_threads_share_one_refresh(self) -> None:
        tokens = self.expired_session()
        seen: List[Resource] = []
        client = SaaSReady(API_URL, access_token=tokens.access_token, refresh_token=tokens.refresh_token, on_tokens=seen.append)
        threads_count = 8
        start = threading.Barrier(threads_count)
        results: List[Any] = [None] * threads_count

        def call(i: int) -> None:
            start.wait()
            try:
                results[i] = client.auth.me().id
            except Exception as e:  # reported below
                results[i] = e

        threads = [threading.Thread(target=call, args=(i,)) for i in range(threads_count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        # A second refresh with the same (spent) refresh token would be reuse: the API would end the
        # session and the threads would fail. One refresh, and every call succeeds.
        self.assertEqual(results, [tokens.user.id] * threads_count)
        self.assertEqual(len(seen), 1)
        self.assertEqual(client.auth.me().id, tokens.user.id)

    def test_a_refresh_that_fails_is_raised_and_the_tokens_forgotten(self) -> None:
        tokens = self.expired_session()
        SaaSReady(API_URL).auth.refresh(tokens.refresh_token)  # someone else spends the refresh token
        seen: List[Resource] = []
        client = SaaSReady(API_URL, access_token=tokens.access_token, refresh_token=tokens.refresh_token, on_tokens=seen.append)
        with self.assertRaises(AuthenticationError) as caught:
            client.auth.me()
        self.assertEqual(caught.exception.code, "refresh_token_reused")
        self.assertEqual(seen, [])
        self.assertIsNone(client.access_token)
        self.assertIsNone(client.refresh_token)

    def test_refreshes_once_and_does_not_loop_when_the_new_token_is_refused_too(self) -> None:
        tokens = self.expired_session()
        seen: List[Resource] = []
        # Here every token is born expired, the refreshed one too: one refresh, one retry, then the error.
        client = SaaSReady(PAST_CLOCK_URL, access_token=tokens.access_token, refresh_token=tokens.refresh_token, on_tokens=seen.append)
        with self.assertRaises(AuthenticationError) as caught:
            client.auth.me()
        self.assertEqual(caught.exception.code, "token_expired")
        self.assertEqual(len(seen), 1)

    def test_a_client_with_only_a_refresh_token_signs_in_with_it(self) -> None:
        tokens = self.expired_session()
        client = SaaSReady(API_URL, refresh_token=tokens.refresh_token)
        self.assertEqual(client.auth.me().id, tokens.user.id)
        self.assertIsNotNone(client.access_token)


if __name__ == "__main__":
    unittest.main()
