"""Ihre Daten: what peerconsult holds about a member, as a readable page and as the JSON
download ``GET /v1/members/{id}/export`` gives, and erasing the account. A member does both
from Mein Profil; the coordinator does both for a member from the member's page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.deps import Conn
from api.web import cookie
from api.web.auth import CheckedForm, CoordinatorVisitor, MemberVisitor
from api.web.rendering import redirect, render
from api.web.route import WebRoute
from service import export as data_export
from service import identity
from service.members import service as members_service

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _download(data: dict[str, Any]) -> JSONResponse:
    """The export as a file the browser saves."""
    day = datetime.now(UTC).date().isoformat()
    return JSONResponse(
        data,
        headers={
            "Content-Disposition": f'attachment; filename="peerconsult-daten-{day}.json"',
            "Cache-Control": "no-store",
        },
    )


def _summary(data: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of the export: everything, in words and counts a person reads."""
    requests = data["requests"]
    member_id = data["member"]["id"]
    return {
        "member": data["member"],
        "passages": len(data["passages"]),
        "search_terms": len(data["search_terms"]),
        "questions": data["questions"],
        "suggested_to_others": len(data["suggested_to_others"]),
        "incoming": [r for r in requests if r["peer"]["id"] == member_id],
        "outgoing": [r for r in requests if r["asker"]["id"] == member_id],
        "sign_in_links": data["sign_in_links"],
        "applications": data["applications"],
        "feedback_received": data["feedback_received"],
        "imported": data["import"],
    }


async def _data_page(
    request: Request, conn: Conn, principal: identity.Principal, member_id: UUID, *, own: bool
) -> Response:
    data = await data_export.export_member(conn, principal, member_id)
    return render(request, "own_data.html", {**_summary(data), "own": own})


@router.get("/profil/daten")
async def own_data(request: Request, conn: Conn, visitor: MemberVisitor) -> Response:
    """What is held about the signed-in member, readable, with the download."""
    member_id = visitor.principal.member_id
    return await _data_page(request, conn, visitor.principal, member_id, own=True)


@router.get("/profil/export")
async def own_export(conn: Conn, visitor: MemberVisitor) -> Response:
    """The member's data as the JSON file the API's export gives."""
    member_id = visitor.principal.member_id
    return _download(await data_export.export_member(conn, visitor.principal, member_id))


@router.get("/profil/loeschen")
async def confirm_own_erasure(request: Request, conn: Conn, visitor: MemberVisitor) -> Response:
    """What erasing the account deletes and what others keep; one button."""
    member = await members_service.get_member(conn, visitor.principal, visitor.principal.member_id)
    return render(request, "own_erase.html", {"member": member})


@router.post("/profil/loeschen")
async def erase_own_account(
    request: Request, conn: Conn, visitor: MemberVisitor, form: CheckedForm
) -> Response:
    """Erase the member; the session ends with the account, and so does every token."""
    await members_service.delete_member(conn, visitor.principal, visitor.principal.member_id)
    response = redirect("/anmelden", notice="konto-geloescht")
    cookie.clear(request, response)
    return response


@router.get("/koordination/mitglieder/{member_id:uuid}/daten")
async def member_data(
    member_id: UUID, request: Request, conn: Conn, visitor: CoordinatorVisitor
) -> Response:
    """What is held about a member, for the coordinator answering a request for access."""
    return await _data_page(request, conn, visitor.principal, member_id, own=False)


@router.get("/koordination/mitglieder/{member_id:uuid}/export")
async def member_export(member_id: UUID, conn: Conn, visitor: CoordinatorVisitor) -> Response:
    """A member's data as the JSON file the API's export gives."""
    return _download(await data_export.export_member(conn, visitor.principal, member_id))
