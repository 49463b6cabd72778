"""Who calls the API, as one typed dependency per kind of caller: ``ApiCaller`` (any valid
token), ``CurrentMember`` and ``Coordinator``. A route that declares none of them is public.

A valid token is always accepted, whatever others at the same address did; only wrong tokens
are counted, per client, and a client over the limit gets 429 instead of 401 for wrong tokens
(``service.identity.throttle``). The client is the address the connection comes from, or
behind a trusted proxy the one it names (``PEERCONSULT_TRUSTED_PROXIES``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.deps import Conn, SettingsDep
from service import identity, timing
from service.errors import Forbidden, InvalidToken, NotAuthenticated
from service.identity import throttle, tokens

_bearer = HTTPBearer(auto_error=False, description="A member's token, or the coordinator's")


def client_of(request: Request) -> str:
    """The client as the limits count it: its address, hashed."""
    return throttle.client_key(request.client.host if request.client else "unknown")


async def spend_email_request(request: Request, conn: Conn, settings: SettingsDep) -> None:
    """Count a request that sends e-mail to an address anyone may give (a sign-in link, an
    application) against its client's own budget; 429 once it is spent."""
    await throttle.spend(
        conn,
        throttle.Budget.email_requests(settings),
        client_of(request),
        what="requests for e-mail",
    )


EmailRequestBudget = Annotated[None, Depends(spend_email_request)]


async def api_caller(
    request: Request,
    conn: Conn,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> identity.Principal:
    """The coordinator or a member, from the bearer token; 401 without a valid one (429 for
    a client that has sent too many wrong ones recently)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise NotAuthenticated("Send your access token as 'Authorization: Bearer <token>'.")
    with timing.stage("auth"):
        principal = await tokens.authenticate(
            conn, credentials.credentials, admin_token=settings.admin_token
        )
    if principal is None:
        # Counted by the error handler, once this request's connection is released.
        raise InvalidToken("The access token is not valid.", client=client_of(request))
    return principal


ApiCaller = Annotated[identity.Principal, Depends(api_caller)]


async def current_member(principal: ApiCaller) -> identity.MemberPrincipal:
    if not isinstance(principal, identity.MemberPrincipal):
        raise Forbidden("This needs a member's token; the coordinator has no member profile.")
    return principal


async def coordinator(principal: ApiCaller) -> identity.CoordinatorPrincipal:
    if not isinstance(principal, identity.CoordinatorPrincipal):
        raise Forbidden("Only the network's coordinator may do this.")
    return principal


CurrentMember = Annotated[identity.MemberPrincipal, Depends(current_member)]
Coordinator = Annotated[identity.CoordinatorPrincipal, Depends(coordinator)]
