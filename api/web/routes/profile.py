"""Mein Profil: expertise, tags, languages, pause switch and capacity."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Conn, EmbedderDep, MailingDep
from api.web import forms, messages
from api.web.auth import CheckedForm, MemberVisitor
from api.web.rendering import redirect, render
from api.web.route import WebRoute
from models.members import Member, MemberUpdate
from service.errors import Conflict, ServiceUnavailable
from service.members import email_change
from service.members import service as members_service

router = APIRouter(route_class=WebRoute, include_in_schema=False)

EMPTY_TAG_FIELDS = 3


def profile_values(member: Member) -> dict[str, Any]:
    """The form's fields as stored."""
    return {
        "name": member.name,
        "email": member.email or "",
        "role": member.role,
        "expertise": member.expertise,
        "tags": list(member.tags),
        "languages": ", ".join(member.languages),
        "accepting_requests": member.accepting_requests,
        "max_open_requests": str(member.max_open_requests),
        "digest": member.digest.value,
    }


def submitted_values(form: Any) -> dict[str, Any]:
    """The form's fields as sent (shown again when something needs fixing)."""
    return {
        "name": forms.text(form, "name"),
        "email": forms.text(form, "email"),
        "role": forms.text(form, "role"),
        "expertise": forms.text(form, "expertise"),
        "tags": forms.texts(form, "tags"),
        "languages": forms.text(form, "languages"),
        "accepting_requests": forms.checkbox(form, "accepting_requests"),
        "max_open_requests": forms.text(form, "max_open_requests"),
        "digest": forms.text(form, "digest"),
    }


def payload(values: dict[str, Any]) -> dict[str, Any]:
    """The body ``PATCH /v1/members/{id}`` would get for this form."""
    return {
        "name": values["name"],
        "email": values["email"],
        "role": values["role"],
        "expertise": values["expertise"],
        "tags": values["tags"],
        "languages": forms.split_list(values["languages"]),
        "accepting_requests": values["accepting_requests"],
        "max_open_requests": forms.number(values["max_open_requests"]),
        # The member's own page has the digest setting; the coordinator's form does not.
        **({"digest": values["digest"]} if values.get("digest") else {}),
    }


async def _page(
    request: Request,
    conn: Conn,
    member: Member,
    values: dict[str, Any],
    *,
    errors: messages.FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    vocabulary = await members_service.tag_vocabulary(conn)
    return render(
        request,
        "profile.html",
        {
            "member": member,
            "values": values,
            "errors": errors or messages.FormErrors(),
            "vocabulary": vocabulary,
            "empty_tag_fields": EMPTY_TAG_FIELDS,
            "same_tags": members_service.same_for_matching(values["tags"]),
        },
        status_code=status_code,
    )


@router.get("/profil")
async def profile(request: Request, conn: Conn, visitor: MemberVisitor) -> Response:
    """Your profile as a form."""
    member = await members_service.get_member(conn, visitor.principal, visitor.principal.member_id)
    return await _page(request, conn, member, profile_values(member))


@router.post("/profil")
async def save_profile(
    request: Request,
    conn: Conn,
    embedder: EmbedderDep,
    mailing: MailingDep,
    visitor: MemberVisitor,
    form: CheckedForm,
) -> Response:
    """Save the profile through the same service call as PATCH /v1/members/{id}; a new
    e-mail address waits for the link sent to it."""
    principal = visitor.principal
    member = await members_service.get_member(conn, principal, principal.member_id)
    values = submitted_values(form)
    saved = await forms.submit(
        conn,
        lambda: members_service.update_member(
            conn,
            embedder,
            principal,
            principal.member_id,
            MemberUpdate.model_validate(payload(values), strict=False),
            mailing=mailing,
        ),
        field="email",
        refusals=(Conflict, ServiceUnavailable),
    )
    if isinstance(saved, forms.Refused):
        return await _page(
            request, conn, member, values, errors=saved.errors, status_code=saved.status_code
        )
    if saved.email_pending and saved.email_pending != member.email_pending:
        return redirect("/profil", notice="email-bestaetigen")
    return redirect("/profil", notice="profil")


@router.get("/profil/email/bestaetigen/{secret}")
async def email_confirmation_page(secret: str, request: Request, conn: Conn) -> Response:
    """The page the confirmation link opens: one button (a mail scanner fetching the link
    confirms nothing). No sign-in needed: the link is the proof."""
    usable = await email_change.confirmable(conn, secret)
    return render(
        request,
        "email_confirm.html",
        {"secret": secret, "usable": usable, "confirmed": False},
        status_code=200 if usable else 410,
    )


@router.post("/profil/email/bestaetigen/{secret}")
async def confirm_email(
    secret: str, request: Request, conn: Conn, mailing: MailingDep, form: CheckedForm
) -> Response:
    """Confirm the new address: from now on it is the member's."""
    try:
        async with conn.transaction():
            confirmed = await email_change.confirm(conn, mailing, secret)
    except Conflict:
        return render(
            request,
            "email_confirm.html",
            {"secret": secret, "usable": False, "confirmed": False, "taken": True},
            status_code=409,
        )
    return render(
        request,
        "email_confirm.html",
        {"secret": secret, "usable": False, "confirmed": confirmed is not None},
        status_code=200 if confirmed is not None else 410,
    )
