"""Koordination: the network overview and the members (create, edit, new token, erase)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from api.deps import Conn, EmbedderDep, MailingDep, Sending, get_mailing
from api.web import forms, messages
from api.web.auth import CheckedForm, CoordinatorVisitor
from api.web.choices import MUNICIPALITY_KINDS, STATES
from api.web.rendering import redirect, render
from api.web.route import WebRoute
from api.web.routes.profile import payload as profile_payload
from api.web.routes.profile import profile_values, submitted_values
from models.applications import ApplicationStatus
from models.digests import DigestRun
from models.members import (
    DEFAULT_MAX_OPEN_REQUESTS,
    Member,
    MemberCreate,
    MemberUpdate,
)
from service.applications import service as applications_service
from service.digests import service as digests_service
from service.errors import Conflict
from service.identity import links, tokens
from service.members import service as members_service
from service.overview import network_overview

router = APIRouter(route_class=WebRoute, include_in_schema=False)

EMPTY_TAG_FIELDS = 3


def _member_values(member: Member | None) -> dict[str, Any]:
    """The member form: the profile's fields and the municipality (coordinator only)."""
    if member is None:
        return {
            "name": "",
            "email": "",
            "municipality_name": "",
            "municipality_state": "",
            "municipality_kind": "",
            "role": "",
            "expertise": "",
            "tags": [],
            "languages": "de",
            "accepting_requests": True,
            "max_open_requests": str(DEFAULT_MAX_OPEN_REQUESTS),
        }
    return {
        **profile_values(member),
        "municipality_name": member.municipality.name,
        "municipality_state": member.municipality.state,
        "municipality_kind": member.municipality.kind or "",
    }


def _submitted(form: FormData) -> dict[str, Any]:
    return {
        **submitted_values(form),
        "municipality_name": forms.text(form, "municipality_name"),
        "municipality_state": forms.text(form, "municipality_state"),
        "municipality_kind": forms.text(form, "municipality_kind"),
        "welcome": forms.checkbox(form, "welcome"),
    }


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    """The body the API would get for this form: a profile's, and the municipality."""
    return {
        **profile_payload(values),
        "municipality": {
            "name": values["municipality_name"],
            "state": values["municipality_state"],
            "kind": values["municipality_kind"].strip() or None,
        },
    }


async def _form_page(
    request: Request,
    conn: Conn,
    *,
    member: Member | None,
    values: dict[str, Any],
    errors: messages.FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "member_form.html",
        {
            "member": member,
            "values": values,
            "errors": errors or messages.FormErrors(),
            "vocabulary": await members_service.tag_vocabulary(conn),
            "kinds": MUNICIPALITY_KINDS,
            "states": STATES,
            "empty_tag_fields": EMPTY_TAG_FIELDS,
            "mailing": await get_mailing(request) is not None,
        },
        status_code=status_code,
    )


@router.get("/koordination")
async def coordination(
    request: Request, conn: Conn, visitor: CoordinatorVisitor, mailing: MailingDep
) -> Response:
    """The network overview and the member list."""
    members = await members_service.list_members(conn, visitor.principal)
    vocabulary = await members_service.tag_vocabulary(conn)
    overview = await network_overview(conn, visitor.principal, members, vocabulary)
    ordered = sorted(members, key=lambda member: (member.name.casefold(), member.id))
    waiting = await applications_service.list_applications(
        conn, visitor.principal, ApplicationStatus.pending
    )
    return render(
        request,
        "coordination.html",
        {
            "members": ordered,
            "overview": overview,
            "applications_waiting": len(waiting),
            "sends_mail": mailing is not None,
        },
    )


@router.post("/koordination/zusammenfassungen")
async def send_digests(
    visitor: CoordinatorVisitor, conn: Conn, form: CheckedForm, sending: Sending
) -> Response:
    """Send the due digests now (as POST /v1/digests)."""
    frequency = DigestRun.model_validate(
        {"frequency": forms.text(form, "frequency") or "weekly"}, strict=False
    ).frequency
    await digests_service.send_due(conn, sending, frequency)
    return redirect("/koordination", notice="zusammenfassungen")


@router.get("/koordination/mitglieder/neu")
async def new_member_form(request: Request, conn: Conn, visitor: CoordinatorVisitor) -> Response:
    """The form for a new member."""
    return await _form_page(request, conn, member=None, values=_member_values(None))


@router.post("/koordination/mitglieder")
async def create_member(
    request: Request,
    conn: Conn,
    embedder: EmbedderDep,
    mailing: MailingDep,
    visitor: CoordinatorVisitor,
    form: CheckedForm,
) -> Response:
    """Create a member through the same service call as POST /v1/members, and (where the
    server sends e-mail, unless unticked) send the welcome with a sign-in link; show the token
    once."""
    values = _submitted(form)
    welcome = mailing is not None and forms.checkbox(form, "welcome")
    created = await forms.submit(
        conn,
        lambda: members_service.create_member(
            conn, embedder, MemberCreate.model_validate(_payload(values), strict=False)
        ),
        field="email",
        refusals=(Conflict,),
    )
    if isinstance(created, forms.Refused):
        return await _form_page(
            request,
            conn,
            member=None,
            values=values,
            errors=created.errors,
            status_code=created.status_code,
        )
    member, token = created
    if welcome and mailing is not None:
        await links.send_welcome(conn, mailing, UUID(member.id))
    return render(
        request,
        "member_token.html",
        {"member": member, "token": token, "created": True, "welcomed": welcome},
    )


async def _existing(conn: Conn, visitor: CoordinatorVisitor, member_id: UUID) -> Member:
    return await members_service.get_member(conn, visitor.principal, member_id)


@router.get("/koordination/mitglieder/{member_id:uuid}")
async def edit_member_form(
    member_id: UUID, request: Request, conn: Conn, visitor: CoordinatorVisitor
) -> Response:
    """A member's profile as a form."""
    member = await _existing(conn, visitor, member_id)
    return await _form_page(request, conn, member=member, values=_member_values(member))


@router.post("/koordination/mitglieder/{member_id:uuid}")
async def save_member(
    member_id: UUID,
    request: Request,
    conn: Conn,
    embedder: EmbedderDep,
    mailing: MailingDep,
    visitor: CoordinatorVisitor,
    form: CheckedForm,
) -> Response:
    """Save through the same service call as PATCH /v1/members/{id} (a new address applies at
    once, and both addresses are told)."""
    member = await _existing(conn, visitor, member_id)
    values = _submitted(form)
    saved = await forms.submit(
        conn,
        lambda: members_service.update_member(
            conn,
            embedder,
            visitor.principal,
            member_id,
            MemberUpdate.model_validate(_payload(values), strict=False),
            mailing=mailing,
        ),
        field="email",
        refusals=(Conflict,),
    )
    if isinstance(saved, forms.Refused):
        return await _form_page(
            request,
            conn,
            member=member,
            values=values,
            errors=saved.errors,
            status_code=saved.status_code,
        )
    return redirect("/koordination", notice="gespeichert")


@router.post("/koordination/mitglieder/{member_id:uuid}/zugang")
async def new_token(
    member_id: UUID, request: Request, conn: Conn, visitor: CoordinatorVisitor, form: CheckedForm
) -> Response:
    """Issue a new access token; the old one stops working at once."""
    member = await _existing(conn, visitor, member_id)
    token = await tokens.rotate(conn, visitor.principal, member_id)
    return render(request, "member_token.html", {"member": member, "token": token})


@router.post("/koordination/mitglieder/{member_id:uuid}/willkommen")
async def welcome(
    member_id: UUID,
    conn: Conn,
    visitor: CoordinatorVisitor,
    form: CheckedForm,
    sending: Sending,
) -> Response:
    """E-mail the member a welcome with a sign-in link (as POST /v1/members/{id}/welcome)."""
    await links.send_welcome(conn, sending, member_id)
    return redirect(f"/koordination/mitglieder/{member_id}", notice="willkommen")


@router.get("/koordination/mitglieder/{member_id:uuid}/loeschen")
async def confirm_erase(
    member_id: UUID, request: Request, conn: Conn, visitor: CoordinatorVisitor
) -> Response:
    """Ask before erasing a member."""
    member = await _existing(conn, visitor, member_id)
    return render(request, "member_erase.html", {"member": member})


@router.post("/koordination/mitglieder/{member_id:uuid}/loeschen")
async def erase(
    member_id: UUID, conn: Conn, visitor: CoordinatorVisitor, form: CheckedForm
) -> Response:
    """Erase the member and everything derived from them (as DELETE /v1/members/{id})."""
    await members_service.delete_member(conn, visitor.principal, member_id)
    return redirect("/koordination", notice="geloescht")
