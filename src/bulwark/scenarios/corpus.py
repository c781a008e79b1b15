"""The attack-scenario corpus: one folder per scenario under ``scenarios/``, each with a manifest.

A scenario folder holds::

    manifest.yaml        what the scenario is (validated here, unknown keys rejected)
    <Contract>.sol       the vulnerable implementation, deployed as the live implementation
    <Attacker>.sol       the attacker's contract
    attack.py            ``async def attack(ctx) -> list[TxHash]`` (and optionally ``setup``)
    fix/<Contract>.sol   the reference fix, used only by tests

Folders whose name starts with ``_`` or ``.`` are support material, not scenarios.

    corpus = load_corpus()
    scenario = corpus.get("oracle-open-setprice")
    script = load_script(scenario)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from bulwark.domain import VulnClass
from bulwark.errors import ScenarioError
from bulwark.scenarios.script import import_script
from bulwark.toolchain.paths import project_root

__all__ = [
    "COMPONENTS",
    "LOSS_ASSETS",
    "REQUIRED_CLASSES",
    "ContractRef",
    "Corpus",
    "Scenario",
    "default_root",
    "load_corpus",
    "load_scenario",
    "load_script",
]

# The classes the corpus must cover, one scenario each at least.
REQUIRED_CLASSES: frozenset[VulnClass] = frozenset(
    {
        VulnClass.REENTRANCY,
        VulnClass.ACCESS_CONTROL,
        VulnClass.ORACLE_MANIPULATION,
        VulnClass.ERC4626_INFLATION,
        VulnClass.UNCHECKED_RETURN,
        VulnClass.SIGNATURE_REPLAY,
        VulnClass.INTEGER_OVERFLOW,
    }
)
# Components the protocol deployer knows (docs/demo-protocol.md); anything else is an extra
# component the scenario's ``setup`` deploys behind its own proxy.
COMPONENTS: frozenset[str] = frozenset({"oracle", "pool", "lending", "vault", "flash"})
# Assets a loss can be denominated in, besides extra tokens a scenario declares.
LOSS_ASSETS: frozenset[str] = frozenset({"usd", "weth"})

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MANIFEST_NAMES = ("manifest.yaml", "manifest.yml")

_KEYS_REQUIRED = frozenset(
    {"name", "class", "title", "description", "component", "contract", "source", "function", "fix",
     "attacker", "script", "attack_txs", "loss_asset"}
)  # fmt: skip
_KEYS_OPTIONAL = frozenset({"extra_component", "extra_tokens", "benign_exclude", "seed", "references"})


@dataclass(frozen=True, slots=True)
class ContractRef:
    """A Solidity source file and the contract in it."""

    source: Path
    contract: str


@dataclass(frozen=True, slots=True)
class Scenario:
    """One validated scenario manifest, with absolute paths."""

    name: str
    vuln_class: VulnClass
    title: str
    description: str
    folder: Path
    component: str
    extra_component: bool
    vulnerable: ContractRef
    function: str
    fix: ContractRef
    attacker: ContractRef
    script: Path
    attack_txs: int
    loss_asset: str
    extra_tokens: tuple[str, ...] = ()
    benign_exclude: frozenset[str] = frozenset()
    seed: Mapping[str, int | tuple[int, ...]] = field(default_factory=dict)
    references: tuple[str, ...] = ()

    def sources(self) -> tuple[Path, ...]:
        """Every Solidity file of the scenario except the reference fix."""
        fix_dir = self.folder / "fix"
        return tuple(p for p in sorted(self.folder.rglob("*.sol")) if fix_dir not in p.parents)


@dataclass(frozen=True, slots=True)
class Corpus:
    root: Path
    scenarios: tuple[Scenario, ...]

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self.scenarios)

    def __len__(self) -> int:
        return len(self.scenarios)

    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.scenarios)

    def get(self, name: str) -> Scenario:
        for s in self.scenarios:
            if s.name == name:
                return s
        known = ", ".join(self.names()) or "none"
        raise ScenarioError(f"unknown scenario {name!r}; known scenarios: {known}")


def default_root() -> Path:
    """``BULWARK_SCENARIOS`` if set, else ``scenarios/`` in the project root."""
    env = os.environ.get("BULWARK_SCENARIOS")
    return Path(env).resolve() if env else project_root() / "scenarios"


# Folders of ``scenarios/`` that are not scenarios: reference protocols with their own attacks.
NOT_SCENARIOS = frozenset({"protocols"})


def load_corpus(root: Path | None = None) -> Corpus:
    """Load and validate every scenario under ``root``; any broken manifest fails the whole load."""
    root = (root or default_root()).resolve()
    if not root.is_dir():
        raise ScenarioError(f"scenario folder {root} does not exist")
    scenarios: list[Scenario] = []
    problems: list[str] = []
    folders = (
        p for p in root.iterdir() if p.is_dir() and p.name[0] not in "._" and p.name not in NOT_SCENARIOS
    )
    for folder in sorted(folders):
        try:
            scenarios.append(load_scenario(folder))
        except ScenarioError as exc:
            problems.append(exc.user_message)
    if problems:
        raise ScenarioError(
            f"{len(problems)} invalid scenario manifest(s): {problems[0]}", detail="\n".join(problems)
        )
    names = [s.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"duplicate scenario names: {', '.join(dupes)}")
    return Corpus(root=root, scenarios=tuple(scenarios))


def _manifest_path(folder: Path) -> Path:
    for name in _MANIFEST_NAMES:
        if (folder / name).is_file():
            return folder / name
    raise ScenarioError(f"{folder.name}: no manifest.yaml")


def load_scenario(folder: Path) -> Scenario:
    """Read and validate ``folder``'s manifest; every problem is a one-line :class:`ScenarioError`."""
    folder = folder.resolve()
    path = _manifest_path(folder)
    where = f"{folder.name}/{path.name}"
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{where}: cannot read: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where}: must be a mapping")
    data: dict[str, Any] = {str(k): v for k, v in raw.items()}
    unknown = sorted(set(data) - _KEYS_REQUIRED - _KEYS_OPTIONAL)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = sorted(_KEYS_REQUIRED - set(data))
    if missing:
        raise ScenarioError(f"{where}: missing key(s) {', '.join(missing)}")

    def text(key: str) -> str:
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(f"{where}: {key} must be a non-empty string")
        return " ".join(value.split())

    def ident(key: str) -> str:
        value = text(key)
        if not _IDENT_RE.match(value):
            raise ScenarioError(f"{where}: {key} {value!r} is not a Solidity identifier")
        return value

    def file(rel: str, key: str, suffix: str) -> Path:
        p = (folder / rel).resolve()
        if folder not in p.parents:
            raise ScenarioError(f"{where}: {key} {rel!r} points outside the scenario folder")
        if p.suffix != suffix or not p.is_file():
            raise ScenarioError(f"{where}: {key} {rel!r} is not an existing {suffix} file")
        return p

    def contract_in(p: Path, contract: str, key: str) -> None:
        if not re.search(rf"\b(contract|library)\s+{re.escape(contract)}\b", p.read_text()):
            raise ScenarioError(f"{where}: {key}: {p.name} declares no contract {contract}")

    name = text("name")
    if not _NAME_RE.match(name):
        raise ScenarioError(f"{where}: name {name!r} must be lowercase letters, digits and dashes")
    if name != folder.name:
        raise ScenarioError(f"{where}: name {name!r} differs from its folder name {folder.name!r}")
    try:
        vuln_class = VulnClass(text("class"))
    except ValueError:
        raise ScenarioError(
            f"{where}: class {data['class']!r} is not one of {', '.join(sorted(c.value for c in VulnClass))}"
        ) from None

    component = text("component")
    extra_raw = data.get("extra_component", False)
    if not isinstance(extra_raw, bool):
        raise ScenarioError(f"{where}: extra_component must be true or false")
    if not extra_raw and component not in COMPONENTS:
        raise ScenarioError(
            f"{where}: component {component!r} is not one of {', '.join(sorted(COMPONENTS))}"
            " (set extra_component: true for a component the scenario deploys itself)"
        )
    if extra_raw and component in COMPONENTS:
        raise ScenarioError(f"{where}: extra component {component!r} clashes with a protocol component")

    contract = ident("contract")
    source = file(text("source"), "source", ".sol")
    contract_in(source, contract, "source")
    fix = file(text("fix"), "fix", ".sol")
    if fix.parent != folder / "fix":
        raise ScenarioError(f"{where}: fix must live in the scenario's fix/ folder")
    contract_in(fix, contract, "fix")

    attacker_raw = data["attacker"]
    if not isinstance(attacker_raw, Mapping) or set(attacker_raw) != {"source", "contract"}:
        raise ScenarioError(f"{where}: attacker must be a mapping with exactly source and contract")
    attacker_contract = str(attacker_raw["contract"])
    if not _IDENT_RE.match(attacker_contract):
        raise ScenarioError(f"{where}: attacker.contract {attacker_contract!r} is not a Solidity identifier")
    attacker_source = file(str(attacker_raw["source"]), "attacker.source", ".sol")
    contract_in(attacker_source, attacker_contract, "attacker")

    attack_txs = data["attack_txs"]
    if not isinstance(attack_txs, int) or isinstance(attack_txs, bool) or not 1 <= attack_txs <= 20:
        raise ScenarioError(f"{where}: attack_txs must be an integer from 1 to 20")

    extra_tokens = _str_list(data.get("extra_tokens", []), where, "extra_tokens")
    loss_asset = text("loss_asset")
    if loss_asset not in LOSS_ASSETS | set(extra_tokens):
        raise ScenarioError(
            f"{where}: loss_asset {loss_asset!r} is neither usd, weth nor one of its extra_tokens"
        )
    benign_exclude = _str_list(data.get("benign_exclude", []), where, "benign_exclude")
    bad = sorted(set(benign_exclude) - COMPONENTS)
    if bad:
        raise ScenarioError(f"{where}: benign_exclude names unknown component(s) {', '.join(bad)}")
    seed = _seed(data.get("seed", {}), where)
    description = text("description")
    if len(description) < 80:
        raise ScenarioError(f"{where}: description must be a paragraph (80 characters or more)")

    return Scenario(
        name=name,
        vuln_class=vuln_class,
        title=text("title"),
        description=description,
        folder=folder,
        component=component,
        extra_component=extra_raw,
        vulnerable=ContractRef(source, contract),
        function=ident("function"),
        fix=ContractRef(fix, contract),
        attacker=ContractRef(attacker_source, attacker_contract),
        script=file(text("script"), "script", ".py"),
        attack_txs=attack_txs,
        loss_asset=loss_asset,
        extra_tokens=tuple(extra_tokens),
        benign_exclude=frozenset(benign_exclude),
        seed=seed,
        references=tuple(_str_list(data.get("references", []), where, "references")),
    )


def _seed(value: object, where: str) -> dict[str, int | tuple[int, ...]]:
    """Overrides of the deployer's SeedPlan (e.g. ``vault_deposits: []`` for an empty vault)."""
    from bulwark.scenarios.deploy import SeedPlan

    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where}: seed must be a mapping of SeedPlan fields")
    known = {f.name for f in fields(SeedPlan)}
    out: dict[str, int | tuple[int, ...]] = {}
    for key, item in value.items():
        if key not in known:
            raise ScenarioError(f"{where}: seed.{key} is not a SeedPlan field ({', '.join(sorted(known))})")
        if isinstance(item, int) and not isinstance(item, bool) and item >= 0:
            out[str(key)] = item
        elif isinstance(item, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in item):
            out[str(key)] = tuple(item)
        else:
            raise ScenarioError(f"{where}: seed.{key} must be a non-negative integer or a list of them")
    return out


def _str_list(value: object, where: str, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ScenarioError(f"{where}: {key} must be a list of strings")
    return list(value)


def load_script(scenario: Scenario) -> ModuleType:
    """Import the scenario's ``attack.py`` (it must define ``attack``; ``setup`` is optional)."""
    module_name = f"bulwark_scenario_{scenario.name.replace('-', '_')}"
    module = import_script(scenario.name, module_name, scenario.script)
    if not callable(getattr(module, "attack", None)):
        raise ScenarioError(f"{scenario.name}: {scenario.script.name} defines no attack(ctx) function")
    setup = getattr(module, "setup", None)
    if setup is not None and not callable(setup):
        raise ScenarioError(f"{scenario.name}: {scenario.script.name}: setup is not a function")
    return module
