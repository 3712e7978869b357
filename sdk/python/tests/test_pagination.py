"""Cursor pages: Page, next_page(), auto_paging_iter() and the iter_* helpers, against the live API."""

import unittest

from helpers import new_user, requires_api, unique, unique_email

from saasready import Page


@requires_api
class PaginationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.client, cls.tokens, _ = new_user(full_name="Pat Pages")
        cls.created = [cls.client.orgs.create("Paged {}".format(i), unique("paged")) for i in range(5)]

    def test_org_pages_follow_the_cursor(self) -> None:
        first = self.client.orgs.list(limit=2)
        self.assertIsInstance(first, Page)
        self.assertEqual(len(first), 2)
        self.assertTrue(first.has_more)
        pages = [first]
        while pages[-1].has_more:
            pages.append(pages[-1].next_page())
        self.assertEqual([len(p) for p in pages], [2, 2, 2])
        self.assertIsNone(pages[-1].next_page())
        ids = [o.id for p in pages for o in p]
        expected = [self.tokens.organization.id] + [o.id for o in self.created]
        self.assertEqual(ids, expected)  # oldest first, each once
        self.assertEqual([o.id for o in self.client.orgs.iter(page_size=2)], expected)
        self.assertEqual([o.id for o in self.client.orgs.list(limit=200)], expected)
        # a cursor can also be passed by hand
        self.assertEqual([o.id for o in self.client.orgs.list(limit=2, cursor=first.next_cursor)], expected[2:4])

    def test_audit_log_iteration_visits_every_row_once_newest_first(self) -> None:
        org = self.created[0]
        for i in range(4):
            self.client.orgs.update(org.id, metadata={"step": i})
        everything = self.client.orgs.list_audit_logs(org.id, limit=200)
        self.assertFalse(everything.has_more)
        rows = list(self.client.orgs.iter_audit_logs(org.id, page_size=2))
        self.assertEqual([r.id for r in rows], [r.id for r in everything])
        self.assertEqual(len({r.id for r in rows}), len(rows))
        self.assertEqual(rows[-1].action, "org.created")
        updates = list(self.client.orgs.iter_audit_logs(org.id, page_size=3, action="org.updated"))
        self.assertEqual(len(updates), 4)
        self.assertTrue(all(r.action == "org.updated" for r in updates))
        since = updates[1].timestamp  # inclusive: this one and the newer one
        self.assertEqual(
            [r.id for r in self.client.orgs.iter_audit_logs(org.id, action="org.updated", since=since)],
            [r.id for r in updates if r.timestamp >= since],
        )
        export = self.client.orgs.export_audit_logs(org.id, format="csv", action="org.updated")
        lines = export.strip().splitlines()
        self.assertTrue(lines[0].startswith("id,timestamp,actor_id"))
        self.assertEqual(len(lines), 5)

    def test_invitation_and_member_iteration(self) -> None:
        org = self.created[1]
        viewer = self.client.orgs.get_role(org.id, "Viewer")
        invited = [self.client.orgs.invite_member(org.id, unique_email("inv{}".format(i)), viewer).id for i in range(3)]
        self.assertEqual([i.id for i in self.client.orgs.iter_invitations(org.id, page_size=1)], list(reversed(invited)))
        self.assertEqual([m.role_name for m in self.client.orgs.iter_members(org.id, page_size=1)], ["Owner"])
        sessions = self.client.auth.list_sessions()
        self.assertIsNone(sessions.next_cursor)
        self.assertGreaterEqual(len(list(self.client.auth.iter_security_events(page_size=2))), 1)


if __name__ == "__main__":
    unittest.main()
