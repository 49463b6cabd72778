"""Mitglied werden: anyone applies for membership with a profile; the applicant confirms their
address by a link; the coordinator then decides (``api/web/routes/applications.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from api.deps import Conn, MailingDep, SettingsDep
from api.web import forms, messages
from api.web.auth import CheckedForm, email_request_wait
from api.web.choices import MUNICIPALITY_KINDS, STATES
from api.web.rendering import render
from api.web.route import WebRoute
from models.applications import ApplicationCreate
from service.applications import service as applications_service

router = APIRouter(route_class=WebRoute, include_in_schema=False)

EMPTY_TAG_FIELDS = 4
# A field people do not see (and assistive technology skips); whatever fills it is a robot,
# which is answered as if it had applied, and nothing is kept.
HONEYPOT = "website"

CONFIRM_HOURS = int(applications_service.CONFIRM_WITHIN.total_seconds() // 3600)
KEPT_DAYS = applications_service.KEPT_AFTER_DECISION.days


def _values(form: FormData | None) -> dict[str, Any]:
    if form is None:
        return {"tags": [], "languages": "de", "consent": False}
    return {
        "name": forms.text(form, "name"),
        "email": forms.text(form, "email"),
        "municipality_name": forms.text(form, "municipality_name"),
        "municipality_state": forms.text(form, "municipality_state"),
        "municipality_kind": forms.text(form, "municipality_kind"),
        "role": forms.text(form, "role"),
        "expertise": forms.text(form, "expertise"),
        "tags": forms.texts(form, "tags"),
        "languages": forms.text(form, "languages"),
        "message": forms.text(form, "message"),
        "consent": forms.checkbox(form, "consent"),
    }


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    """The body ``POST /v1/applications`` would get for this form."""
    payload: dict[str, Any] = {
        "name": values["name"],
        "email": values["email"],
        "municipality": {
            "name": values["municipality_name"],
            "state": values["municipality_state"],
            "kind": values["municipality_kind"].strip() or None,
        },
        "role": values["role"],
        "expertise": values["expertise"],
        "tags": values["tags"],
        "languages": forms.split_list(values["languages"]),
        "message": values["message"].strip() or None,
    }
    if values["consent"]:
        payload["consent"] = True
    return payload


def _form(
    request: Request,
    *,
    mailing: bool,
    values: dict[str, Any],
    errors: messages.FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "apply.html",
        {
            "mailing": mailing,
            "values": values,
            "errors": errors or messages.FormErrors(),
            "kinds": MUNICIPALITY_KINDS,
            "states": STATES,
            "empty_tag_fields": EMPTY_TAG_FIELDS,
            "honeypot": HONEYPOT,
            "confirm_hours": CONFIRM_HOURS,
            "kept_days": KEPT_DAYS,
        },
        status_code=status_code,
    )


@router.get("/mitglied-werden")
async def application_form(request: Request, mailing: MailingDep) -> Response:
    """The application form, with what happens to the data given in it."""
    return _form(request, mailing=mailing is not None, values=_values(None))


@router.post("/mitglied-werden")
async def apply(
    request: Request,
    form: CheckedForm,
    conn: Conn,
    settings: SettingsDep,
    mailing: MailingDep,
) -> Response:
    """Keep the application and e-mail the confirmation link (as ``POST /v1/applications``)."""
    values = _values(form)
    if mailing is None:
        return _form(request, mailing=False, values=values, status_code=503)
    sent_page = render(
        request,
        "apply_sent.html",
        {"email": values["email"].strip(), "confirm_hours": CONFIRM_HOURS},
    )
    if forms.text(form, HONEYPOT):
        return sent_page
    wait = await email_request_wait(request, conn, settings)
    if wait:
        errors = messages.FormErrors()
        errors.add("form", messages.too_many_submissions(wait))
        return _form(request, mailing=True, values=values, errors=errors, status_code=429)
    taken = await forms.submit(
        conn,
        lambda: applications_service.apply(
            conn, mailing, ApplicationCreate.model_validate(_payload(values), strict=False)
        ),
    )
    if isinstance(taken, forms.Refused):
        return _form(
            request,
            mailing=True,
            values=values,
            errors=taken.errors,
            status_code=taken.status_code,
        )
    return sent_page


@router.get("/mitglied-werden/bestaetigen/{secret}")
async def confirmation_page(secret: str, request: Request, conn: Conn) -> Response:
    """The page the confirmation link opens: one button (a mail scanner fetching the link
    confirms nothing)."""
    confirmable = len(secret) < 100 and await applications_service.confirmable(conn, secret)
    return render(
        request,
        "apply_confirm.html",
        {
            "secret": secret,
            "confirmable": confirmable,
            "confirmed": False,
            "confirm_hours": CONFIRM_HOURS,
        },
        status_code=200 if confirmable else 410,
    )


@router.post("/mitglied-werden/bestaetigen/{secret}")
async def confirm(secret: str, request: Request, form: CheckedForm, conn: Conn) -> Response:
    """Confirm the address: the application goes to the coordinator."""
    confirmed = len(secret) < 100 and await applications_service.confirm(conn, secret)
    return render(
        request,
        "apply_confirm.html",
        {
            "secret": secret,
            "confirmable": False,
            "confirmed": confirmed,
            "confirm_hours": CONFIRM_HOURS,
        },
        status_code=200 if confirmed else 410,
    )
