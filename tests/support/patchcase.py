"""The patch corpus: load a case, run its exploit and its functional test on anvil, report typed results.

A case is a folder under ``tests/fixtures/patch/``::

    Vulnerable.sol   the victim (the contract named in case.yaml) and whatever it declares
    Support.sol      optional helpers the victim or the setup uses (tokens, an AMM pair, a library)
    Attack.sol       the attacker's contracts; never shown to the patch engine
    case.yaml        class, solc, contract, setup / exploit / functional steps and their checks
    expected.diff    golden diff of the engine's first compiled patch (written by the patched test)

Every source file pins the same exact ``pragma solidity X.Y.Z;`` so one compiler builds them all.

Steps (each a one-key mapping)::

    deploy: {contract: Name, as: victim, from: deployer, args: [...], value: "1 ether", abi: Impl}
    call:   {to: victim, fn: deposit, args: [...], from: alice, value: ..., expect: ok|revert|any,
             gas: 5000000, if_exists: false}
    read:   {to: victim, fn: hashOf, args: [...], from: alice, as: h}      # eth_call, stores the result
    sign:   {by: alice, hash: $h, as: sig, prefix: true}                  # 65-byte r||s||v; $sig.v/.r/.s
    encode: {contract: VaultV1, fn: initialize, args: [...], as: data}    # calldata, e.g. for a proxy
    send:   {from: alice, to: $victim, value: "1 ether", expect: ok}       # plain ETH transfer
    warp:   3600          # time passes as on a real chain: a block per 12 s (up to 400, then spaced wider)
    skew:   31            # a block producer sets the next block's timestamp latest+31 (one block)
    mine:   3

Checks (``exploit_succeeds`` and ``functional_expect``; all must hold)::

    {balance: $attacker, gt: "5 ether"}                 ETH balance now
    {balance_delta: $attacker, gt: "1 ether"}           change since the phase began
    {call: [victim, owner], eq: $attacker}              view call now (args after the name)
    {call_delta: [token, balanceOf, $alice], eq: 100}   change of a numeric view since the phase began
    ops: eq ne gt ge lt le, and approx: [value, tolerance]

Values: integers, "1.5 ether" / "3 gwei" / "10e18", "$role" or "$contract" for addresses, "$var"
for stored reads and signatures, hex strings for bytes, lists for arrays, booleans, plain strings.

An exploit *succeeds* when every step marked ``expect: ok`` (the default) went through and every
``exploit_succeeds`` check holds; a patched contract that reverts the attacker's transaction
therefore counts as a blocked exploit. A functional test *passes* when every step behaved as its
``expect`` says and every ``functional_expect`` check holds. Its users are honest: on a patch that
declares caller changes (a commit before a reveal) they follow them (see :class:`Run`); the exploit
is replayed verbatim.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from bulwark.chain import ChainClient, TxRequest
from bulwark.chain.abi import (
    decode_result,
    decode_revert,
    encode_call,
    encode_deploy,
    find_function,
    input_types,
    signature,
)
from bulwark.domain.chain import Address
from bulwark.domain.patch import CallerChange
from bulwark.errors import BulwarkError
from bulwark.toolchain.anvil import AnvilOptions, DevAccount, dev_accounts
from bulwark.toolchain.artifacts import CompileResult
from bulwark.toolchain.solc import Compiler

CORPUS_ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "patch"
# the public patch benchmark (issue 18): same case shape, bench only (the suite checks it is well formed)
BENCH_ROOT = Path(__file__).resolve().parents[2] / "bench" / "patch_corpus"

CLASSES: tuple[str, ...] = (
    "reentrancy",
    "access-control",
    "integer-overflow",
    "unchecked-return",
    "tx-origin",
    "unprotected-selfdestruct",
    "unprotected-delegatecall",
    "signature-replay",
    "oracle-manipulation",
    "erc4626-inflation",
    "denial-of-service",
    "weak-randomness",
    "front-running",
    "timestamp-dependence",
)
# classes only the public benchmark carries so far; kept apart so CLASSES stays the fixture corpus's set
EXTRA_CLASSES: tuple[str, ...] = (
    "logic-flaw",  # a missing check in otherwise plain business logic
    "storage-write",  # arbitrary storage write through a dynamic array's length underflow
)
# issue 18's taxonomy (that of the held-out set) over the corpus's finer classes
CATEGORY: dict[str, str] = {
    "integer-overflow": "arithmetic",
    "reentrancy": "reentrancy",
    "unchecked-return": "unchecked low-level calls",
    "access-control": "access control",
    "tx-origin": "access control",
    "unprotected-selfdestruct": "access control",
    "unprotected-delegatecall": "access control",
    "weak-randomness": "bad randomness",
    "denial-of-service": "denial of service",
    "front-running": "front running",
    "timestamp-dependence": "time manipulation",
    "logic-flaw": "other logic flaws",
    "storage-write": "arbitrary storage write",
    "signature-replay": "other (replay, oracle, vault)",
    "oracle-manipulation": "other (replay, oracle, vault)",
    "erc4626-inflation": "other (replay, oracle, vault)",
}

# Role name -> anvil dev account index (the default mnemonic).
ROLES: dict[str, int] = {
    "deployer": 0,
    "alice": 1,
    "bob": 2,
    "carol": 3,
    "attacker": 4,
    "dave": 5,
    "keeper": 6,
    "accomplice": 7,
}
ATTACK_FILE = "Attack.sol"
VICTIM_FILE = "Vulnerable.sol"
STEP_KINDS = frozenset({"deploy", "call", "read", "sign", "send", "encode", "warp", "skew", "mine"})
OPS = frozenset({"eq", "ne", "gt", "ge", "lt", "le", "approx"})
CHECK_KINDS = frozenset({"balance", "balance_delta", "call", "call_delta"})
EXPECTS = frozenset({"ok", "revert", "any"})
DEFAULT_GAS = 15_000_000
SLOT_SECONDS = 12
MAX_WARP_BLOCKS = 400
_PRAGMA = re.compile(r"pragma\s+solidity\s+([^;]+);")
_UNIT = re.compile(r"^\s*(-?\d+(?:\.\d+)?(?:e\d+)?)\s*(ether|gwei|wei)?\s*$")


def anvil_options() -> AnvilOptions:
    """Zero fees so ETH balances move only by what contracts do (checks can be exact)."""
    return AnvilOptions(extra_args=("--base-fee", "0", "--gas-price", "0", "--gas-limit", "30000000"))


class CaseError(BulwarkError, ValueError):
    """A case folder or case.yaml is malformed."""


# -- the case ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    path: Path
    vuln_class: str
    solc: str
    contract: str
    description: str
    setup: tuple[Mapping[str, Any], ...]
    exploit: tuple[Mapping[str, Any], ...]
    exploit_succeeds: tuple[Mapping[str, Any], ...]
    functional: tuple[Mapping[str, Any], ...]
    functional_expect: tuple[Mapping[str, Any], ...]
    files: dict[str, str] = field(repr=False)  # file name -> text (all .sol files of the folder)

    @property
    def victim_sources(self) -> dict[str, str]:
        """What the patch engine sees: every source but the attacker's."""
        return {name: text for name, text in self.files.items() if name != ATTACK_FILE}

    @property
    def version_band(self) -> str:
        major_minor = tuple(int(x) for x in self.solc.split(".")[:2])
        if major_minor == (0, 4):
            return "0.4"
        if major_minor in {(0, 5), (0, 6), (0, 7)}:
            return "0.5-0.7"
        return "0.8"

    def all_sources(self, victim_sources: Mapping[str, str] | None = None) -> dict[str, str]:
        """Victim sources (original or patched) plus the attacker's file."""
        merged = dict(victim_sources if victim_sources is not None else self.victim_sources)
        if ATTACK_FILE in self.files:
            merged[ATTACK_FILE] = self.files[ATTACK_FILE]
        return merged


def _steps(raw: Any, where: str) -> tuple[Mapping[str, Any], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise CaseError(f"{where}: expected a list of steps")
    out: list[Mapping[str, Any]] = []
    for i, step in enumerate(raw):
        if not isinstance(step, dict) or len(step) != 1:
            raise CaseError(f"{where}[{i}]: a step is a mapping with exactly one key")
        kind, body = next(iter(step.items()))
        if kind not in STEP_KINDS:
            raise CaseError(f"{where}[{i}]: unknown step {kind!r} (known: {sorted(STEP_KINDS)})")
        if kind in {"deploy", "call", "read", "sign", "send", "encode"} and not isinstance(body, dict):
            raise CaseError(f"{where}[{i}]: {kind} takes a mapping")
        if isinstance(body, dict):
            expect = body.get("expect", "ok")
            if expect not in EXPECTS:
                raise CaseError(f"{where}[{i}]: expect must be one of {sorted(EXPECTS)}")
            need = {
                "deploy": ("contract", "as"),
                "call": ("to", "fn"),
                "read": ("to", "fn", "as"),
                "sign": ("by", "hash", "as"),
                "send": ("to", "value"),
                "encode": ("contract", "fn", "as"),
            }[kind]
            for key in need:
                if key not in body:
                    raise CaseError(f"{where}[{i}]: {kind} needs {key!r}")
            who = body.get("from", body.get("by"))
            if who is not None and who not in ROLES:
                raise CaseError(f"{where}[{i}]: unknown account {who!r} (roles: {sorted(ROLES)})")
        out.append(step)
    return tuple(out)


def _checks(raw: Any, where: str) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(raw, list) or not raw:
        raise CaseError(f"{where}: expected a non-empty list of checks")
    for i, check in enumerate(raw):
        if not isinstance(check, dict):
            raise CaseError(f"{where}[{i}]: a check is a mapping")
        kinds = CHECK_KINDS & set(check)
        ops = OPS & set(check)
        extra = set(check) - CHECK_KINDS - OPS - {"from", "why"}
        if len(kinds) != 1 or len(ops) != 1 or extra:
            raise CaseError(
                f"{where}[{i}]: a check has one of {sorted(CHECK_KINDS)} and one of {sorted(OPS)}"
            )
    return tuple(raw)


def load_case(path: Path) -> Case:
    """Read and validate one case folder; raises :class:`CaseError` on anything malformed."""
    meta_file = path / "case.yaml"
    try:
        meta = yaml.safe_load(meta_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CaseError(f"{meta_file}: {exc}") from exc
    if not isinstance(meta, dict):
        raise CaseError(f"{meta_file}: expected a mapping")
    allowed = {
        "class",
        "solc",
        "contract",
        "description",
        "setup",
        "exploit",
        "exploit_succeeds",
        "functional",
        "functional_expect",
    }
    unknown = set(meta) - allowed
    if unknown:
        raise CaseError(f"{meta_file}: unknown keys {sorted(unknown)}")
    for key in ("class", "solc", "contract", "description", "exploit", "exploit_succeeds", "functional"):
        if key not in meta:
            raise CaseError(f"{meta_file}: missing {key!r}")
    if meta["class"] not in CLASSES + EXTRA_CLASSES:
        raise CaseError(f"{meta_file}: unknown class {meta['class']!r}")
    solc = str(meta["solc"])
    if not re.fullmatch(r"0\.\d+\.\d+", solc):
        raise CaseError(f"{meta_file}: solc must be an exact version like 0.4.24, not {solc!r}")
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(path.glob("*.sol"))}
    if VICTIM_FILE not in files:
        raise CaseError(f"{path}: no {VICTIM_FILE}")
    for name, text in files.items():
        pins = [m.strip() for m in _PRAGMA.findall(text)]
        if pins != [solc]:
            raise CaseError(f"{path / name}: must pin exactly `pragma solidity {solc};` (found {pins})")
    where = meta_file.as_posix()
    return Case(
        name=path.name,
        path=path,
        vuln_class=meta["class"],
        solc=solc,
        contract=str(meta["contract"]),
        description=str(meta["description"]).strip(),
        setup=_steps(meta.get("setup"), f"{where}:setup"),
        exploit=_steps(meta["exploit"], f"{where}:exploit"),
        exploit_succeeds=_checks(meta["exploit_succeeds"], f"{where}:exploit_succeeds"),
        functional=_steps(meta["functional"], f"{where}:functional"),
        functional_expect=_checks(
            meta.get("functional_expect") or [{"balance": "$deployer", "ge": 0}], f"{where}:functional_expect"
        ),
        files=files,
    )


def case_dirs(root: Path = CORPUS_ROOT) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "case.yaml").exists())


def load_corpus(root: Path = CORPUS_ROOT) -> list[Case]:
    return [load_case(p) for p in case_dirs(root)]


# -- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhaseResult:
    """One phase (exploit or functional): did it behave, and why not."""

    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: str
    compiled: bool
    compile_error: str = ""
    setup: PhaseResult = PhaseResult(False, "not run")
    exploit: PhaseResult = PhaseResult(False, "not run")  # ok == the exploit succeeded
    functional: PhaseResult = PhaseResult(False, "not run")  # ok == normal use works

    @property
    def exploit_succeeded(self) -> bool:
        return self.compiled and self.setup.ok and self.exploit.ok

    @property
    def functional_ok(self) -> bool:
        return self.compiled and self.setup.ok and self.functional.ok

    def summary(self) -> str:
        if not self.compiled:
            return f"{self.case}: does not compile: {self.compile_error}"
        if not self.setup.ok:
            return f"{self.case}: setup failed: {self.setup.detail}"
        return (
            f"{self.case}: exploit {'SUCCEEDS' if self.exploit.ok else 'blocked'} ({self.exploit.detail}); "
            f"functional {'ok' if self.functional.ok else 'BROKEN'} ({self.functional.detail})"
        )


# -- running ----------------------------------------------------------------------------------------


class StepFailed(Exception):
    """A step did not behave as its ``expect`` says (or could not be run at all)."""


def parse_amount(text: str) -> int | None:
    m = _UNIT.match(text)
    if not m:
        return None
    number, unit = m.groups()
    scale = {"ether": 10**18, "gwei": 10**9, "wei": 1, None: 1}[unit]
    value = Decimal(number) * scale
    if value != value.to_integral_value():
        raise CaseError(f"amount {text!r} is not a whole number of wei")
    return int(value)


class Run:
    """One execution of a case on a chain: names -> addresses, stored values, compiled contracts.

    ``caller_changes``: how a patch asks callers to call (a commit before a reveal). A run given
    them plays honest users who read the patch report: before each call to a function it lists, it
    makes the declared first call (from the same account, with the commitment computed from that
    call's arguments) and lets the declared number of blocks pass. The exploit is run without them.
    """

    def __init__(
        self,
        client: ChainClient,
        build: CompileResult,
        accounts: Sequence[DevAccount],
        caller_changes: Sequence[CallerChange] = (),
    ) -> None:
        self.client = client
        self.build = build
        self.accounts = {role: accounts[i] for role, i in ROLES.items()}
        self.names: dict[str, Address] = {role: a.address for role, a in self.accounts.items()}
        self.abis: dict[str, list[dict[str, Any]]] = {}
        self.kinds: dict[str, str] = {}  # deployed name -> the contract it runs (a proxy: its implementation)
        self.vars: dict[str, Any] = {}
        self.caller_changes = tuple(caller_changes)

    # values

    def value(self, raw: Any) -> Any:
        if isinstance(raw, list):
            return [self.value(x) for x in raw]
        if not isinstance(raw, str):
            return raw
        if raw.startswith("$"):
            key = raw[1:]
            if key in self.names:
                return self.names[key]
            if key in self.vars:
                return self.vars[key]
            raise StepFailed(f"unknown reference {raw}")
        amount = parse_amount(raw)
        return amount if amount is not None else raw

    def typed(self, typ: str, raw: Any) -> Any:
        val = self.value(raw)
        if typ.endswith("]"):
            inner = typ[: typ.rindex("[")]
            return [self.typed(inner, x) for x in val]
        if typ == "address":
            return to_checksum_address(val)
        if typ.startswith(("uint", "int")):
            return int(val)
        if typ.startswith("bytes"):
            if isinstance(val, bytes):
                return val
            text = str(val)
            data = bytes.fromhex(text[2:]) if text.startswith("0x") else text.encode()
            if typ != "bytes":
                data = data.ljust(int(typ[5:]), b"\0")
            return data
        if typ == "bool":
            return bool(val)
        return val

    def address(self, raw: Any) -> Address:
        val = self.value(raw if str(raw).startswith("$") else f"${raw}")
        return Address(to_checksum_address(val))

    def abi_of(self, target: str) -> list[dict[str, Any]]:
        name = target.removeprefix("$")
        if name not in self.abis:
            raise StepFailed(f"{target} is not a deployed contract of this case")
        return self.abis[name]

    # steps

    async def run_steps(self, steps: Sequence[Mapping[str, Any]]) -> None:
        for i, step in enumerate(steps):
            kind, body = next(iter(step.items()))
            try:
                await getattr(self, f"_step_{kind}")(body)
            except StepFailed as exc:
                raise StepFailed(f"step {i + 1} ({kind} {_label(body)}): {exc}") from None

    async def _transact(
        self, to: Address | None, data: bytes, sender: str, value: int, gas: int | None, expect: str, abi: Any
    ) -> Any:
        tx = TxRequest(
            to=to,
            data=data,
            value=value,
            gas=gas or DEFAULT_GAS,
            max_fee_per_gas=0,
            max_priority_fee_per_gas=0,
        )
        receipt = await self.client.transact(tx, sender=self.names[sender], check=False)
        if expect == "ok" and not receipt.status:
            data_out = await self.client._revert_data(receipt.tx_hash)
            raise StepFailed(f"reverted: {decode_revert(data_out or b'', abi)}")
        if expect == "revert" and receipt.status:
            raise StepFailed("was expected to revert but went through")
        return receipt

    async def _step_deploy(self, body: Mapping[str, Any]) -> None:
        try:
            art = self.build.contract(body["contract"])
        except BulwarkError as exc:
            raise StepFailed(str(exc)) from None
        ctor = next((e for e in art.abi if e.get("type") == "constructor"), None)
        types = input_types(ctor) if ctor else []
        args = list(body.get("args") or [])
        if len(args) != len(types):
            raise StepFailed(f"constructor takes {len(types)} arguments, case gives {len(args)}")
        code = encode_deploy(
            art.abi, art.bytecode, *(self.typed(t, a) for t, a in zip(types, args, strict=True))
        )
        receipt = await self._transact(
            None,
            code,
            body.get("from", "deployer"),
            int(self.value(body.get("value", 0))),
            body.get("gas"),
            body.get("expect", "ok"),
            art.abi,
        )
        if receipt.status:
            assert receipt.contract_address is not None
            self.names[body["as"]] = receipt.contract_address
            self.abis[body["as"]] = art.abi
            self.kinds[body["as"]] = str(body["contract"])
            if "abi" in body:  # a proxy: talk to it with its implementation's ABI
                try:
                    self.abis[body["as"]] = self.build.contract(body["abi"]).abi
                except BulwarkError as exc:
                    raise StepFailed(str(exc)) from None
                self.kinds[body["as"]] = str(body["abi"])

    async def _step_encode(self, body: Mapping[str, Any]) -> None:
        try:
            abi = self.build.contract(body["contract"]).abi
        except BulwarkError as exc:
            raise StepFailed(str(exc)) from None
        args = list(body.get("args") or [])
        try:
            entry = find_function(abi, body["fn"], len(args))
        except BulwarkError as exc:
            raise StepFailed(str(exc)) from None
        values = [self.typed(t, a) for t, a in zip(input_types(entry), args, strict=True)]
        self.vars[body["as"]] = encode_call(abi, body["fn"], *values)

    def _resolve(self, body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str, list[Any]] | None:
        """(ABI, function signature, typed arguments) of a call step; None: no such function, if_exists."""
        abi = self.abi_of(body["to"])
        args = list(body.get("args") or [])
        try:
            entry = find_function(abi, body["fn"], len(args))
        except BulwarkError as exc:
            if body.get("if_exists"):
                return None
            raise StepFailed(str(exc)) from None
        values = [self.typed(t, a) for t, a in zip(input_types(entry), args, strict=True)]
        return abi, signature(entry), values

    def _calldata(self, body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], bytes] | None:
        resolved = self._resolve(body)
        if resolved is None:
            return None
        abi, sig, values = resolved
        return abi, encode_call(abi, sig, *values)

    async def _follow_caller_changes(self, body: Mapping[str, Any], sig: str, values: list[Any]) -> None:
        """What an honest client reading the patch report does before this call (a commit, then a wait)."""
        from bulwark.patch.callers import first_call

        kind = self.kinds.get(str(body["to"]).removeprefix("$"))
        sender = body.get("from", "deployer")
        for change in self.caller_changes:
            if change.contract != kind or change.function != sig:
                continue
            try:
                data = first_call(change, self.names[sender], values)
            except ValueError as exc:
                raise StepFailed(f"cannot follow the caller change of {sig}: {exc}") from None
            await self._transact(
                self.address(body["to"]), data, sender, 0, None, "ok", self.abi_of(body["to"])
            )
            if change.blocks_before:
                await self._step_mine(change.blocks_before)

    async def _step_call(self, body: Mapping[str, Any]) -> None:
        resolved = self._resolve(body)
        if resolved is None:
            return
        abi, sig, values = resolved
        if self.caller_changes:
            await self._follow_caller_changes(body, sig, values)
        data = encode_call(abi, sig, *values)
        await self._transact(
            self.address(body["to"]),
            data,
            body.get("from", "deployer"),
            int(self.value(body.get("value", 0))),
            body.get("gas"),
            body.get("expect", "ok"),
            abi,
        )

    async def _step_read(self, body: Mapping[str, Any]) -> None:
        built = self._calldata(body)
        if built is None:
            raise StepFailed(f"no function {body['fn']}")
        abi, data = built
        self.vars[body["as"]] = await self._view(
            body["to"], body["fn"], data, abi, body.get("from"), len(body.get("args") or [])
        )

    async def _view(self, to: str, fn: str, data: bytes, abi: Any, sender: str | None, nargs: int) -> Any:
        try:
            out = await self.client.call(
                TxRequest(to=self.address(to), data=data), sender=self.names[sender] if sender else None
            )
        except BulwarkError as exc:
            raise StepFailed(f"view {fn} failed: {exc}") from None
        return decode_result(abi, fn, out, nargs)

    async def _step_sign(self, body: Mapping[str, Any]) -> None:
        digest = self.typed("bytes32", body["hash"])
        if body.get("prefix", True):
            digest = keccak(b"\x19Ethereum Signed Message:\n32" + digest)
        signed = Account.unsafe_sign_hash(digest, self.accounts[body["by"]].private_key)
        name = body["as"]
        r, s, v = signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"), signed.v
        self.vars[name] = r + s + bytes([v])
        self.vars[f"{name}.r"], self.vars[f"{name}.s"], self.vars[f"{name}.v"] = r, s, v

    async def _step_send(self, body: Mapping[str, Any]) -> None:
        await self._transact(
            self.address(body["to"]),
            b"",
            body.get("from", "deployer"),
            int(self.value(body["value"])),
            body.get("gas"),
            body.get("expect", "ok"),
            None,
        )

    async def _step_warp(self, seconds: int) -> None:
        # one block per 12-second slot, as on mainnet, so a fix that also counts blocks sees honest
        # time pass; capped (anvil_mine slows down past a few hundred blocks), then spaced wider
        blocks = min(max(1, math.ceil(int(seconds) / SLOT_SECONDS)), MAX_WARP_BLOCKS)
        await self.client.mine(blocks, math.ceil(int(seconds) / blocks))

    async def _step_skew(self, seconds: int) -> None:
        latest = await self.client.get_block("latest")
        await self.client.set_next_block_timestamp(latest.timestamp + int(seconds))

    async def _step_mine(self, blocks: int) -> None:
        await self.client.mine(int(blocks))

    # checks

    async def measure(self, check: Mapping[str, Any]) -> int | Any:
        if "balance" in check or "balance_delta" in check:
            return await self.client.get_balance(
                self.address(check.get("balance", check.get("balance_delta")))
            )
        spec = list(check.get("call", check.get("call_delta")))
        target, fn, args = spec[0], spec[1], spec[2:]
        built = self._calldata({"to": target, "fn": fn, "args": args})
        assert built is not None
        abi, data = built
        return await self._view(target, fn, data, abi, check.get("from"), len(args))

    async def baseline(self, checks: Sequence[Mapping[str, Any]]) -> list[Any]:
        out: list[Any] = []
        for check in checks:
            if "balance_delta" in check or "call_delta" in check:
                try:
                    out.append(await self.measure(check))
                except StepFailed:
                    out.append(0)  # what it measures does not exist yet (deployed during the phase)
            else:
                out.append(None)
        return out

    async def evaluate(self, checks: Sequence[Mapping[str, Any]], before: Sequence[Any]) -> list[str]:
        """The checks that do not hold, each explained."""
        failed: list[str] = []
        for check, base in zip(checks, before, strict=True):
            try:
                actual = await self.measure(check)
            except StepFailed as exc:
                failed.append(f"{_label(check)}: {exc}")
                continue
            if base is not None:
                actual = int(actual) - int(base)
            op = next(iter(OPS & set(check)))
            if not _holds(op, actual, check[op], self):
                failed.append(f"{_label(check)}: actual {actual!r}")
        return failed


def _label(body: Any) -> str:
    if isinstance(body, Mapping):
        parts = [f"{k}={v}" for k, v in body.items() if k not in {"why"}]
        return "{" + ", ".join(parts) + "}"
    return str(body)


def _holds(op: str, actual: Any, expected_raw: Any, run: Run) -> bool:
    if op == "approx":
        target, tol = (int(run.value(x)) for x in expected_raw)
        return abs(int(actual) - target) <= tol
    expected = run.value(expected_raw)
    if isinstance(actual, str) and isinstance(expected, str):
        actual, expected = actual.lower(), expected.lower()
    elif isinstance(actual, bytes) and isinstance(expected, str):
        expected = bytes.fromhex(expected.removeprefix("0x"))
    elif isinstance(actual, bool) or isinstance(expected, bool):
        actual, expected = bool(actual), bool(expected)
    try:
        return bool(
            {
                "eq": lambda: actual == expected,
                "ne": lambda: actual != expected,
                "gt": lambda: actual > expected,
                "ge": lambda: actual >= expected,
                "lt": lambda: actual < expected,
                "le": lambda: actual <= expected,
            }[op]()
        )
    except TypeError:
        return False


class CaseRunner:
    """Runs cases on one node: setup once per run, then exploit and functional from the same state."""

    def __init__(
        self, client: ChainClient, compiler: Compiler, accounts: Sequence[DevAccount] | None = None
    ) -> None:
        self.client = client
        self.compiler = compiler
        self.accounts = list(accounts or dev_accounts(len(ROLES)))

    def compile(self, case: Case, victim_sources: Mapping[str, str] | None = None) -> CompileResult:
        return self.compiler.compile_sources(
            case.all_sources(victim_sources), version=case.solc, outputs="minimal"
        )

    async def run(
        self,
        case: Case,
        victim_sources: Mapping[str, str] | None = None,
        caller_changes: Sequence[CallerChange] = (),
    ) -> CaseResult:
        """Setup, then the exploit verbatim, then (from the same state) the functional test, whose
        honest users follow ``caller_changes`` (how the patch asks callers to call)."""
        try:
            build = await asyncio.to_thread(self.compile, case, victim_sources)
        except BulwarkError as exc:
            return CaseResult(case.name, compiled=False, compile_error=str(exc).splitlines()[0][:300])
        top = await self.client.snapshot()
        try:
            first = Run(self.client, build, self.accounts)
            try:
                await first.run_steps(case.setup)
            except (StepFailed, BulwarkError) as exc:
                return CaseResult(case.name, True, setup=PhaseResult(False, str(exc)))
            after_setup = await self.client.snapshot()
            exploit = await self._phase(first, case.exploit, case.exploit_succeeds, exploit=True)
            await self.client.revert(after_setup)
            second = Run(self.client, build, self.accounts, caller_changes)
            second.names, second.abis, second.kinds = dict(first.names), dict(first.abis), dict(first.kinds)
            second.vars = {k: v for k, v in first.vars.items()}
            functional = await self._phase(second, case.functional, case.functional_expect, exploit=False)
            return CaseResult(
                case.name, True, setup=PhaseResult(True), exploit=exploit, functional=functional
            )
        finally:
            await self.client.revert(top)

    async def _phase(
        self,
        run: Run,
        steps: Sequence[Mapping[str, Any]],
        checks: Sequence[Mapping[str, Any]],
        *,
        exploit: bool,
    ) -> PhaseResult:
        before = await run.baseline(checks)
        try:
            await run.run_steps(steps)
        except (StepFailed, BulwarkError) as exc:
            return PhaseResult(False, str(exc)[:400])
        failed = await run.evaluate(checks, before)
        if failed:
            return PhaseResult(False, "; ".join(failed)[:400])
        return PhaseResult(True, "all steps and checks hold" if not exploit else "attacker's goal reached")


# -- patching ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PatchOutcome:
    """The engine's first compiled patch for a case, and what it did to the exploit and to normal use."""

    case: str
    vuln_class: str
    solc: str
    seconds: float  # source -> ranked compiled candidates
    candidates: int
    error: str = ""  # the engine raised, or produced no compiled patch
    template: str = ""
    diff: str | None = None
    result: CaseResult | None = None  # the case run on the patched sources (None: no patch)

    @property
    def patched(self) -> bool:
        return self.diff is not None

    @property
    def fixed(self) -> bool:
        """A compiled patch exists and the exploit no longer reaches its goal."""
        r = self.result
        return r is not None and r.compiled and r.setup.ok and not r.exploit.ok

    @property
    def broken(self) -> bool:
        """The patch broke normal use (or does not build or deploy)."""
        return self.result is not None and not self.result.functional_ok

    def why(self) -> str:
        if not self.patched:
            return f"no patch: {self.error}"
        assert self.result is not None
        return self.result.summary()


def first_patch(case: Case, compiler: Compiler) -> tuple[Any, float, int, str]:
    """(first compiled patch or None, seconds, candidate count, error) from ``bulwark.patch.generate``."""
    import time

    from bulwark.patch import PatchRequest, generate

    start = time.perf_counter()
    try:
        patches = generate(
            PatchRequest(sources=case.victim_sources, contract=case.contract, solc_version=None, trace=None),
            compiler=compiler,
        )
    except Exception as exc:
        return None, time.perf_counter() - start, 0, f"{type(exc).__name__}: {exc}"[:300]
    elapsed = time.perf_counter() - start
    compiled = [p for p in patches if p.compiled]
    if not compiled:
        return (
            None,
            elapsed,
            len(patches),
            f"{len(patches)} candidate(s), none compiled" if patches else "no patch",
        )
    return compiled[0], elapsed, len(patches), ""


@dataclass(frozen=True, slots=True)
class Generated:
    """The plain (picklable) part of ``first_patch``'s answer."""

    case: str
    seconds: float
    candidates: int
    error: str
    template: str = ""
    diff: str | None = None
    patched_sources: dict[str, str] | None = None
    # the patch's caller changes (CallerChange.to_json()): how honest users must now call
    caller_changes: tuple[dict[str, Any], ...] = ()


def generate_one(case: Case, compiler: Compiler) -> Generated:
    patch, seconds, count, error = first_patch(case, compiler)
    if patch is None:
        return Generated(case.name, seconds, count, error)
    return Generated(
        case.name,
        seconds,
        count,
        "",
        str(patch.template),
        str(patch.diff),
        dict(patch.patched_sources),
        tuple(c.to_json() for c in patch.caller_changes),
    )


_WORKER_COMPILER: Compiler | None = None


def _worker_generate(path: Path) -> Generated:
    global _WORKER_COMPILER  # noqa: PLW0603 - one compiler per worker process
    if _WORKER_COMPILER is None:
        _WORKER_COMPILER = Compiler()
    return generate_one(load_case(path), _WORKER_COMPILER)


def _quiet_worker() -> None:
    """Engine workers log warnings only, to stderr (a spawned process has structlog's stdout default)."""
    from bulwark.logs import configure

    configure("warning")


def generate_all(cases: Sequence[Case], workers: int = 2) -> dict[str, Generated]:
    """Run the engine on every case in ``workers`` processes (Slither is CPU-bound and holds the GIL)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(
        max_workers=workers, mp_context=get_context("spawn"), initializer=_quiet_worker
    ) as pool:
        return {g.case: g for g in pool.map(_worker_generate, [c.path for c in cases])}


async def evaluate_generated(case: Case, gen: Generated, runner: CaseRunner) -> PatchOutcome:
    if gen.patched_sources is None:
        return PatchOutcome(
            case.name, case.vuln_class, case.solc, gen.seconds, gen.candidates, error=gen.error
        )
    changes = [CallerChange.from_json(c) for c in gen.caller_changes]
    result = await runner.run(case, {**case.victim_sources, **gen.patched_sources}, changes)
    return PatchOutcome(
        case.name,
        case.vuln_class,
        case.solc,
        gen.seconds,
        gen.candidates,
        template=gen.template,
        diff=gen.diff,
        result=result,
    )


async def evaluate_patch(case: Case, runner: CaseRunner, compiler: Compiler) -> PatchOutcome:
    gen = await asyncio.to_thread(generate_one, case, compiler)
    return await evaluate_generated(case, gen, runner)


def fix_rates(outcomes: Sequence[PatchOutcome]) -> tuple[float, dict[str, float]]:
    """Overall and per-class share of cases whose exploit fails after patching."""
    by_class: dict[str, list[bool]] = {}
    for o in outcomes:
        by_class.setdefault(o.vuln_class, []).append(o.fixed)
    overall = sum(o.fixed for o in outcomes) / len(outcomes) if outcomes else 0.0
    return overall, {k: sum(v) / len(v) for k, v in sorted(by_class.items())}
