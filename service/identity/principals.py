"""Who is calling: the coordinator or a member (by token, browser session or sign-in link)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class CoordinatorPrincipal:
    """The network's coordinator (``PEERCONSULT_ADMIN_TOKEN``): sees and changes every member,
    and has no profile of their own, so asks no questions and gets no invitations."""

    def may_act_for(self, member_id: UUID) -> bool:
        """The coordinator acts for every member."""
        return True


@dataclass(frozen=True, slots=True)
class MemberPrincipal:
    """A member of the network, by their own token, browser session or sign-in link."""

    member_id: UUID

    def may_act_for(self, member_id: UUID) -> bool:
        """A member acts only for themselves."""
        return member_id == self.member_id


Principal = CoordinatorPrincipal | MemberPrincipal

COORDINATOR = CoordinatorPrincipal()
