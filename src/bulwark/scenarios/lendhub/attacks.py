"""LendHub's attacks: one folder per attack under ``scenarios/protocols/lendhub/attacks/``.

Each folder holds ``manifest.yaml`` (name, class, the vulnerable component/contract/function, the
reference fix, the attacker contract, the script), the attacker's Solidity, and ``attack.py``::

    async def attack(ctx: AttackContext) -> list[TxHash]

Attack transactions are signed by the attacker's key and sent raw, even when they would revert,
as a bot racing for the funds does (:func:`bulwark.scenarios.attack.send_signed`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import yaml

from bulwark.chain import ChainClient, TxRequest, encode_deploy
from bulwark.chain.abi import encode_call
from bulwark.chain.bytecode import create_address
from bulwark.chain.safe import checksum
from bulwark.domain import Address, TxHash, VulnClass
from bulwark.errors import ScenarioError
from bulwark.scenarios.attack import ATTACK_GAS, send_signed
from bulwark.scenarios.deploy import ChainOps
from bulwark.scenarios.lendhub.model import LendHub
from bulwark.scenarios.protocol import Actor
from bulwark.scenarios.script import import_script
from bulwark.toolchain.artifacts import ContractArtifact
from bulwark.toolchain.solc import Compiler

_REQUIRED = ("name", "class", "title", "description", "component", "contract", "source", "function", "fix")


@dataclass(frozen=True, slots=True)
class LendHubAttack:
    """One attack's manifest; paths are relative to the project root."""

    name: str
    vuln_class: VulnClass
    title: str
    description: str
    component: str
    contract: str
    source: Path
    function: str
    fix: Path
    attacker_source: Path
    attacker_contract: str
    script: Path
    loss_asset: str


def attacks_root(project_root: Path) -> Path:
    return project_root / "attacks"


def load_attacks(project_root: Path) -> dict[str, LendHubAttack]:
    """Every attack of the project, by name; a broken manifest fails the whole load."""
    root = attacks_root(project_root)
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not folders:
        raise ScenarioError(f"no attacks under {root}")
    attacks = [_load(project_root, folder) for folder in folders]
    return {a.name: a for a in attacks}


def _load(project_root: Path, folder: Path) -> LendHubAttack:
    where = f"{folder.name}/manifest.yaml"
    try:
        raw = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{where}: cannot read: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where}: expected a mapping")
    missing = [k for k in _REQUIRED if not raw.get(k)]
    attacker = raw.get("attacker")
    if not isinstance(attacker, Mapping) or not attacker.get("source") or not attacker.get("contract"):
        missing.append("attacker.source/contract")
    if missing or not isinstance(attacker, Mapping):
        raise ScenarioError(f"{where}: missing {', '.join(missing)}")
    if raw["name"] != folder.name:
        raise ScenarioError(f"{where}: name {raw['name']!r} differs from the folder name")
    try:
        vuln_class = VulnClass(raw["class"])
    except ValueError:
        raise ScenarioError(f"{where}: unknown class {raw['class']!r}") from None
    rel = folder.relative_to(project_root)
    attack = LendHubAttack(
        name=str(raw["name"]),
        vuln_class=vuln_class,
        title=str(raw["title"]),
        description=" ".join(str(raw["description"]).split()),
        component=str(raw["component"]),
        contract=str(raw["contract"]),
        source=Path(raw["source"]),
        function=str(raw["function"]),
        fix=Path(raw["fix"]),
        attacker_source=rel / str(attacker["source"]),
        attacker_contract=str(attacker["contract"]),
        script=rel / str(raw.get("script", "attack.py")),
        loss_asset=str(raw.get("loss_asset", "usd")),
    )
    for path in (attack.source, attack.fix, attack.attacker_source, attack.script):
        if not (project_root / path).is_file():
            raise ScenarioError(f"{where}: {path} does not exist")
    return attack


AttackFn = Callable[["AttackContext"], Awaitable[list[TxHash]]]


def load_script(project_root: Path, attack: LendHubAttack) -> AttackFn:
    """Import the attack's ``attack.py`` and return its ``attack`` coroutine function."""
    path = project_root / attack.script
    module_name = f"bulwark_lendhub_attack_{attack.name.replace('-', '_')}"
    module = import_script(attack.name, module_name, path)
    fn = getattr(module, "attack", None)
    if not callable(fn):
        raise ScenarioError(f"{attack.name}: {path.name} defines no attack(ctx)")
    return cast("AttackFn", fn)


@dataclass(frozen=True, slots=True)
class AttackContext:
    """What an attack script may use: the chain, the project's compiler, the deployment, a key."""

    client: ChainClient
    compiler: Compiler
    lendhub: LendHub
    attack: LendHubAttack
    attacker: Actor
    # False: every transaction is left in the mempool (the test mines them, or front-runs them);
    # gas is then fixed, since estimating against a state without the pending deploy is wrong.
    wait: bool = True

    def attacker_artifact(self) -> ContractArtifact:
        result = self.lendhub.project.compile(self.compiler, [self.attack.attacker_source])
        for art in result.contracts:
            if art.name == self.attack.attacker_contract and art.bytecode:
                return art
        raise ScenarioError(f"{self.attack.name}: no {self.attack.attacker_contract} to deploy")

    async def deploy_attacker(self, *args: Any) -> tuple[Address, TxHash]:
        """Deploy the attacker's contract from the attacker's key; returns its address and tx."""
        art = self.attacker_artifact()
        tx = TxRequest(data=encode_deploy(art.abi, art.bytecode, *args))
        if not self.wait:
            nonce = await self.client.get_nonce(self.attacker.address, "pending")
            tx_hash = await send_signed(self.client, self.attacker, replace(tx, gas=ATTACK_GAS), wait=False)
            return checksum(create_address(self.attacker.address, nonce)), tx_hash
        tx_hash = await send_signed(self.client, self.attacker, tx)
        receipt = await self.client.get_receipt(tx_hash)
        if receipt is None or not receipt.status or receipt.contract_address is None:
            raise ScenarioError(f"{self.attack.name}: deploying {art.name} failed ({tx_hash})")
        return checksum(receipt.contract_address), tx_hash

    async def send(self, to: str, fn: str, *args: Any, value: int = 0) -> TxHash:
        """Call ``fn`` of the attacker's contract at ``to`` from the attacker's key (the strike)."""
        data = encode_call(self.attacker_artifact().abi, fn, *args)
        tx = TxRequest(to=checksum(to), data=data, value=value, gas=None if self.wait else ATTACK_GAS)
        return await send_signed(self.client, self.attacker, tx, wait=self.wait)


async def run_attack(
    client: ChainClient,
    compiler: Compiler,
    lendhub: LendHub,
    name: str,
    attacker: Actor,
    *,
    wait: bool = True,
) -> list[TxHash]:
    """Load and run the named attack; returns its transaction hashes in order. With
    ``wait=False`` every transaction is sent to the mempool and none is waited for."""
    root = lendhub.project.root
    attacks = load_attacks(root)
    if name not in attacks:
        raise ScenarioError(f"no LendHub attack {name!r} (have: {', '.join(sorted(attacks))})")
    attack = attacks[name]
    ctx = AttackContext(client, compiler, lendhub, attack, attacker, wait=wait)
    return await load_script(root, attack)(ctx)


async def protocol_holdings(client: ChainClient, lendhub: LendHub, asset: str = "usd") -> int:
    """How much of ``asset`` the protocol's components hold (the measure of a loss)."""
    token = lendhub.tokens[asset]
    ops = ChainOps(client)
    total = 0
    for comp in lendhub.components.values():
        total += int(await ops.call(token.address, token.abi, "balanceOf", comp.proxy))
    return total
