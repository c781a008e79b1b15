"""The demo protocol once per session, a MultiSendCallOnly, a policy over it; a snapshot per test."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.protocol.conftest import ProtocolEnv, protocol_env  # noqa: F401

from bulwark.chain.safe import checksum, safe_artifact
from bulwark.domain import Address, Severity
from bulwark.domain.govern import ActionRule, GovAction, Policy, SmokeCall
from bulwark.domain.verify import Evidence, Verdict
from bulwark.scenarios.deploy import DEFAULT_IMPLEMENTATIONS, compile_impl
from bulwark.store import Store
from bulwark.toolchain.artifacts import ContractArtifact

EMERGENCY_DELAY = 60
ROUTINE_DELAY = 2 * 24 * 3600


def evidence_document(art: ContractArtifact, *, passed: bool = True) -> dict[str, Any]:
    """An evidence document as `bulwark verify` writes it, for the candidate ``art``."""
    return {
        "format": "bulwark.verify.evidence/1",
        "pass": passed,
        "candidate": {
            "contract": f"{art.source_path}:{art.name}",
            "creation_code_sha256": "0x" + hashlib.sha256(art.bytecode).hexdigest(),
            "runtime_code_sha256": "0x" + hashlib.sha256(art.deployed_bytecode).hexdigest(),
            "immutable_ranges": sorted(
                [r.start, r.length] for refs in art.immutable_references.values() for r in refs
            ),
        },
        "reasons": []
        if passed
        else [
            {
                "check": "attack",
                "code": "attack-succeeds",
                "message": "the attack still drains",
                "fatal": True,
            }
        ],
    }


@dataclass
class GovEnv:
    env: ProtocolEnv
    policy: Policy
    vault_art: ContractArtifact  # a new DemoVault implementation
    store: Store
    db_url: str
    lending_art: ContractArtifact | None = None

    @property
    def vault_code(self) -> bytes:
        return self.vault_art.bytecode

    def verdict(self, art: ContractArtifact | None = None, *, passed: bool = True) -> Verdict:
        """A verdict for ``art`` (default: the vault), its evidence stored as verification does."""
        doc = evidence_document(art or self.vault_art, passed=passed)
        ev_hash = self.store.put_evidence(doc)
        return Verdict(
            passed=passed,
            reasons=(),
            layout_ok=True,
            safety_ok=True,
            attack_blocked=True,
            regressions=0,
            gas_overhead_pct=0.0,
            evidence=Evidence(document=doc, hash=ev_hash),
        )

    def smoke(self, amount: int = 10**18) -> tuple[SmokeCall, ...]:
        from bulwark.chain.abi import encode_call

        p = self.env.protocol
        user = p.users[0].address
        data = encode_call(p.abi("vault"), "withdraw", amount, user, user)
        return (SmokeCall("vault.withdraw", p.address("vault"), "0x" + data.hex(), user),)


def demo_policy(env: ProtocolEnv, multisend: Address | None) -> Policy:
    p = env.protocol
    owners = tuple(o.address for o in p.safe_owners)
    return Policy(
        protocol="demo",
        safe=p.safe.address,
        timelock=p.timelock.address,
        proxies={name: c.proxy for name, c in p.components.items()},
        owners=owners,
        safe_threshold=2,
        rules={
            (GovAction.UPGRADE, Severity.CRITICAL): ActionRule(2, EMERGENCY_DELAY, owners, ttl_s=3600),
            (GovAction.UPGRADE, None): ActionRule(2, ROUTINE_DELAY, owners),
            (GovAction.UNPAUSE, None): ActionRule(2, 0, owners),
        },
        sentinels=(p.sentinel.address,),
        council=owners,
        guardian=p.guardian.address,
        multisend=multisend,
    )


@pytest.fixture(scope="session")
def gov_base(protocol_env: ProtocolEnv) -> tuple[Policy, ContractArtifact, ContractArtifact]:  # noqa: F811
    art = safe_artifact("MultiSendCallOnly")
    ms = protocol_env.run(
        protocol_env.client.deploy(art.abi, art.bytecode, sender=protocol_env.protocol.deployer.address)
    )
    vault = compile_impl(protocol_env.compiler, DEFAULT_IMPLEMENTATIONS["vault"])
    lending = compile_impl(protocol_env.compiler, DEFAULT_IMPLEMENTATIONS["lending"])
    return demo_policy(protocol_env, checksum(ms)), vault, lending


@pytest.fixture
def gov(
    protocol_env: ProtocolEnv,  # noqa: F811
    gov_base: tuple[Policy, ContractArtifact, ContractArtifact],
    tmp_path: Path,
) -> Iterator[GovEnv]:
    snap = protocol_env.run(protocol_env.client.snapshot())
    url = f"sqlite:///{tmp_path / 'bulwark.db'}"
    store = Store(url)
    try:
        yield GovEnv(protocol_env, gov_base[0], gov_base[1], store, url, gov_base[2])
    finally:
        store.close()
        protocol_env.run(protocol_env.client.revert(snap))
