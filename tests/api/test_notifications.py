"""The workflow's e-mails, end to end: HTTP calls in, mail out of a real SMTP server."""

from __future__ import annotations

from tests.helpers.api import EXPERTISE, QUESTION, ask, create_member, invite
from tests.helpers.mail import PUBLIC_URL, Mailed, wait_for_mail


class TestWorkflowMail:
    async def test_invitation_and_acceptance_are_mailed(self, mailed: Mailed) -> None:
        _, client, mailbox = mailed
        asker = await create_member(
            client, name="Anna Fragend", email="anna@example.org", municipality="Astadt"
        )
        peer = await create_member(
            client,
            name="Paul Antwort",
            email="paul@example.org",
            municipality="Pstadt",
            expertise=EXPERTISE,
        )
        question = await ask(client, asker, **QUESTION)
        response = await invite(client, asker, question, peer.id)
        await wait_for_mail(mailbox, 1)
        [invitation] = mailbox.received
        assert invitation.recipients == ["paul@example.org"]
        assert "Anna Fragend" in invitation.body
        assert "anna@example.org" not in invitation.body  # no contact before acceptance
        request_id = response.json()[0]["id"]
        # The link leads to the invitation on the page where the colleague answers it.
        assert f"{PUBLIC_URL}/anfragen/{request_id}" in invitation.body
        await client.post(f"/v1/requests/{request_id}/accept", headers=peer.headers)
        await wait_for_mail(mailbox, 3)
        by_recipient = {mail.recipients[0]: mail for mail in mailbox.received[1:]}
        assert set(by_recipient) == {"anna@example.org", "paul@example.org"}
        assert "paul@example.org" in by_recipient["anna@example.org"].body
        assert "anna@example.org" in by_recipient["paul@example.org"].body
        for mail in by_recipient.values():
            assert f"{PUBLIC_URL}/anfragen/{request_id}" in mail.body
