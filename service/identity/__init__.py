"""Who someone is, in one place: the principals the services check (``principals``), access
tokens (``tokens``), browser sessions kept on the server (``sessions``), sign-in links and the
requests for them (``links``), and how often each action may be tried (``throttle``); all their
SQL in ``repository``. The API's and the web pages' dependencies build on these
(``api/auth.py``, ``api/web/auth.py``).
"""

from service.identity.principals import (
    COORDINATOR,
    CoordinatorPrincipal,
    MemberPrincipal,
    Principal,
)

__all__ = ["COORDINATOR", "CoordinatorPrincipal", "MemberPrincipal", "Principal"]
