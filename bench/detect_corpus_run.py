"""Run the detection corpus (bench/detect_corpus/, format in its README.md): each case on its own
anvil, benign traffic and the exploit sent through the mempool one block at a time, every pending
transaction screened as ``bulwark watch`` screens it (the user's ``bulwark.yaml`` built into
monitors, the same :class:`Screener`, the state re-read per head), every mined one judged again.

Used by ``bench/detect.py --corpus`` and by tests/e2e/detect/test_corpus.py.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from bulwark.chain import ChainClient, Signer, TxRequest
from bulwark.chain.mempool import BatchRpc
from bulwark.config.loader import parse_config
from bulwark.detect.screen import Screener, SimulationFailed
from bulwark.detect.setup import build_monitors
from bulwark.domain import Address, Finding, Severity
from bulwark.errors import BulwarkError
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

CORPUS = Path(__file__).resolve().parent / "detect_corpus"
ACCOUNTS = ("deployer", "attacker", "alice", "bob", "carol", "dave", "erin")
_SEVERE = (Severity.HIGH, Severity.CRITICAL)
_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)(?:\.([a-z]+))?\}")


class CaseError(BulwarkError, ValueError):
    """A corpus case is malformed."""


@dataclass(slots=True)
class StepResult:
    phase: str
    index: int  # 1-based among the phase's transaction steps
    label: str
    tx: str | None = None
    status: str = "sent"  # ok / reverted / not-sent
    pending: list[Finding] = field(default_factory=list)
    mined: list[Finding] = field(default_factory=list)


@dataclass(slots=True)
class CaseResult:
    name: str
    klass: str
    detect_by: int
    steps: list[StepResult] = field(default_factory=list)
    error: str | None = None

    def _calls(self, phase: str) -> list[StepResult]:
        return [s for s in self.steps if s.phase == phase and not s.label.startswith("deploy ")]

    @property
    def first_pending_detection(self) -> int | None:
        for n, s in enumerate(self._calls("exploit"), 1):
            if any(f.severity in _SEVERE for f in s.pending):
                return n
        return None

    @property
    def detected_before_inclusion(self) -> bool:
        first = self.first_pending_detection
        return first is not None and first <= self.detect_by

    @property
    def detected_after_mining(self) -> bool:
        return any(f.severity in _SEVERE for s in self._calls("exploit") for f in s.mined)

    @property
    def benign_high_or_critical(self) -> list[Finding]:
        seen: dict[tuple[str | None, str], Finding] = {}
        for s in self.steps:
            if s.phase == "benign":
                for f in [*s.pending, *s.mined]:
                    if f.severity in _SEVERE:
                        seen.setdefault((f.tx_hash, f.detector), f)
        return list(seen.values())

    def summary(self) -> dict[str, Any]:
        return {
            "case": self.name,
            "class": self.klass,
            "detected_before_inclusion": self.detected_before_inclusion,
            "first_pending_detection": self.first_pending_detection,
            "detect_by": self.detect_by,
            "detected_after_mining": self.detected_after_mining,
            "benign_txs": len(self._calls("benign")),
            "benign_high_or_critical": len(self.benign_high_or_critical),
            "benign_titles": sorted({f"{f.detector}: {f.title}" for f in self.benign_high_or_critical})[:5],
            "exploit_findings": sorted(
                {
                    f"{f.detector}/{f.severity.name.lower()}: {f.title}"
                    for s in self.steps
                    if s.phase == "exploit"
                    for f in s.pending
                }
            )[:8],
            "error": self.error,
        }


# -- values ---------------------------------------------------------------------------------------


def _split_types(inner: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur:
        out.append(cur)
    return out


def signature_types(signature: str) -> list[str]:
    m = re.fullmatch(r"\s*[A-Za-z_$][A-Za-z0-9_$]*\((.*)\)\s*", signature)
    if m is None:
        raise CaseError(f"not a function signature: {signature!r} (write e.g. transfer(address,uint256))")
    return _split_types(m.group(1))


class Scope:
    """Names bound while a case runs: accounts, deployed contracts, signatures."""

    def __init__(self, accounts: Mapping[str, tuple[Address, str]]) -> None:
        self.accounts = accounts  # name -> (address, key)
        self.values: dict[str, Any] = {name: addr for name, (addr, _) in accounts.items()}

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict) and "call" in value:  # encoded calldata as a bytes argument
            return "0x" + self.calldata(value["call"], value.get("args") or []).hex()
        if not isinstance(value, str):
            return value
        m = _VAR.fullmatch(value)
        if m is not None:
            key = f"{m.group(1)}.{m.group(2)}" if m.group(2) else m.group(1)
            if key not in self.values:
                raise CaseError(f"unknown name ${{{key}}} (known: {', '.join(sorted(self.values))})")
            return self.values[key]
        if re.fullmatch(r"-?\d+(\.\d+)?e\d+", value):
            base, exp = value.split("e")
            sign = -1 if base.startswith("-") else 1
            whole, _, frac = base.lstrip("-").partition(".")
            return sign * int(whole + frac) * 10 ** (int(exp) - len(frac))
        return value

    def address(self, value: Any) -> Address:
        v = self.resolve(value)
        if isinstance(v, str) and v in self.values and isinstance(self.values[v], str):
            v = self.values[v]  # a bare name: `to: ledger`
        return Address(to_checksum_address(v))

    def convert(self, typ: str, value: Any) -> Any:
        v = self.resolve(value)
        if typ.endswith("]"):
            inner = typ[: typ.rindex("[")]
            return [self.convert(inner, x) for x in v]
        if typ == "address":
            return self.address(v)
        if typ.startswith(("uint", "int")):
            try:
                return int(v, 0) if isinstance(v, str) else int(v)
            except ValueError:
                raise CaseError(f"{value!r} is not an integer (write 10, 0x0a, 1.5e18 or -2e18)") from None
        if typ == "bool":
            return bool(v)
        if typ.startswith("bytes"):
            if isinstance(v, int):
                return v.to_bytes(int(typ[5:] or 32), "big")
            return bytes.fromhex(str(v).removeprefix("0x"))
        if typ.startswith("("):
            return tuple(self.convert(t, x) for t, x in zip(_split_types(typ[1:-1]), v, strict=True))
        return str(v)

    def calldata(self, signature: str, args: Sequence[Any]) -> bytes:
        types = signature_types(signature)
        if len(types) != len(args):
            raise CaseError(f"{signature}: {len(types)} arguments expected, {len(args)} given")
        values = [self.convert(t, a) for t, a in zip(types, args, strict=True)]
        return keccak(text=signature.replace(" ", ""))[:4] + encode(types, values)

    def substitute(self, tree: Any) -> Any:
        if isinstance(tree, dict):
            return {k: self.substitute(v) for k, v in tree.items()}
        if isinstance(tree, list):
            return [self.substitute(v) for v in tree]
        if isinstance(tree, str):
            return _VAR.sub(lambda m: str(self.values[m.group(1)]), tree)
        return tree


# -- running a case -------------------------------------------------------------------------------


def load_case(path: Path) -> dict[str, Any]:
    raw = yaml.safe_load((path / "case.yaml").read_text())
    if not isinstance(raw, dict):
        raise CaseError(f"{path}/case.yaml: not a mapping")
    for key in ("name", "sources", "deploy", "exploit", "bulwark"):
        if key not in raw:
            raise CaseError(f"{path}/case.yaml: missing {key!r} (see bench/detect_corpus/README.md)")
    return raw


class _Runner:
    def __init__(
        self, case_dir: Path, case: dict[str, Any], client: ChainClient, node: Anvil, compiler: Compiler
    ):
        self.dir, self.case, self.client, self.node = case_dir, case, client, node
        accounts = {
            name: (a.address, a.private_key) for name, a in zip(ACCOUNTS, node.accounts, strict=False)
        }
        self.scope = Scope(accounts)
        result = compiler.compile_files([case_dir / s for s in case["sources"]])
        self.artifacts = {c.name: c for c in result.contracts}
        self.screener: Screener | None = None
        self.rpc: BatchRpc | None = None

    def signer(self, name: str) -> Signer:
        if name not in self.scope.accounts:
            raise CaseError(f"unknown account {name!r} (accounts: {', '.join(ACCOUNTS)})")
        return Signer(self.scope.accounts[name][1])

    def _deploy_data(self, step: dict[str, Any]) -> bytes:
        art = self.artifacts.get(step["contract"])
        if art is None:
            raise CaseError(f"no contract {step['contract']!r} in {self.case['sources']}")
        ctor: dict[str, Any] = next((e for e in art.abi if e.get("type") == "constructor"), {"inputs": []})
        types = [i["type"] for i in ctor.get("inputs", [])]
        args = step.get("args") or []
        return art.bytecode + encode(
            types, [self.scope.convert(t, a) for t, a in zip(types, args, strict=True)]
        )

    async def _sign(self, step: dict[str, Any]) -> None:
        d = step["digest"]
        out = await self.client.request(
            "eth_call",
            [
                {
                    "to": self.scope.address(d["to"]),
                    "data": "0x" + self.scope.calldata(d["call"], d.get("args") or []).hex(),
                },
                "latest",
            ],
        )
        digest = bytes.fromhex(out[2:66])
        sig = Account.unsafe_sign_hash(digest, self.scope.accounts[step["by"]][1])
        r, s, v = sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big"), sig.v
        name = step["sign"]
        self.scope.values[name] = "0x" + (r + s + bytes([v])).hex()
        self.scope.values[f"{name}.v"] = v
        self.scope.values[f"{name}.r"] = "0x" + r.hex()
        self.scope.values[f"{name}.s"] = "0x" + s.hex()
        vs = (v - 27) << 255 | int.from_bytes(s, "big")
        self.scope.values[f"{name}.compact"] = "0x" + (r + vs.to_bytes(32, "big")).hex()

    def _request(self, step: dict[str, Any]) -> tuple[TxRequest, str, str | None]:
        if "deploy" in step:
            return (
                TxRequest(data=self._deploy_data(step), value=int(self.scope.resolve(step.get("value", 0)))),
                f"deploy {step['deploy']}",
                step["deploy"],
            )
        data = self.scope.calldata(step["call"], step.get("args") or [])
        to = self.scope.address(step["to"])
        return (
            TxRequest(to=to, data=data, value=int(self.scope.resolve(step.get("value", 0)))),
            f"{step['call']} -> {step['to']}",
            None,
        )

    async def setup_phase(self) -> None:
        for step in self.case["deploy"]:
            await self._mined_step({**step, "deploy": step["name"]})
        for step in self.case.get("setup") or []:
            for _ in range(int(step.get("repeat", 1))):
                if "sign" in step:
                    await self._sign(step)
                else:
                    await self._mined_step(step)

    async def _mined_step(self, step: dict[str, Any]) -> None:
        req, _label, name = self._request(step)
        req = replace(req, gas=await self._gas(req, step))
        receipt = await self.client.transact(req, sender=self.signer(step["from"]))
        if name is not None:
            assert receipt.contract_address is not None
            self.scope.values[name] = receipt.contract_address

    async def _gas(self, req: TxRequest, step: dict[str, Any]) -> int:
        if "gas" in step:
            return int(step["gas"])
        try:
            return (
                int(await self.client.estimate_gas(req, sender=self.scope.address(step["from"])) * 1.3)
                + 50_000
            )
        except BulwarkError:
            return 3_000_000

    async def watch(self) -> None:
        tree = self.scope.substitute(self.case["bulwark"])
        proto = dict(tree["protocol"])
        proto["network"] = "local"
        if "source" in proto:
            proto["source"] = str((self.dir / proto["source"]).resolve())
        monitor = {"protocol": "case", **(tree.get("monitor") or {})}
        config_text = yaml.safe_dump(
            {
                "networks": {"local": {"rpc_http": self.node.http_url, "confirmations": 0}},
                "protocols": {"case": proto},
                "monitors": {"m": monitor},
            }
        )
        config = parse_config(config_text, path=self.dir / "bulwark.yaml", base_dir=self.dir)
        self.rpc = BatchRpc(self.node.http_url)
        self.screener = Screener(self.rpc, build_monitors(config))
        await self.screener.refresh(await self.client.block_number())

    async def screened_phase(self, phase: str, steps: list[dict[str, Any]], out: CaseResult) -> None:
        assert self.screener is not None
        index = 0
        batch: list[tuple[StepResult, str | None]] = []
        expanded = [s for s in steps for _ in range(int(s.get("repeat", 1)))]
        for step in expanded:
            if "sign" in step:
                await self._sign(step)
                continue
            index += 1
            req, label, name = self._request(step)
            sender = self.signer(step["from"])
            nonce = await self.client.get_nonce(sender.address, "pending")
            req = replace(
                req,
                nonce=nonce,
                gas=await self._gas(req, step),
                max_fee_per_gas=10**11,
                max_priority_fee_per_gas=10**9,
            )
            result = StepResult(phase, index, label)
            out.steps.append(result)
            try:
                tx_hash = await self.client.send_transaction(req, sender=sender)
            except BulwarkError as exc:
                result.status = f"not-sent: {exc.user_message}"
                continue
            result.tx = tx_hash
            tx = await self.client.get_transaction(tx_hash)
            if tx is not None:
                self.screener.note_pending(tx)
                try:
                    result.pending = await self.screener.screen(tx)
                except SimulationFailed as exc:
                    result.status = f"not-simulated: {exc.user_message}"
            batch.append((result, name))
            if step.get("same_block"):
                continue
            await self._mine(batch)
            batch = []
        if batch:
            await self._mine(batch)

    async def _mine(self, batch: list[tuple[StepResult, str | None]]) -> None:
        assert self.screener is not None
        await self.client.mine()
        for result, name in batch:
            if result.tx is None:
                continue
            receipt = await self.client.get_receipt(result.tx)  # type: ignore[arg-type]
            if receipt is None:
                result.status = "not-mined"
                continue
            result.status = "ok" if receipt.status else "reverted"
            if name is not None and receipt.contract_address is not None:
                self.scope.values[name] = receipt.contract_address
            block = await self.client.get_block(receipt.block_number)
            tx = await self.client.get_transaction(result.tx)  # type: ignore[arg-type]
            if tx is not None:
                with contextlib.suppress(SimulationFailed):
                    result.mined = await self.screener.judge_mined(tx, block.number, block.hash)
        await self.screener.refresh(await self.client.block_number())


async def run_case(case_dir: Path, compiler: Compiler) -> CaseResult:
    case = load_case(case_dir)
    expect = case.get("expect") or {}
    out = CaseResult(case["name"], str(case.get("class", "other")), int(expect.get("detect_by", 1)))
    with Anvil(AnvilOptions(accounts=len(ACCOUNTS))) as node:
        client = ChainClient(node.http_url)
        runner = _Runner(case_dir, case, client, node, compiler)
        try:
            await runner.setup_phase()
            await client.set_automine(False)
            await runner.watch()
            benign = list(case.get("benign") or [])
            exploit = list(case["exploit"])
            if case.get("interleave"):
                half = len(benign) // 2
                await runner.screened_phase("benign", benign[:half], out)
                await runner.screened_phase("exploit", exploit, out)
                await runner.screened_phase("benign", benign[half:], out)
            else:
                await runner.screened_phase("benign", benign, out)
                await runner.screened_phase("exploit", exploit, out)
        except BulwarkError as exc:
            out.error = exc.user_message
        finally:
            if runner.rpc is not None:
                await runner.rpc.close()
            await client.close()
    return out


def case_dirs(names: Sequence[str] = ()) -> list[Path]:
    dirs = sorted(p.parent for p in CORPUS.glob("*/case.yaml"))
    if names:
        missing = set(names) - {d.name for d in dirs}
        if missing:
            raise CaseError(f"no such corpus case(s): {', '.join(sorted(missing))}")
        dirs = [d for d in dirs if d.name in names]
    return dirs


async def run_corpus(names: Sequence[str] = ()) -> dict[str, Any]:
    results = []
    with Compiler() as compiler:
        for d in case_dirs(names):
            results.append(await run_case(d, compiler))
    cases = [r.summary() for r in results]
    detected = sum(r.detected_before_inclusion for r in results)
    return {
        "corpus_cases": len(results),
        "detected_before_inclusion": detected,
        "detected_before_inclusion_rate": round(detected / len(results), 3) if results else None,
        "detected_only_after_mining": sum(
            r.detected_after_mining and not r.detected_before_inclusion for r in results
        ),
        "benign_txs": sum(c["benign_txs"] for c in cases),
        "benign_high_or_critical": sum(c["benign_high_or_critical"] for c in cases),
        "errors": sum(1 for r in results if r.error),
        "cases": cases,
    }
