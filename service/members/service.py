"""Member rules: who may see and change what, and keeping passages in step with the text."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

from models.members import DigestFrequency, Member, MemberCreate, MemberUpdate, TagCount
from service import identity
from service.db import Connection
from service.embedding import Embedder
from service.errors import Conflict, Forbidden, NotFound, ServiceUnavailable
from service.identity.tokens import hash_secret, new_token
from service.matching import explain
from service.matching.passages import embed_passages
from service.matching.tags import clean_tag, normalize_tag
from service.members import email_change, erasure, expertise_repository, repository
from service.notifications.mailing import Mailing


def tag_pairs(tags: Sequence[str]) -> list[tuple[str, str]]:
    """(normalized key, display form) for each tag, every tag as the member wrote it: two tags
    may share a key (synonyms), and a tag may have none (an emoji matches nothing)."""
    return [(normalize_tag(clean_tag(tag)), clean_tag(tag)) for tag in tags]


def same_for_matching(tags: Sequence[str]) -> list[list[str]]:
    """Groups of the member's tags that mean the same for matching (the form says so)."""
    groups: dict[str, list[str]] = {}
    for key, display in tag_pairs(tags):
        if key:
            groups.setdefault(key, []).append(display)
    return [group for group in groups.values() if len(group) > 1]


async def embed_expertise(embedder: Embedder, expertise: str) -> tuple[list[str], Any]:
    """Split the expertise into passages and embed them, off the event loop."""
    passage_lists, vectors = await asyncio.to_thread(embed_passages, embedder, [expertise])
    return passage_lists[0], vectors


async def _store_passages(
    conn: Connection, embedder: Embedder, member_id: UUID, expertise: str
) -> None:
    texts, vectors = await embed_expertise(embedder, expertise)
    await expertise_repository.replace_passages(
        conn, member_id, model=embedder.name, texts=texts, vectors=vectors
    )


async def create_member(
    conn: Connection, embedder: Embedder, data: MemberCreate
) -> tuple[Member, str]:
    """Create a member with a fresh token; returns the member and the token (shown once)."""
    if await repository.email_taken(conn, data.email):
        raise Conflict(f"A member with the e-mail address {data.email} exists already.")
    # Someone erased who is made a member again on purpose: imports may find them again.
    await erasure.forget(conn, email=data.email)
    texts, vectors = await embed_expertise(embedder, data.expertise)
    token = new_token()
    municipality_id = await repository.upsert_municipality(
        conn,
        name=data.municipality.name,
        state=data.municipality.state,
        kind=data.municipality.kind,
    )
    member_id = uuid4()
    row = repository.MemberRow(
        municipality_id=municipality_id,
        name=data.name,
        email=data.email,
        role=data.role,
        expertise=data.expertise,
        languages=data.languages,
        accepting_requests=data.accepting_requests,
        max_open_requests=data.max_open_requests,
    )
    await repository.insert_members(
        conn, [repository.NewMember(id=member_id, row=row, token_hash=hash_secret(token))]
    )
    await expertise_repository.replace_tags(conn, member_id, tag_pairs(data.tags))
    await expertise_repository.replace_passages(
        conn, member_id, model=embedder.name, texts=texts, vectors=vectors
    )
    if data.digest is not DigestFrequency.weekly:
        await repository.set_digest(conn, member_id, data.digest)
    member = await repository.get_member(conn, member_id)
    assert member is not None
    return member, token


async def _get_existing(conn: Connection, member_id: UUID, *, for_update: bool = False) -> Member:
    member = await repository.get_member(conn, member_id, for_update=for_update)
    if member is None:
        raise NotFound(f"No member with id {member_id}.")
    return member


def visible_to(member: Member, principal: identity.Principal) -> Member:
    """E-mail addresses, and when a member was welcomed and signed in, are shown only to the
    member themselves and the coordinator."""
    if principal.may_act_for(UUID(member.id)):
        return member
    return member.model_copy(
        update={"email": None, "welcomed_at": None, "signed_in_at": None, "email_pending": None}
    )


async def get_member(conn: Connection, principal: identity.Principal, member_id: UUID) -> Member:
    return visible_to(await _get_existing(conn, member_id), principal)


def _require_may_act_for(principal: identity.Principal, member_id: UUID) -> None:
    if not principal.may_act_for(member_id):
        raise Forbidden("Members may change only their own profile.")


async def update_member(
    conn: Connection,
    embedder: Embedder,
    principal: identity.Principal,
    member_id: UUID,
    update: MemberUpdate,
    *,
    mailing: Mailing | None,
) -> Member:
    """Apply a partial update; passages are re-embedded before returning when the expertise
    changed, so the next question already sees the new text. A member's own new e-mail
    address waits for its confirmation (``email_change``); the coordinator's applies at once."""
    _require_may_act_for(principal, member_id)
    member = await _get_existing(conn, member_id, for_update=True)
    coordinating = isinstance(principal, identity.CoordinatorPrincipal)
    if update.municipality is not None and not coordinating:
        raise Forbidden("Only the coordinator can change a member's municipality.")
    new_email = (
        update.email
        if update.email is not None and update.email.lower() != (member.email or "").lower()
        else None
    )
    if new_email is not None:
        if await repository.email_taken(conn, new_email, except_member=member_id):
            raise Conflict(f"A member with the e-mail address {new_email} exists already.")
        if not coordinating and mailing is None:
            raise ServiceUnavailable(
                "A new e-mail address is confirmed by a link sent to it, and this server sends "
                "no e-mail (PEERCONSULT_SMTP_URL is not set); the coordinator can change it."
            )
    municipality_id = None
    if update.municipality is not None:
        municipality_id = await repository.upsert_municipality(
            conn,
            name=update.municipality.name,
            state=update.municipality.state,
            kind=update.municipality.kind,
        )
    if update.expertise is not None and update.expertise != member.expertise:
        await _store_passages(conn, embedder, member_id, update.expertise)
    if update.tags is not None:
        await expertise_repository.replace_tags(conn, member_id, tag_pairs(update.tags))
    await repository.update_member(
        conn,
        member_id,
        repository.MemberChanges(
            name=update.name,
            email=new_email if coordinating else None,
            role=update.role,
            expertise=update.expertise,
            languages=update.languages,
            accepting_requests=update.accepting_requests,
            max_open_requests=update.max_open_requests,
            municipality_id=municipality_id,
        ),
    )
    if update.digest is not None:
        await repository.set_digest(conn, member_id, update.digest)
    if new_email is not None and coordinating:
        await email_change.changed(conn, mailing, member, new_email, by_coordinator=True)
    elif new_email is not None and mailing is not None:
        await email_change.request(conn, mailing, member, new_email)
    return await get_member(conn, principal, member_id)


async def replace_tags(
    conn: Connection,
    principal: identity.Principal,
    member_id: UUID,
    tags: Sequence[str],
) -> Member:
    _require_may_act_for(principal, member_id)
    await _get_existing(conn, member_id, for_update=True)
    await expertise_repository.replace_tags(conn, member_id, tag_pairs(tags))
    await repository.update_member(conn, member_id, repository.MemberChanges())
    return await get_member(conn, principal, member_id)


async def delete_member(conn: Connection, principal: identity.Principal, member_id: UUID) -> None:
    _require_may_act_for(principal, member_id)
    if not await erasure.erase(conn, member_id):
        raise NotFound(f"No member with id {member_id}.")


async def frequent_words(conn: Connection, text: str) -> set[str]:
    """The folded words of ``text`` that too many profiles of this network use to mark them
    in an explanation (``service/matching/explain.py``)."""
    words = explain.question_words(text)
    frequent = await expertise_repository.frequent_words(
        conn, list(words.values()), share=explain.FREQUENT_SHARE
    )
    return {explain.key(word) for word in frequent}


async def tag_vocabulary(conn: Connection) -> list[TagCount]:
    return await expertise_repository.tag_counts(conn)


async def list_members(
    conn: Connection, coordinator: identity.CoordinatorPrincipal
) -> list[Member]:
    """Every member, with e-mail addresses: the coordinator's view of the network."""
    return await repository.list_members(conn)
