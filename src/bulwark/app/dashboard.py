"""The dashboard's write path: signed approvals and vetoes from a browser wallet, into governance.

The dashboard (``bulwark.api``) recovers each signature before calling this; governance then
checks the signer against the Safe's owners on chain, the proposal's eligibility, expiry and
duplicates. Structural typing keeps this module free of the API layer above it.
"""

from __future__ import annotations

from typing import Protocol

from bulwark.chain import ChainClient
from bulwark.govern import submit_rejection, submit_signature
from bulwark.logs import mask
from bulwark.store import Store


class Decision(Protocol):
    @property
    def signer(self) -> str: ...

    @property
    def signature(self) -> bytes: ...

    @property
    def reason(self) -> str: ...


class GovernActions:
    """``DashboardActions`` over a chain RPC and the store: one connection per decision."""

    def __init__(self, rpc_url: str, store_url: str, audit_key: str | None = None) -> None:
        self._rpc_url = rpc_url
        self._store_url = store_url
        self._audit_key = audit_key  # a keyed log stays keyed: every writer holds the key

    def __repr__(self) -> str:
        return f"GovernActions(rpc={mask(self._rpc_url)!r})"

    async def approve(self, proposal_id: str, signature: Decision) -> None:
        store = Store(self._store_url, audit_key=self._audit_key)
        try:
            async with ChainClient(self._rpc_url) as client:
                await submit_signature(client, store, proposal_id, signature.signer, signature.signature)
        finally:
            store.close()

    async def reject(self, proposal_id: str, signature: Decision) -> None:
        store = Store(self._store_url, audit_key=self._audit_key)
        try:
            async with ChainClient(self._rpc_url) as client:
                await submit_rejection(
                    client, store, proposal_id, signature.signer, signature.signature, reason=signature.reason
                )
        finally:
            store.close()
