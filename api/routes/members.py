"""Members: profiles, tags, tokens, export and erasure."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response, status

from api.auth import ApiCaller, Coordinator, CurrentMember
from api.deps import Conn, EmbedderDep, MailingDep, Sending
from api.errors import problem_responses
from models.members import (
    Member,
    MemberCreate,
    MemberCreated,
    MemberToken,
    MemberUpdate,
    TagCount,
    TagsReplace,
)
from models.signin import Welcome
from service import export as data_export
from service.identity import links, tokens
from service.members import service as members_service

router = APIRouter(prefix="/v1", tags=["members"])

_AUTH = (401, 403)


@router.post(
    "/members",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberCreated,
    responses=problem_responses(*_AUTH, 409, 413, 422),
)
async def create_member(
    data: MemberCreate, conn: Conn, embedder: EmbedderDep, _: Coordinator
) -> MemberCreated:
    """Create a member (coordinator). The response carries the member's token, shown once."""
    member, token = await members_service.create_member(conn, embedder, data)
    return MemberCreated(**member.model_dump(), token=token)


@router.get("/members/me", response_model=Member, responses=problem_responses(*_AUTH))
async def get_me(conn: Conn, principal: CurrentMember) -> Member:
    """The calling member's own profile."""
    return await members_service.get_member(conn, principal, principal.member_id)


@router.get(
    "/members/{member_id:uuid}", response_model=Member, responses=problem_responses(401, 404)
)
async def get_member(member_id: UUID, conn: Conn, principal: ApiCaller) -> Member:
    """A member's profile; the e-mail address only for the member and the coordinator."""
    return await members_service.get_member(conn, principal, member_id)


@router.patch(
    "/members/{member_id:uuid}",
    response_model=Member,
    responses=problem_responses(*_AUTH, 404, 409, 413, 422, 503),
)
async def update_member(
    member_id: UUID,
    update: MemberUpdate,
    conn: Conn,
    embedder: EmbedderDep,
    principal: ApiCaller,
    mailing: MailingDep,
) -> Member:
    """Change some fields of a profile (self or coordinator; municipality: coordinator). A
    member's own new `email` takes effect when the link sent to it is opened (`email_pending`
    until then; the old address is told); the coordinator's applies at once."""
    return await members_service.update_member(
        conn, embedder, principal, member_id, update, mailing=mailing
    )


@router.put(
    "/members/{member_id:uuid}/tags",
    response_model=Member,
    responses=problem_responses(*_AUTH, 404, 413, 422),
)
async def replace_tags(
    member_id: UUID, body: TagsReplace, conn: Conn, principal: ApiCaller
) -> Member:
    """Replace a member's tags (self or coordinator)."""
    return await members_service.replace_tags(conn, principal, member_id, body.tags)


@router.delete(
    "/members/{member_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(*_AUTH, 404),
)
async def delete_member(member_id: UUID, conn: Conn, principal: ApiCaller) -> Response:
    """Erase a member and everything derived from them (self or coordinator)."""
    await members_service.delete_member(conn, principal, member_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/members/{member_id:uuid}/export", responses=problem_responses(*_AUTH, 404))
async def export_member(member_id: UUID, conn: Conn, principal: ApiCaller) -> dict[str, Any]:
    """All data held about a member, as JSON (self or coordinator)."""
    return await data_export.export_member(conn, principal, member_id)


@router.post(
    "/members/{member_id:uuid}/token",
    response_model=MemberToken,
    responses=problem_responses(*_AUTH, 404),
)
async def rotate_token(member_id: UUID, conn: Conn, principal: ApiCaller) -> MemberToken:
    """Issue a new token for a member; the old one stops working at once."""
    token = await tokens.rotate(conn, principal, member_id)
    return MemberToken(id=str(member_id), token=token)


@router.post(
    "/members/{member_id:uuid}/welcome",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Welcome,
    responses=problem_responses(*_AUTH, 404, 422, 503),
)
async def welcome(member_id: UUID, conn: Conn, _: Coordinator, sending: Sending) -> Welcome:
    """E-mail the member a welcome with a sign-in link, good for 7 days (coordinator)."""
    welcomed_at = await links.send_welcome(conn, sending, member_id)
    return Welcome(id=str(member_id), welcomed_at=welcomed_at)


@router.get("/tags", response_model=list[TagCount], responses=problem_responses(401))
async def list_tags(conn: Conn, _: ApiCaller) -> list[TagCount]:
    """The network's tag vocabulary with how many members use each tag."""
    return await members_service.tag_vocabulary(conn)
