"""A whole incident in a real store, run by the real IncidentFlow with stand-in steps.

The step records have the shapes the real stages produce (a unified diff from patch, an evidence
hash and bundle from verify, a proposal and its signatures from approve), and the proposals are
stored in governance's format with real Safe transaction hashes, so the dashboard can be tested
without a chain. ``tests/e2e`` may replace this with a real demo run.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from eth_account import Account

from bulwark.chain.safe import SafeTx, checksum, safe_tx_hash
from bulwark.domain import Action, Address, Confidence, Finding, IncidentState, Severity, VulnClass
from bulwark.flow import IncidentFlow, Step, StepContext, StepOutcome
from bulwark.store import Store

S = IncidentState
SIGNER_KEYS = ("0x" + "11" * 32, "0x" + "22" * 32)
OUTSIDER_KEY = "0x" + "33" * 32
CHAIN_ID = 31337
SAFE = checksum("0x5afe00000000000000000000000000000000cafe")
TIMELOCK = checksum("0x71e10c0000000000000000000000000000000001")
PROXY = checksum("0x9000000000000000000000000000000000000123")
ATTACK_TX = "0x" + "ab" * 32
PAUSE_TX = "0x" + "cd" * 32

DIFF = """\
--- a/contracts/LendingPool.sol
+++ b/contracts/LendingPool.sol
@@ -41,9 +41,11 @@ contract LendingPool is UUPSUpgradeable, PausableUpgradeable {
     function borrow(uint256 amount) external whenNotPaused {
-        uint256 price = oracle.spotPrice(collateral);
+        // TWAP over 30 minutes: a single-block <flash-loan> swap cannot move it
+        uint256 price = oracle.twap(collateral, 30 minutes);
         uint256 limit = collateralOf[msg.sender] * price / 1e18;
         require(debtOf[msg.sender] + amount <= limit * closeFactor / 1e4, "undercollateralised");
         debtOf[msg.sender] += amount;
         token.transfer(msg.sender, amount);
     }
"""

EVIDENCE = {
    "candidate": {"contract": "LendingPool", "creation_code_sha256": "0x" + "5e" * 32},
    "attack_replay": {"txs": [ATTACK_TX], "exploit_succeeds": False, "attacker_gain": "0"},
    "regression": {"benign_replays": 48, "differences": 0},
    "storage_layout": {"compatible": True, "changes": []},
    "invariants": [{"name": "solvency", "holds": True}],
    "gas": {"borrow": {"before": 71234, "after": 73010}},
}
EVIDENCE_HASH = "0x" + hashlib.sha256(b"evidence bundle").hexdigest()


def signer_addresses() -> list[Address]:
    return [Address(Account.from_key(k).address) for k in SIGNER_KEYS]


def finding(protocol: str = "demo-lending") -> Finding:
    return Finding(
        "oracle-spot-price",
        VulnClass.ORACLE_MANIPULATION,
        Severity.CRITICAL,
        Confidence.HIGH,
        "Flash-loan oracle manipulation drains the lending pool",
        protocol,
        PROXY,
        ATTACK_TX,
        True,
        action=Action.PAUSE,
        selectors=("0xc5ebeaec",),
        evidence={"price_move_bps": 4200},
    )


def proposal_body(proposal_id: str, incident_id: str | None, nonce: int, *, executed: bool = False) -> dict:
    """A proposal as ``bulwark.govern`` stores it (``Proposal.to_json``), with real SafeTx hashes."""
    txs = []
    for i, (step, data) in enumerate((("schedule", "0x01020304"), ("execute", "0x05060708"))):
        tx = SafeTx(to=TIMELOCK, data=bytes.fromhex(data[2:]), nonce=nonce + i)
        txs.append(
            {
                "step": step,
                "to": TIMELOCK,
                "value": 0,
                "data": data,
                "nonce": nonce + i,
                "operation": 0,
                "safe_tx_hash": safe_tx_hash(tx, CHAIN_ID, SAFE),
            }
        )
    return {
        "id": proposal_id,
        "protocol": "demo-lending",
        "action": "upgrade",
        "severity": "critical",
        "chain_id": CHAIN_ID,
        "safe": SAFE,
        "timelock": TIMELOCK,
        "component": "pool",
        "proxy": PROXY,
        "evidence_hash": EVIDENCE_HASH,
        "safe_txs": txs,
        "threshold": 2,
        "eligible": signer_addresses(),
        "created_at": 1_700_000_000.0,
        "expires_at": 4_000_000_000.0,
        "description": f"upgrade pool ({PROXY}) to the verified implementation; evidence {EVIDENCE_HASH}",
        "implementation": "0x" + "12" * 20,
        "incident_id": incident_id,
        "executed": executed,
    }


def _steps() -> list[Step]:
    async def contain(ctx: StepContext) -> StepOutcome:
        ctx.store.record_action(
            ctx.incident_id, "pause", "confirmed", step="contain", tx_hash=PAUSE_TX, block_number=1042
        )
        return StepOutcome(
            True, {"action": "pause", "tx_hash": PAUSE_TX, "block": 1042, "before_attack": True, "ms": 38.5}
        )

    async def patch(ctx: StepContext) -> StepOutcome:
        return StepOutcome(
            True,
            {
                "template": "spot-to-twap",
                "contract": "LendingPool",
                "function": "borrow",
                "diff": DIFF,
                "rationale": "read the TWAP instead of the spot price",
                "compiled": True,
            },
        )

    async def verify(ctx: StepContext) -> StepOutcome:
        return StepOutcome(
            True, {"passed": True, "evidence_hash": EVIDENCE_HASH, "benign_replays": 48, "evidence": EVIDENCE}
        )

    async def approve(ctx: StepContext) -> StepOutcome:
        pid = f"prop-{ctx.incident_id}"
        ctx.store.put_artifact(
            pid,
            "proposal",
            proposal_body(pid, ctx.incident_id, 7),
            incident_id=ctx.incident_id,
            state="pending",
        )
        for addr in signer_addresses():
            ctx.store.add_signature(pid, addr, "approve", "0x" + "00" * 130)
        ctx.store.set_artifact_state(pid, "approved", "2 of 2 signed")
        return StepOutcome(True, {"proposal": pid, "signatures": 2, "threshold": 2})

    async def upgrade(ctx: StepContext) -> StepOutcome:
        ctx.store.set_artifact_state(f"prop-{ctx.incident_id}", "executed", "upgraded")
        return StepOutcome(True, {"implementation": "0x" + "12" * 20, "post_checks": ["paused", "layout"]})

    async def resume(ctx: StepContext) -> StepOutcome:
        return StepOutcome(True, {"unpaused": True})

    async def close(ctx: StepContext) -> StepOutcome:
        return StepOutcome(True, {"loss": "0"})

    return [
        Step("contain", S.CONTAINED, contain),
        Step("patch", S.PATCHED, patch),
        Step("verify", S.VERIFIED, verify),
        Step("approve", S.APPROVED, approve),
        Step("upgrade", S.UPGRADED, upgrade),
        Step("resume", S.RESUMED, resume),
        Step("close", S.CLOSED, close),
    ]


@dataclass(frozen=True)
class Seeded:
    incident_id: str
    pending_proposal: str


def seed(store: Store) -> Seeded:
    """One closed incident run through the flow, one more finding, and one pending proposal."""
    flow = IncidentFlow(store, _steps())
    iid = flow.open(finding(), "inc-demo0001")
    final = asyncio.run(flow.run(iid))
    assert final is S.CLOSED, final
    store.record_finding(
        Finding(
            "large-outflow",
            VulnClass.INVARIANT_BREAK,
            Severity.MEDIUM,
            Confidence.MEDIUM,
            "Outflow above the hourly limit",
            "demo-vault",
            None,
            "0x" + "ef" * 32,
            False,
            block_number=1100,
        )
    )
    pending = "prop-pending"
    store.put_artifact(pending, "proposal", proposal_body(pending, None, 9), state="pending")
    return Seeded(iid, pending)
