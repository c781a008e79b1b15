"""The demo protocol once per session, a MultiSendCallOnly, a policy over it; a snapshot per test."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.e2e.protocol.conftest import ProtocolEnv, protocol_env  # noqa: F401

from bulwark.chain.safe import checksum, safe_artifact
from bulwark.domain import Address, Severity
from bulwark.domain.govern import ActionRule, GovAction, Policy, SmokeCall
from bulwark.domain.verify import Evidence, Verdict
from bulwark.scenarios.deploy import DEFAULT_IMPLEMENTATIONS, compile_impl
from bulwark.store import Store

EMERGENCY_DELAY = 60
ROUTINE_DELAY = 2 * 24 * 3600


@dataclass
class GovEnv:
    env: ProtocolEnv
    policy: Policy
    vault_code: bytes  # creation code of a new DemoVault implementation
    store: Store
    db_url: str

    def verdict(self, code: bytes | None = None) -> Verdict:
        code = self.vault_code if code is None else code
        doc = {"candidate": {"creation_code_sha256": "0x" + hashlib.sha256(code).hexdigest()}}
        ev_hash = "0x" + hashlib.sha256(repr(doc).encode()).hexdigest()
        return Verdict(
            passed=True,
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
def gov_base(protocol_env: ProtocolEnv) -> tuple[Policy, bytes]:  # noqa: F811
    art = safe_artifact("MultiSendCallOnly")
    ms = protocol_env.run(
        protocol_env.client.deploy(art.abi, art.bytecode, sender=protocol_env.protocol.deployer.address)
    )
    code = compile_impl(protocol_env.compiler, DEFAULT_IMPLEMENTATIONS["vault"]).bytecode
    return demo_policy(protocol_env, checksum(ms)), code


@pytest.fixture
def gov(protocol_env: ProtocolEnv, gov_base: tuple[Policy, bytes], tmp_path: Path) -> Iterator[GovEnv]:  # noqa: F811
    snap = protocol_env.run(protocol_env.client.snapshot())
    url = f"sqlite:///{tmp_path / 'bulwark.db'}"
    store = Store(url)
    try:
        yield GovEnv(protocol_env, gov_base[0], gov_base[1], store, url)
    finally:
        store.close()
        protocol_env.run(protocol_env.client.revert(snap))
