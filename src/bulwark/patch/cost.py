"""What an applied patch costs: runtime bytecode size and gas, before and after.

Size comes from the compile (runtime bytecode, the original's compiler version, optimizer on). Gas
comes from calling the patched functions in an in-process EVM (pyrevm): the original and the
patched contract are each deployed by the same account (zero constructor arguments), which then
calls every patched function with zero arguments. Where that is not possible (dynamic arguments,
a call that reverts) the report says why instead of a number. ``bulwark verify`` measures gas on a fork with
real traffic; this is the cheap, always-local estimate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bulwark.toolchain.artifacts import CompileResult, ContractArtifact

_DEPLOYER = "0x" + "b0" * 20
_STATIC_ABI = ("uint", "int", "address", "bool", "bytes1", "bytes2", "bytes4", "bytes8", "bytes16", "bytes32")
GAS_SOURCE = (
    "in-process EVM (pyrevm, Cancun): deployed with zero constructor arguments, the deployer calls "
    "each patched function with zero arguments"
)


@dataclass(frozen=True, slots=True)
class GasSample:
    function: str  # signature
    before: int
    after: int

    @property
    def overhead_pct(self) -> float:
        return round(100.0 * (self.after - self.before) / self.before, 3) if self.before else 0.0


@dataclass(frozen=True, slots=True)
class PatchCost:
    contract: str
    size_before: int | None  # runtime bytecode bytes; None when not measured
    size_after: int | None
    size_source: str  # how the sizes were obtained, or why they were not
    gas: tuple[GasSample, ...]
    gas_source: str  # how gas was measured
    gas_skipped: tuple[str, ...] = ()  # functions not measured, each with why

    @property
    def size_overhead_pct(self) -> float | None:
        if not self.size_before or self.size_after is None:
            return None
        return round(100.0 * (self.size_after - self.size_before) / self.size_before, 3)

    def to_json(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "size_before": self.size_before,
            "size_after": self.size_after,
            "size_overhead_pct": self.size_overhead_pct,
            "size_source": self.size_source,
            "gas": [
                {
                    "function": g.function,
                    "before": g.before,
                    "after": g.after,
                    "overhead_pct": g.overhead_pct,
                }
                for g in self.gas
            ],
            "gas_source": self.gas_source,
            "gas_skipped": list(self.gas_skipped),
        }


def not_measured(contract: str, why: str) -> PatchCost:
    return PatchCost(contract, None, None, f"not measured: {why}", (), f"not measured: {why}")


def measure(
    before: CompileResult, after: CompileResult, path: str, contract: str, functions: Iterable[str]
) -> PatchCost:
    """Size and gas of ``contract`` (in source unit ``path``) in ``before`` and ``after``; gas for the
    functions named (names or signatures) that exist in both."""
    old = _artifact(before, path, contract)
    new = _artifact(after, path, contract)
    if old is None or new is None or not old.deployed_bytecode or not new.deployed_bytecode:
        return not_measured(contract, "no runtime bytecode for the contract in the compile")
    settings = before.settings.get("optimizer") or {}
    opt = f"optimizer {'on, ' + str(settings.get('runs')) + ' runs' if settings.get('enabled') else 'off'}"
    size_source = f"runtime bytecode from solc {before.version} ({opt})"
    samples, skipped, gas_source = _gas(old, new, list(functions))
    return PatchCost(
        contract,
        len(old.deployed_bytecode),
        len(new.deployed_bytecode),
        size_source,
        tuple(samples),
        gas_source,
        tuple(skipped),
    )


def _artifact(result: CompileResult, path: str, contract: str) -> ContractArtifact | None:
    return next((c for c in result.contracts if c.source_path == path and c.name == contract), None)


def _gas(
    old: ContractArtifact, new: ContractArtifact, functions: list[str]
) -> tuple[list[GasSample], list[str], str]:
    ctor = _constructor_types(old)
    if ctor is None or ctor != _constructor_types(new):
        return (
            [],
            [],
            "not measured: the constructor takes dynamic arguments (bulwark verify measures gas on a fork)",
        )
    if old.link_references.get("bytecode") or new.link_references.get("bytecode"):
        return [], [], "not measured: the contract links libraries"
    try:
        from pyrevm import EVM
    except ImportError:  # pragma: no cover - pyrevm is a dependency
        return [], [], "not measured: pyrevm is not installed"
    samples: list[GasSample] = []
    skipped: list[str] = []
    wanted = _signatures(old, functions)
    for sig in wanted:
        if sig not in new.method_identifiers:
            skipped.append(f"{sig}: not in the patched ABI")
            continue
        inputs = sig[sig.index("(") + 1 : -1]
        types = [t for t in inputs.split(",") if t]
        if not all(_static(t) for t in types):
            skipped.append(f"{sig}: takes dynamic arguments")
            continue
        gas: list[int] = []
        for art in (old, new):
            evm = EVM(spec_id="CANCUN")
            evm.set_balance(_DEPLOYER, 10**24)
            try:
                # constructor arguments, if any, are zero like the call's: the same for both builds
                address = evm.deploy(_DEPLOYER, art.bytecode + bytes(32 * len(ctor)))
                data = bytes.fromhex(art.method_identifiers[sig]) + bytes(32 * len(types))
                evm.message_call(_DEPLOYER, address, data)
                result = evm.result
                if result is None or not result.is_success:
                    raise RuntimeError("no successful execution result")
                gas.append(int(result.gas_used))
            except RuntimeError as exc:
                skipped.append(f"{sig}: the call reverts ({str(exc)[:80]})")
                break
        if len(gas) == 2:
            samples.append(GasSample(sig, gas[0], gas[1]))
    if not wanted:
        return [], [], "not measured: the patched functions are not external entry points"
    return samples, skipped, GAS_SOURCE


def _static(abi_type: str) -> bool:
    return abi_type.startswith(_STATIC_ABI) and "[" not in abi_type


def _constructor_types(art: ContractArtifact) -> list[str] | None:
    """The constructor's parameter types; None when one is dynamic (no zero encoding of one word)."""
    for entry in art.abi:
        if entry.get("type") == "constructor":
            types = [str(i.get("type")) for i in entry.get("inputs") or []]
            return types if all(_static(t) for t in types) else None
    return []


def _signatures(art: ContractArtifact, functions: Iterable[str]) -> list[str]:
    out: list[str] = []
    for name in functions:
        for sig in sorted(art.method_identifiers):
            if (sig == name or sig.split("(")[0] == name) and sig not in out:
                out.append(sig)
    return out
