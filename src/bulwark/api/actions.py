"""What the dashboard may ask the app to do: hand over a signed approval or rejection.

The dashboard only reads the store; decisions go through an object implementing
:class:`DashboardActions`, built by the composition root (``bulwark.app``) and injected into
:func:`bulwark.api.create_app`. It receives a :class:`SignedDecision` whose signatures the dashboard
has already recovered to its signer; governance still checks owners, eligibility, expiry and
duplicates, and signals a refusal by raising a ``BulwarkError`` (its ``user_message`` is shown).
"""

from __future__ import annotations

from typing import Protocol

from bulwark.api.eip712 import SignedDecision


class DashboardActions(Protocol):
    async def approve(self, proposal_id: str, signature: SignedDecision) -> None: ...

    async def reject(self, proposal_id: str, signature: SignedDecision) -> None: ...
