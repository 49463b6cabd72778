"""Koordination › Bewerbungen: the confirmed applications, approved or declined here (the same
service calls as ``/v1/applications``)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Conn, EmbedderDep, MailingDep, Sending
from api.web import forms
from api.web.auth import CheckedForm, CoordinatorVisitor
from api.web.rendering import redirect, render
from api.web.route import WebRoute
from models.applications import ApplicationDecline, ApplicationStatus
from service.applications import service as applications_service

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/koordination/bewerbungen")
async def applications(
    request: Request, conn: Conn, mailing: MailingDep, visitor: CoordinatorVisitor
) -> Response:
    """The applications waiting for a decision, and the decided ones still kept."""
    found = await applications_service.list_applications(conn, visitor.principal, None)
    return render(
        request,
        "applications.html",
        {
            "pending": [a for a in found if a.status == ApplicationStatus.pending],
            "decided": sorted(
                (a for a in found if a.status != ApplicationStatus.pending),
                key=lambda a: a.decided_at or a.created_at,
                reverse=True,
            ),
            "mailing": mailing is not None,
            "kept_days": applications_service.KEPT_AFTER_DECISION.days,
        },
    )


@router.post("/koordination/bewerbungen/{application_id:uuid}/aufnehmen")
async def approve(
    application_id: UUID,
    conn: Conn,
    embedder: EmbedderDep,
    visitor: CoordinatorVisitor,
    form: CheckedForm,
    sending: Sending,
) -> Response:
    """The applicant becomes a member and gets the welcome e-mail."""
    await applications_service.approve(
        conn,
        embedder,
        sending,
        visitor.principal,
        application_id,
    )
    return redirect("/koordination/bewerbungen", notice="aufgenommen")


@router.post("/koordination/bewerbungen/{application_id:uuid}/ablehnen")
async def decline(
    application_id: UUID,
    conn: Conn,
    visitor: CoordinatorVisitor,
    form: CheckedForm,
    sending: Sending,
) -> Response:
    """Decline; the applicant is told, with the reason if one was written."""
    reason = ApplicationDecline.model_validate(
        {"reason": forms.text(form, "reason").strip() or None}, strict=False
    ).reason
    await applications_service.decline(
        conn,
        sending,
        application_id,
        reason,
    )
    return redirect("/koordination/bewerbungen", notice="bewerbung-abgelehnt")
