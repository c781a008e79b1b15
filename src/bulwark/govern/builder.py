"""A proposal as Safe Transaction Builder batch files, for owners who sign in the Safe's own
interface rather than with ``bulwark approve``.

One batch per Safe transaction the proposal needs: ``schedule`` now and ``execute`` once the
timelock's delay has passed (or one ``schedule+execute`` batch when the delay is 0). The Safe
interface signs the batch for the Safe's current nonce; the calls are the proposal's own, so the
timelock operation (and its salt, the evidence hash) is the one Bulwark verified.
"""

from __future__ import annotations

from typing import Any

from bulwark.domain.govern import Proposal
from bulwark.govern.proposal import timelock_calls

__all__ = ["BUILDER_VERSION", "transaction_builder_batches"]

BUILDER_VERSION = "1.18.0"  # the Transaction Builder app's file format this follows


def _call(to: str, data: bytes) -> dict[str, Any]:
    return {
        "to": to,
        "value": "0",
        "data": "0x" + data.hex(),
        "contractMethod": None,
        "contractInputsValues": None,
    }


def transaction_builder_batches(p: Proposal, *, created_at_ms: int) -> dict[str, dict[str, Any]]:
    """step name -> a Transaction Builder batch (JSON-ready) for proposal ``p``."""
    schedule, execute = timelock_calls(p.timelock_op)
    steps = {t.step for t in p.safe_txs}
    if "schedule+execute" in steps:
        calls = {"schedule+execute": [_call(p.timelock, schedule), _call(p.timelock, execute)]}
    else:
        calls = {"schedule": [_call(p.timelock, schedule)], "execute": [_call(p.timelock, execute)]}
    out = {}
    for step, txs in calls.items():
        out[step] = {
            "version": "1.0",
            "chainId": str(p.chain_id),
            "createdAt": created_at_ms,
            "meta": {
                "name": f"Bulwark {p.action.value} {p.component} ({p.id}): {step}",
                "description": f"{p.description}\nevidence hash {p.evidence_hash}",
                "txBuilderVersion": BUILDER_VERSION,
                "createdFromSafeAddress": p.safe,
                "createdFromOwnerAddress": "",
                "checksum": "",
            },
            "transactions": txs,
        }
    return out
