"""Tokens and sessions as the identity services keep them (service/identity/tokens.py,
sessions.py): a new token ends the old one, the member's sessions and their sign-in links; an
ended session still names its member (for a draft), but no longer signs anyone in."""

from __future__ import annotations

import pytest

from service import identity
from service.embedding import Embedder
from service.errors import Forbidden
from service.identity import links, sessions, tokens
from service.notifications.mailing import Mailing
from tests.helpers.app import ADMIN_TOKEN
from tests.helpers.database import TransactionPool
from tests.helpers.members import new_member

SECRET = b"a server secret of this installation"


class TestTokens:
    async def test_a_new_token_ends_the_old_one_the_sessions_and_the_links(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            member = await new_member(conn, fake_embedder, municipality="Aachen")
            first = await tokens.rotate(conn, identity.COORDINATOR, member.member_id)
            assert await tokens.authenticate(conn, first, admin_token=None) == member
            session = await sessions.start_for_member(conn, member.member_id)
            await links.send_welcome(
                conn, Mailing(public_url="https://p.example"), member.member_id
            )
            second = await tokens.rotate(conn, member, member.member_id)
            assert await tokens.authenticate(conn, first, admin_token=None) is None
            assert await tokens.authenticate(conn, second, admin_token=None) == member
            found = await sessions.find(conn, session, server_secret=SECRET, admin_token=None)
            assert found is not None and not found.live
            assert all(link["ended_at"] for link in await links.links_of(conn, member.member_id))

    async def test_nobody_rotates_someone_elses_token(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            member = await new_member(conn, fake_embedder, municipality="Aachen")
            other = await new_member(conn, fake_embedder, municipality="Bonn")
            with pytest.raises(Forbidden):
                await tokens.rotate(conn, other, member.member_id)


class TestSessions:
    async def test_a_session_ends_when_signed_out_and_names_its_member_still(
        self, db_pool: TransactionPool, fake_embedder: Embedder
    ) -> None:
        async with db_pool.acquire() as conn:
            member = await new_member(conn, fake_embedder, municipality="Aachen")
            secret = await sessions.start_for_member(conn, member.member_id)
            live = await sessions.find(conn, secret, server_secret=SECRET, admin_token=None)
            assert live == sessions.Found(member, live=True)
            await sessions.end(conn, secret)
            ended = await sessions.find(conn, secret, server_secret=SECRET, admin_token=None)
            assert ended == sessions.Found(member, live=False)

    async def test_the_coordinators_session_holds_with_its_admin_token_only(
        self, db_pool: TransactionPool
    ) -> None:
        async with db_pool.acquire() as conn:
            secret = await sessions.start_for_coordinator(
                conn, server_secret=SECRET, admin_token=ADMIN_TOKEN
            )
            same = await sessions.find(conn, secret, server_secret=SECRET, admin_token=ADMIN_TOKEN)
            assert same == sessions.Found(identity.COORDINATOR, live=True)
            changed = await sessions.find(
                conn, secret, server_secret=SECRET, admin_token="another-admin-token-0123456"
            )
            assert changed is None
