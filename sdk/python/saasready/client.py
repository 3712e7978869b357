"""The SaaSReady client: ``SaaSReady(base_url)`` and its groups ``auth``, ``orgs``, ``invitations``, ``features``, ``authz``."""

import datetime
import threading
import urllib.parse
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from ._transport import Transport, iso_utc
from ._version import __version__
from .errors import AuthenticationError
from .resources import Page, Resource

__all__ = ["SaaSReady", "DEFAULT_TIMEOUT", "USER_AGENT"]

DEFAULT_TIMEOUT = 10.0
USER_AGENT = "saasready-python/{}".format(__version__)
API_PREFIX = "/api/v1"

# A 401 with one of these codes (or with none: not a problem+json answer) means "this access token is no
# good"; a new one from the refresh token may be. session_revoked (logout, 2FA or password change,
# reuse detection) is final: the refresh token belongs to the same ended session.
_REFRESHABLE_CODES = frozenset({"token_expired", "token_invalid", None})

IdLike = Union[str, Resource]
When = Union[str, datetime.datetime]


def _id(value: IdLike, *fields: str) -> str:
    """An id given as a string, or the resource it belongs to (its ``id``, or the first of ``fields`` it has)."""
    if isinstance(value, Resource):
        for field in fields + ("id",):
            if field in value and value[field] is not None:
                return str(value[field])
        raise ValueError("{!r} carries no {}".format(value, " or ".join(fields + ("id",))))
    if not isinstance(value, str) or not value:
        raise ValueError("expected an id (a non-empty string), got {!r}".format(value))
    return value


def _seg(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _when(value: Optional[When]) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    return iso_utc(value)


def _body(**fields: Any) -> Dict[str, Any]:
    """A JSON body of the fields that were given (``None`` left out)."""
    return {k: v for k, v in fields.items() if v is not None}


class SaaSReady:
    """A client of one SaaSReady API.

    ``base_url`` is where the API is served (``http://localhost:8000``; a URL ending
    in ``/api/v1`` is fine too). Sign in with ``client.auth.login(...)`` or
    ``register(...)``, or hand over tokens you kept with ``set_token(...)``; the
    client then sends the access token on every call. When a call answers 401
    because the access token expired, the client spends the refresh token once
    (one refresh shared by every thread that hit the 401), keeps the new tokens
    and retries the call once. ``on_tokens(tokens)`` is called with every new token
    response (login, register, refresh, switch-org): refresh tokens are single use,
    so persist them from there if you keep sessions across processes.

    Thread-safe: one client may be shared by threads (they share its session).
    """

    def __init__(
        self,
        base_url: str = "http://localhost:8000",
        *,
        access_token: Optional[str] = None,
        refresh_token: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
        auto_refresh: bool = True,
        on_tokens: Optional[Callable[[Resource], None]] = None,
        user_agent: Optional[str] = None,
        ssl_context: Any = None,
    ) -> None:
        root = base_url.strip().rstrip("/")
        if not root.lower().startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL, got {!r}".format(base_url))
        if root.endswith(API_PREFIX):
            root = root[: -len(API_PREFIX)]
        self.base_url = root
        self.auto_refresh = auto_refresh
        self.on_tokens = on_tokens
        self._transport = Transport(
            root + API_PREFIX,
            timeout,
            USER_AGENT if user_agent is None else "{} {}".format(user_agent, USER_AGENT),
            ssl_context,
        )
        self._lock = threading.RLock()
        self._access_token = access_token
        self._refresh_token = refresh_token
        self.auth = AuthAPI(self)
        self.orgs = OrgsAPI(self)
        self.invitations = InvitationsAPI(self)
        self.features = FeaturesAPI(self)
        self.authz = AuthzAPI(self)

    def __repr__(self) -> str:
        return "SaaSReady({!r}, signed_in={})".format(self.base_url, self._access_token is not None)

    # -- tokens ------------------------------------------------------------------------------------

    @property
    def timeout(self) -> float:
        """Seconds to wait for each answer (default 10)."""
        return self._transport.timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        self._transport.timeout = value

    @property
    def access_token(self) -> Optional[str]:
        return self._access_token

    @property
    def refresh_token(self) -> Optional[str]:
        return self._refresh_token

    def set_token(self, access_token: Optional[str], refresh_token: Optional[str] = None) -> None:
        """Use these tokens from now on. Both are replaced: without a refresh token there is no automatic refresh."""
        with self._lock:
            self._access_token = access_token
            self._refresh_token = refresh_token

    def clear_tokens(self) -> None:
        """Forget both tokens (the session itself stays open on the server: see ``auth.logout()``)."""
        self.set_token(None, None)

    def _store_tokens(self, body: Any) -> Resource:
        tokens = Resource(body)
        with self._lock:
            self._access_token = tokens.access_token
            self._refresh_token = tokens.refresh_token
        if self.on_tokens is not None:
            self.on_tokens(tokens)
        return tokens

    def _spend_refresh_token(self, refresh_token: str) -> Resource:
        """POST /auth/refresh and keep the answer; the caller holds the lock. A 401 (the refresh token expired,
        was used already, or its session ended) forgets the stored tokens when they were these, so no other
        thread presents the spent token again (which would end the session as a reuse).
        """
        try:
            _, _, body = self._transport.send("POST", "/auth/refresh", body={"refresh_token": refresh_token})
        except AuthenticationError:
            if self._refresh_token == refresh_token:
                self._access_token = None
                self._refresh_token = None
            raise
        tokens = Resource(body)
        self._access_token = tokens.access_token
        self._refresh_token = tokens.refresh_token
        return tokens

    def _refresh_after(self, stale: Optional[str]) -> bool:
        """Single-flight refresh after ``stale`` was refused. True when there is a newer access token to retry with.

        Threads that hit a 401 with the same token queue on the lock; the first spends the refresh token,
        the others find the token already replaced and retry with the new one.
        """
        with self._lock:
            if self._access_token != stale:
                return self._access_token is not None
            if not self._refresh_token:
                return False
            tokens = self._spend_refresh_token(self._refresh_token)
        if self.on_tokens is not None:
            self.on_tokens(tokens)
        return True

    def _refresh(self, refresh_token: Optional[str]) -> Resource:
        with self._lock:
            token = refresh_token or self._refresh_token
            if not token:
                raise ValueError("no refresh token: sign in first, or pass one")
            tokens = self._spend_refresh_token(token)
        if self.on_tokens is not None:
            self.on_tokens(tokens)
        return tokens

    # -- requests ----------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Optional[Mapping[str, Any]] = None,
        authenticated: bool = True,
        timeout: Optional[float] = None,
    ) -> Any:
        """Calls any route (``path`` under ``/api/v1``, e.g. ``"/permissions"``) and answers the decoded body
        (``None`` for 204). Authenticated calls carry the access token and refresh it once on a 401.
        """
        if not authenticated:
            return self._transport.send(method, path, body=json, params=params, timeout=timeout)[2]
        token = self._access_token
        if token is None and self._refresh_token and self.auto_refresh:
            self._refresh_after(None)
            token = self._access_token
        try:
            return self._transport.send(method, path, body=json, params=params, token=token, timeout=timeout)[2]
        except AuthenticationError as e:
            if not (self.auto_refresh and token is not None and e.code in _REFRESHABLE_CODES):
                raise
            if not self._refresh_after(token):
                raise
        return self._transport.send(method, path, body=json, params=params, token=self._access_token, timeout=timeout)[2]

    def _resource(self, method: str, path: str, **kwargs: Any) -> Resource:
        return Resource(self.request(method, path, **kwargs))

    def _page(self, path: str, params: Optional[Mapping[str, Any]] = None) -> Page:
        query = dict(params or {})

        def fetch(cursor: str) -> Page:
            return self._page(path, {**query, "cursor": cursor})

        return Page(self.request("GET", path, params=query), fetch)


class _Group:
    def __init__(self, client: SaaSReady) -> None:
        self._client = client


class AuthAPI(_Group):
    """Accounts, sessions and two-factor login (``/auth``)."""

    def register(
        self, email: str, password: str, full_name: str, invitation_token: Optional[str] = None
    ) -> Resource:
        """Creates the account (and its personal organization, or joins the invited one) and signs in.

        Answers the token response ``{access_token, refresh_token, token_type, expires_in, user, organization, role}``.
        """
        body = _body(email=email, password=password, full_name=full_name, invitation_token=invitation_token)
        return self._client._store_tokens(self._client.request("POST", "/auth/register", json=body, authenticated=False))

    def login(self, email: str, password: str, two_factor_code: Optional[str] = None) -> Resource:
        """Signs in. With 2FA on and no code: ``TwoFactorRequiredError``; a TOTP code or an unused backup code works."""
        body = _body(email=email, password=password, two_factor_code=two_factor_code)
        return self._client._store_tokens(self._client.request("POST", "/auth/login", json=body, authenticated=False))

    def refresh(self, refresh_token: Optional[str] = None) -> Resource:
        """Spends the refresh token (the stored one by default) for new tokens, which are kept."""
        return self._client._refresh(refresh_token)

    def switch_org(self, org_id: IdLike) -> Resource:
        """Rescopes the session to another of your organizations; answers (and keeps) new tokens."""
        body = {"org_id": _id(org_id)}
        return self._client._store_tokens(self._client.request("POST", "/auth/switch-org", json=body))

    def logout(self) -> None:
        """Ends this session on the server and forgets the tokens."""
        self._client.request("POST", "/auth/logout")
        self._client.clear_tokens()

    def logout_all(self) -> None:
        """Ends every session of the user (on every device) and forgets the tokens."""
        self._client.request("POST", "/auth/logout-all")
        self._client.clear_tokens()

    def me(self) -> Resource:
        """``{id, email, full_name, email_verified, two_factor_enabled, created_at, current_org_id, current_org_role, permissions}``."""
        return self._client._resource("GET", "/auth/me")

    def update_me(self, full_name: str) -> Resource:
        return self._client._resource("PATCH", "/auth/me", json={"full_name": full_name})

    def list_sessions(self) -> Page:
        """Your open sessions ``{id, created_at, last_used_at, ip_address, user_agent, current}``."""
        return self._client._page("/auth/sessions")

    def revoke_session(self, session_id: IdLike) -> None:
        self._client.request("DELETE", "/auth/sessions/" + _seg(_id(session_id)))

    def change_password(self, current_password: str, new_password: str) -> None:
        """Ends your other sessions; this one stays signed in."""
        body = {"current_password": current_password, "new_password": new_password}
        self._client.request("POST", "/auth/password/change", json=body)

    def forgot_password(self, email: str) -> None:
        """Sends a reset link if the account exists (the answer is the same either way)."""
        self._client.request("POST", "/auth/password/forgot", json={"email": email}, authenticated=False)

    def reset_password(self, token: str, new_password: str) -> None:
        self._client.request("POST", "/auth/password/reset", json={"token": token, "new_password": new_password}, authenticated=False)

    def verify_email(self, token: str) -> None:
        self._client.request("POST", "/auth/email/verify", json={"token": token}, authenticated=False)

    def resend_verification_email(self) -> None:
        self._client.request("POST", "/auth/email/resend")

    def setup_2fa(self) -> Resource:
        """Starts TOTP set-up: ``{secret, otpauth_url, qr_code_url, backup_codes}``. 2FA is on only after ``verify_2fa``."""
        return self._client._resource("POST", "/auth/2fa/setup")

    enable_2fa = setup_2fa

    def verify_2fa(self, code: str) -> Resource:
        """Turns 2FA on with a code of the new secret (ends your other sessions): ``{two_factor_enabled: true}``."""
        return self._client._resource("POST", "/auth/2fa/verify", json={"code": code})

    def disable_2fa(self, password: str, code: str) -> None:
        """Turns 2FA off; needs the password and a current code (or a backup code)."""
        self._client.request("POST", "/auth/2fa/disable", json={"password": password, "code": code})

    def regenerate_backup_codes(self, code: str) -> Resource:
        """A new set of backup codes ``{backup_codes}``; the old ones stop working."""
        return self._client._resource("POST", "/auth/2fa/backup-codes", json={"code": code})

    def list_security_events(self, limit: Optional[int] = None, cursor: Optional[str] = None) -> Page:
        """Audit rows about you (as actor or target), across organizations, newest first."""
        return self._client._page("/auth/security-events", {"limit": limit, "cursor": cursor})

    def iter_security_events(self, page_size: Optional[int] = None) -> Iterator[Resource]:
        return self.list_security_events(limit=page_size).auto_paging_iter()


class OrgsAPI(_Group):
    """Organizations, members, roles, invitations and the audit log (``/orgs``)."""

    def create(self, name: str, slug: Optional[str] = None, metadata: Optional[Mapping[str, Any]] = None) -> Resource:
        """Creates an organization; you are its Owner (``org.your_role == "Owner"``). Your session stays scoped where it was."""
        return self._client._resource("POST", "/orgs", json=_body(name=name, slug=slug, metadata=metadata))

    def list(self, limit: Optional[int] = None, cursor: Optional[str] = None) -> Page:
        """One page of your organizations (oldest first), each with ``your_role``."""
        return self._client._page("/orgs", {"limit": limit, "cursor": cursor})

    def iter(self, page_size: Optional[int] = None) -> Iterator[Resource]:
        """Every one of your organizations, fetching the pages as needed."""
        return self.list(limit=page_size).auto_paging_iter()

    def get(self, org_id: IdLike) -> Resource:
        return self._client._resource("GET", "/orgs/" + _seg(_id(org_id)))

    def update(
        self, org_id: IdLike, *, name: Optional[str] = None, slug: Optional[str] = None, metadata: Optional[Mapping[str, Any]] = None
    ) -> Resource:
        """Changes the given fields; ``metadata`` replaces the stored object whole."""
        body = _body(name=name, slug=slug, metadata=None if metadata is None else dict(metadata))
        return self._client._resource("PATCH", "/orgs/" + _seg(_id(org_id)), json=body)

    def delete(self, org_id: IdLike) -> None:
        self._client.request("DELETE", "/orgs/" + _seg(_id(org_id)))

    # members

    def list_members(self, org_id: IdLike, limit: Optional[int] = None, cursor: Optional[str] = None) -> Page:
        """``{user_id, email, full_name, role_id, role_name, joined_at}``, in join order."""
        return self._client._page(self._path(org_id, "members"), {"limit": limit, "cursor": cursor})

    def iter_members(self, org_id: IdLike, page_size: Optional[int] = None) -> Iterator[Resource]:
        return self.list_members(org_id, limit=page_size).auto_paging_iter()

    def update_member_role(self, org_id: IdLike, user_id: IdLike, role_id: IdLike) -> Resource:
        path = self._path(org_id, "members", _id(user_id, "user_id"))
        return self._client._resource("PATCH", path, json={"role_id": _id(role_id, "role_id")})

    def remove_member(self, org_id: IdLike, user_id: IdLike) -> None:
        """Removes a member; your own user id leaves the organization."""
        self._client.request("DELETE", self._path(org_id, "members", _id(user_id, "user_id")))

    def leave(self, org_id: IdLike) -> None:
        self.remove_member(org_id, self._client.auth.me().id)

    # roles

    def list_roles(self, org_id: IdLike) -> Page:
        """The built-in roles (Owner, Admin, Member, Viewer) and custom ones: ``{id, name, description, permissions, is_system}``."""
        return self._client._page(self._path(org_id, "roles"))

    def get_role(self, org_id: IdLike, name: str) -> Resource:
        """The role of that name (case-insensitive), e.g. ``get_role(org.id, "Admin")``; ``LookupError`` if none."""
        for role in self.list_roles(org_id):
            if role.name.lower() == name.lower():
                return role
        raise LookupError("no role named {!r} in organization {}".format(name, _id(org_id)))

    def create_role(self, org_id: IdLike, name: str, permissions: Sequence[str], description: Optional[str] = None) -> Resource:
        body = _body(name=name, description=description, permissions=list(permissions))
        return self._client._resource("POST", self._path(org_id, "roles"), json=body)

    def update_role(
        self,
        org_id: IdLike,
        role_id: IdLike,
        *,
        name: Optional[str] = None,
        description: Optional[str] = None,
        permissions: Optional[Sequence[str]] = None,
    ) -> Resource:
        body = _body(name=name, description=description, permissions=None if permissions is None else list(permissions))
        return self._client._resource("PATCH", self._path(org_id, "roles", _id(role_id)), json=body)

    def delete_role(self, org_id: IdLike, role_id: IdLike) -> None:
        self._client.request("DELETE", self._path(org_id, "roles", _id(role_id)))

    # invitations

    def invite_member(self, org_id: IdLike, email: str, role_id: IdLike) -> Resource:
        """Invites by email with a role (an id, or a role from ``list_roles``); the answer carries the one-time ``token``."""
        body = {"email": email, "role_id": _id(role_id, "role_id")}
        return self._client._resource("POST", self._path(org_id, "invitations"), json=body)

    def list_invitations(
        self, org_id: IdLike, status: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> Page:
        """Newest first; ``status`` one of ``pending``, ``accepted``, ``revoked``, ``expired``."""
        return self._client._page(self._path(org_id, "invitations"), {"status": status, "limit": limit, "cursor": cursor})

    def iter_invitations(self, org_id: IdLike, status: Optional[str] = None, page_size: Optional[int] = None) -> Iterator[Resource]:
        return self.list_invitations(org_id, status=status, limit=page_size).auto_paging_iter()

    def revoke_invitation(self, org_id: IdLike, invitation_id: IdLike) -> None:
        self._client.request("DELETE", self._path(org_id, "invitations", _id(invitation_id)))

    def resend_invitation(self, org_id: IdLike, invitation_id: IdLike) -> Resource:
        """A new token and expiry (the old link stops working); the email goes out again."""
        return self._client._resource("POST", self._path(org_id, "invitations", _id(invitation_id), "resend"))

    # audit log

    def list_audit_logs(
        self,
        org_id: IdLike,
        limit: Optional[int] = 50,
        cursor: Optional[str] = None,
        *,
        action: Optional[str] = None,
        actor_id: Optional[str] = None,
        since: Optional[When] = None,
        until: Optional[When] = None,
    ) -> Page:
        """One page of the audit log, newest first: ``{id, timestamp, actor_id, user_email, action, target_type,
        target_id, ip_address, user_agent, metadata}``. ``since`` is inclusive, ``until`` exclusive (datetimes or ISO strings).
        """
        params = {"limit": limit, "cursor": cursor, "action": action, "actor_id": actor_id, "since": _when(since), "until": _when(until)}
        return self._client._page(self._path(org_id, "audit-logs"), params)

    def iter_audit_logs(
        self,
        org_id: IdLike,
        *,
        page_size: Optional[int] = 200,
        action: Optional[str] = None,
        actor_id: Optional[str] = None,
        since: Optional[When] = None,
        until: Optional[When] = None,
    ) -> Iterator[Resource]:
        """Every audit row matching the filters, newest first, fetching the pages as needed."""
        return self.list_audit_logs(
            org_id, limit=page_size, action=action, actor_id=actor_id, since=since, until=until
        ).auto_paging_iter()

    def export_audit_logs(
        self,
        org_id: IdLike,
        format: str = "ndjson",
        *,
        action: Optional[str] = None,
        actor_id: Optional[str] = None,
        since: Optional[When] = None,
        until: Optional[When] = None,
    ) -> str:
        """The whole (filtered) audit log as ``ndjson`` (one row a line) or ``csv`` text."""
        params = {"format": format, "action": action, "actor_id": actor_id, "since": _when(since), "until": _when(until)}
        text = self._client.request("GET", self._path(org_id, "audit-logs", "export"), params=params)
        return text if isinstance(text, str) else ""

    def verify_audit_log(self, org_id: IdLike) -> Resource:
        """Walks the organization's hash chain: ``{valid, checked, first_invalid_id}``."""
        return self._client._resource("GET", self._path(org_id, "audit-logs", "verify"))

    @staticmethod
    def _path(org_id: IdLike, *parts: str) -> str:
        return "/".join(["/orgs", _seg(_id(org_id))] + [_seg(p) for p in parts])


class InvitationsAPI(_Group):
    """The invitee's side (``/invitations``)."""

    def preview(self, token: str) -> Resource:
        """``{organization: {id, name}, email, role_name, expires_at, status}`` of an invitation token (no sign-in needed)."""
        return Resource(self._client.request("POST", "/invitations/preview", json={"token": token}, authenticated=False))

    def accept(self, token: str) -> Resource:
        """Joins the invitation's organization (signed in with the invited email): ``{organization, role}``."""
        return self._client._resource("POST", "/invitations/accept", json={"token": token})


class FeaturesAPI(_Group):
    """Feature flags per organization (``/orgs/{org_id}/feature-flags``) and their global definitions."""

    def set_flag(self, org_id: IdLike, flag_name: str, enabled: bool) -> Resource:
        """Overrides a flag for the organization (needs ``flag.manage``); answers the effective flag ``{key, enabled, source}``."""
        return self._client._resource("PUT", self._flag_path(org_id, flag_name), json={"enabled": bool(enabled)})

    def clear_flag(self, org_id: IdLike, flag_name: str) -> None:
        """Removes the organization's override (back to the rollout or the default)."""
        self._client.request("DELETE", self._flag_path(org_id, flag_name))

    def get_flag(self, flag_name: str, org_id: Optional[IdLike] = None) -> Resource:
        """``{key, enabled, source}`` in the organization (default: your session's current one)."""
        return self._client._resource("GET", self._flag_path(self._org(org_id), flag_name))

    def is_enabled(self, flag_name: str, org_id: Optional[IdLike] = None) -> bool:
        """Whether the flag is on in the organization (default: your session's current one). Unknown flags are off."""
        return bool(self.get_flag(flag_name, org_id).enabled)

    def list_flags(self, org_id: Optional[IdLike] = None) -> Page:
        """The organization's effective flags ``{key, enabled, source, updated_at}``."""
        return self._client._page("/orgs/{}/feature-flags".format(_seg(self._org(org_id))))

    def define_flag(
        self, flag_name: str, default_enabled: bool, description: Optional[str] = None, rollout_percent: Optional[int] = None
    ) -> Resource:
        """Creates or replaces a global definition (instance admins only)."""
        body: Dict[str, Any] = {"default_enabled": bool(default_enabled), "rollout_percent": rollout_percent}
        if description is not None:
            body["description"] = description
        return self._client._resource("PUT", "/feature-flags/" + _seg(flag_name), json=body)

    def list_definitions(self) -> Page:
        """Every global flag definition (instance admins only)."""
        return self._client._page("/feature-flags")

    def _org(self, org_id: Optional[IdLike]) -> str:
        if org_id is not None:
            return _id(org_id)
        current = self._client.auth.me().current_org_id
        if current is None:
            raise ValueError("the session has no current organization: pass org_id")
        return str(current)

    @staticmethod
    def _flag_path(org_id: IdLike, flag_name: str) -> str:
        return "/orgs/{}/feature-flags/{}".format(_seg(_id(org_id)), _seg(flag_name))


class AuthzAPI(_Group):
    """Permission checks (``/authz/check``) and the permission catalog."""

    def check(self, org_id: IdLike, permission: str) -> bool:
        """Whether you hold ``permission`` in the organization now (``False`` for organizations you are not in)."""
        return bool(self._client.request("POST", "/authz/check", json={"org_id": _id(org_id), "permission": permission})["allowed"])

    def check_many(self, checks: Iterable[Tuple[IdLike, str]]) -> List[bool]:
        """Up to 100 ``(org_id, permission)`` checks in one call, answered in order."""
        body = {"checks": [{"org_id": _id(o), "permission": p} for o, p in checks]}
        return [bool(r["allowed"]) for r in self._client.request("POST", "/authz/check", json=body)["results"]]

    def list_permissions(self) -> Page:
        """The permission catalog ``{key, description}``."""
        return self._client._page("/permissions")
