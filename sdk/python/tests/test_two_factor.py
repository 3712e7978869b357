"""Two-factor login: set-up, verify, login with a TOTP code or a backup code, disable.

TOTP codes are computed here from the secret the API returns (helpers.totp: RFC 6238 with the
standard library), as an authenticator app would. The API accepts a code of the step before or after
its own and each step only once, so the login uses the step after the one spent on verify.
"""

import time
import unittest
import urllib.parse

from helpers import API_URL, PASSWORD, new_user, requires_api, totp

from saasready import AuthenticationError, PermissionDeniedError, SaaSReady, TwoFactorRequiredError, ValidationError


@requires_api
class TwoFactorTest(unittest.TestCase):
    def test_setup_verify_and_login_with_a_code(self) -> None:
        client, _, email = new_user(full_name="Tess Totp")

        setup = client.auth.enable_2fa()
        self.assertRegex(setup.secret, r"^[A-Z2-7]{32,}$")
        self.assertEqual(len(setup.backup_codes), 10)
        self.assertTrue(setup.qr_code_url.startswith("data:image/png;base64,"))
        otpauth = urllib.parse.urlparse(setup.otpauth_url)
        params = dict(urllib.parse.parse_qsl(otpauth.query))
        self.assertEqual((otpauth.scheme, otpauth.netloc, params["secret"]), ("otpauth", "totp", setup.secret))
        self.assertEqual(params.get("digits", "6"), "6")
        self.assertEqual(params.get("period", "30"), "30")
        self.assertEqual(params.get("algorithm", "SHA1").upper(), "SHA1")
        self.assertFalse(client.auth.me().two_factor_enabled)  # not on until verified
        self.assertEqual(client.auth.setup_2fa.__func__, client.auth.enable_2fa.__func__)

        now = time.time()
        with self.assertRaises(ValidationError) as wrong:
            client.auth.verify_2fa(totp(setup.secret, now + 3600))  # a code, but not of now
        self.assertEqual(wrong.exception.code, "invalid_two_factor_code")

        step_time = now
        self.assertEqual(client.auth.verify_2fa(totp(setup.secret, step_time)).two_factor_enabled, True)
        self.assertTrue(client.auth.me().two_factor_enabled)  # this session stays signed in

        other = SaaSReady(API_URL)
        with self.assertRaises(TwoFactorRequiredError) as required:
            other.auth.login(email, PASSWORD)
        self.assertIsInstance(required.exception, AuthenticationError)
        self.assertEqual((required.exception.status, required.exception.code), (401, "two_factor_required"))
        self.assertIsNone(other.access_token)

        with self.assertRaises(AuthenticationError) as bad_code:
            other.auth.login(email, PASSWORD, two_factor_code=totp(setup.secret, now - 3600))
        self.assertEqual(bad_code.exception.code, "invalid_two_factor_code")

        tokens = other.auth.login(email, PASSWORD, two_factor_code=totp(setup.secret, step_time + 30))
        self.assertEqual(tokens.user.email, email)
        self.assertTrue(other.auth.me().two_factor_enabled)

        # a backup code works once
        backup = setup.backup_codes[0]
        self.assertEqual(SaaSReady(API_URL).auth.login(email, PASSWORD, two_factor_code=backup).user.email, email)
        with self.assertRaises(AuthenticationError) as spent:
            SaaSReady(API_URL).auth.login(email, PASSWORD, two_factor_code=backup)
        self.assertEqual(spent.exception.code, "invalid_two_factor_code")

        # turning it off needs the password and a code
        with self.assertRaises(PermissionDeniedError) as reauth:
            other.auth.disable_2fa("not the password", setup.backup_codes[1])
        self.assertEqual(reauth.exception.code, "reauthentication_failed")
        other.auth.disable_2fa(PASSWORD, setup.backup_codes[2])
        self.assertFalse(other.auth.me().two_factor_enabled)
        self.assertEqual(SaaSReady(API_URL).auth.login(email, PASSWORD).user.email, email)


if __name__ == "__main__":
    unittest.main()
