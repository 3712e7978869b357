"""The tutorial (sdk/python/README.md, "Use it from your app"), step by step, against the live API."""

import unittest

from helpers import API_URL, PASSWORD, requires_api, unique, unique_email

from saasready import AuthenticationError, NotFoundError, Page, PermissionDeniedError, Resource, SaaSReady


@requires_api
class TutorialTest(unittest.TestCase):
    def test_the_tutorial_end_to_end(self) -> None:
        ada_email = unique_email("ada")

        # 1. Register: creates the user, a personal organization (Owner) and a session; the client keeps the tokens.
        client = SaaSReady(API_URL)
        tokens = client.auth.register(ada_email, PASSWORD, "Ada Lovelace")
        self.assertIsInstance(tokens, Resource)
        self.assertEqual(tokens.token_type, "Bearer")
        self.assertEqual(tokens.user.email, ada_email)
        self.assertEqual(tokens.role, "Owner")
        self.assertEqual(client.access_token, tokens.access_token)
        self.assertEqual(client.refresh_token, tokens.refresh_token)
        personal_org_id = tokens.organization.id

        # 2. Log in (a new client, as another process of the app would).
        client = SaaSReady(API_URL)
        response = client.auth.login(ada_email, PASSWORD)
        self.assertTrue(response.access_token)
        self.assertGreater(response.expires_in, 0)
        self.assertEqual(response.organization.id, personal_org_id)

        # 3. Who am I.
        me = client.auth.me()
        self.assertEqual((me.email, me.full_name), (ada_email, "Ada Lovelace"))
        self.assertEqual(me.current_org_id, personal_org_id)
        self.assertEqual(me.current_org_role, "Owner")
        self.assertIn("org.delete", me.permissions)
        self.assertFalse(me.two_factor_enabled)

        # 4. Create an organization: the creator is its Owner.
        slug = unique("acme")
        org = client.orgs.create("Acme Inc", slug)
        self.assertEqual((org.name, org.slug, org.your_role), ("Acme Inc", slug, "Owner"))
        self.assertEqual(org.metadata, {})

        # 5. List my organizations, each with my role.
        orgs = client.orgs.list()
        self.assertIsInstance(orgs, Page)
        self.assertEqual({o.id: o.your_role for o in orgs}, {personal_org_id: "Owner", org.id: "Owner"})
        self.assertIsNone(orgs.next_cursor)

        # 6. Metadata: replaced whole, read back with attribute access.
        updated = client.orgs.update(org.id, metadata={"plan": "pro", "seats": 25, "features": {"sso": True}})
        self.assertEqual(updated.metadata.plan, "pro")
        fetched = client.orgs.get(org.id)
        self.assertEqual(fetched.metadata.seats, 25)
        self.assertTrue(fetched.metadata.features.sso)
        self.assertEqual(fetched.to_dict()["metadata"], {"plan": "pro", "seats": 25, "features": {"sso": True}})

        # 7. Roles: the built-in ones.
        roles = client.orgs.list_roles(org.id)
        self.assertEqual({r.name for r in roles if r.is_system}, {"Owner", "Admin", "Member", "Viewer"})
        member_role = next(r for r in roles if r.name == "Member")
        self.assertEqual(client.orgs.get_role(org.id, "member").id, member_role.id)

        # 8. Invite Bob as a Member; the one-time token comes back only here.
        bob_email = unique_email("bob")
        invitation = client.orgs.invite_member(org.id, bob_email, member_role.id)
        self.assertEqual((invitation.email, invitation.role_name, invitation.status), (bob_email, "Member", "pending"))
        self.assertTrue(invitation.token)
        self.assertEqual(invitation.invited_by, me.id)

        # 9. The invitation is listed, without its token.
        pending = client.orgs.list_invitations(org.id)
        listed = next(i for i in pending if i.id == invitation.id)
        self.assertEqual(listed.status, "pending")
        self.assertNotIn("token", listed)

        # 10. Bob signs up with the invitation token and lands in Acme as a Member.
        bob = SaaSReady(API_URL)
        preview = bob.invitations.preview(invitation.token)
        self.assertEqual((preview.organization.name, preview.role_name), ("Acme Inc", "Member"))
        bob_tokens = bob.auth.register(bob_email, "another good passphrase", "Bob Smith", invitation_token=invitation.token)
        self.assertEqual((bob_tokens.organization.id, bob_tokens.role), (org.id, "Member"))
        members = client.orgs.list_members(org.id)
        self.assertEqual({(m.email, m.role_name) for m in members}, {(ada_email, "Owner"), (bob_email, "Member")})
        self.assertEqual([o.your_role for o in bob.orgs.list()], ["Member"])

        # 11. A second invitation, revoked.
        carol = client.orgs.invite_member(org.id, unique_email("carol"), member_role)
        client.orgs.revoke_invitation(org.id, carol.id)
        self.assertEqual([i.id for i in client.orgs.list_invitations(org.id, status="revoked")], [carol.id])
        self.assertEqual(client.orgs.list_invitations(org.id, status="accepted")[0].id, invitation.id)

        # 12. Feature flags: an override for Acme, read by any member.
        flag = client.features.set_flag(org.id, "new-dashboard", True)
        self.assertEqual((flag.key, flag.enabled, flag.source), ("new-dashboard", True, "org"))
        self.assertIs(client.features.is_enabled("new-dashboard", org_id=org.id), True)
        self.assertIs(bob.features.is_enabled("new-dashboard", org_id=org.id), True)
        self.assertIs(bob.features.is_enabled("new-dashboard"), True)  # Bob's session is scoped to Acme
        self.assertIs(client.features.is_enabled("new-dashboard"), False)  # Ada's is still on her personal org
        self.assertIs(client.features.is_enabled("never-defined", org_id=org.id), False)
        client.features.set_flag(org.id, "new-dashboard", False)
        self.assertIs(client.features.is_enabled("new-dashboard", org_id=org.id), False)

        # A Member cannot do an Admin's work.
        with self.assertRaises(PermissionDeniedError) as denied:
            bob.orgs.update(org.id, metadata={"plan": "free"})
        self.assertEqual((denied.exception.status, denied.exception.code), (403, "permission_denied"))

        # 13. The audit log saw all of it, newest first, with who did it and from which client.
        logs = client.orgs.list_audit_logs(org.id, limit=50)
        actions = [log.action for log in logs]
        for action in ("org.created", "org.updated", "member.invited", "invitation.accepted", "invitation.revoked", "flag.updated"):
            self.assertIn(action, actions)
        self.assertEqual(actions[0], "flag.updated")
        self.assertEqual(actions[-1], "org.created")
        timestamps = [log.timestamp for log in logs]
        self.assertEqual(timestamps, sorted(timestamps, reverse=True))
        created = next(log for log in logs if log.action == "org.created")
        self.assertEqual((created.actor_id, created.user_email, created.target_id), (me.id, ada_email, org.id))
        self.assertTrue(created.user_agent.startswith("saasready-python/"), created.user_agent)
        self.assertTrue(client.orgs.verify_audit_log(org.id).valid)

        # 14. Delete the organization: it is gone for everyone.
        client.orgs.delete(org.id)
        with self.assertRaises(NotFoundError) as gone:
            client.orgs.get(org.id)
        self.assertEqual(gone.exception.code, "org_not_found")
        self.assertEqual([o.id for o in client.orgs.list()], [personal_org_id])
        self.assertEqual(len(bob.orgs.list()), 0)

        # 15. Log out: the session ends on the server and the client forgets the tokens.
        old_access = client.access_token
        client.auth.logout()
        self.assertIsNone(client.access_token)
        stale = SaaSReady(API_URL, access_token=old_access)
        with self.assertRaises(AuthenticationError) as ended:
            stale.auth.me()
        self.assertEqual(ended.exception.code, "session_revoked")


if __name__ == "__main__":
    unittest.main()
