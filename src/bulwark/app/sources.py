"""Does the protocol's own source compile to the code that is deployed?

Before Bulwark patches a contract it must be editing the program that runs. For every contract with
``implementation: {file, contract}`` this compiles the file with the project's settings (the version
the project pins, else the one recorded in the deployed code's metadata), reads the implementation
behind the proxy (its ERC-1967 slot; a contract that is no proxy is its own implementation) and
compares runtime code with the metadata trailer cut off and immutables and library links masked
(:func:`bulwark.chain.bytecode.compare_runtime`).

A chain that cannot be reached is a result, not a failure: the caller says the match was not
checked (an operator may check a configuration offline).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bulwark.chain import ChainClient, RetryPolicy
from bulwark.chain.bytecode import compare_artifact, metadata_solc_version
from bulwark.chain.eip1967 import implementation_of
from bulwark.chain.safe import ZERO_ADDRESS, checksum
from bulwark.config import BulwarkConfig, ContractConfig
from bulwark.config.models import ImplementationConfig
from bulwark.domain import Address
from bulwark.errors import ChainError, RpcUnreachable, ToolchainError
from bulwark.toolchain.artifacts import ContractArtifact
from bulwark.toolchain.project import CompileInput, load_project
from bulwark.toolchain.solc import Compiler

__all__ = ["SourceCheck", "check_sources", "find_artifact", "implementation_address"]

Status = Literal["match", "mismatch", "unreachable", "error"]


@dataclass(frozen=True, slots=True)
class SourceCheck:
    protocol: str
    contract: str  # the contract's name in bulwark.yaml
    file: str
    contract_name: str
    status: Status
    detail: str  # why it does not match, or what could not be checked
    implementation: Address | None = None

    @property
    def ok(self) -> bool:
        return self.status == "match"

    def line(self) -> str:
        where = f"{self.protocol}.{self.contract} ({self.file}:{self.contract_name})"
        at = f" at {self.implementation}" if self.implementation else ""
        if self.status == "match":
            return f"source {where}: matches the deployed implementation{at}"
        if self.status == "unreachable":
            return f"source {where}: not checked against the chain: {self.detail}"
        return f"source {where}: does not match the deployed implementation{at}: {self.detail}"


async def implementation_address(client: ChainClient, address: str) -> Address:
    """The ERC-1967 implementation behind ``address``, or ``address`` itself when it is no proxy."""
    impl = await implementation_of(client, address)
    return checksum(address) if impl == ZERO_ADDRESS else impl


def find_artifact(artifacts: Iterable[ContractArtifact], file: str, name: str) -> ContractArtifact | None:
    for art in artifacts:
        if art.name == name and art.source_path == file:
            return art
    return None


async def check_sources(
    config: BulwarkConfig, *, only: tuple[str, str] | None = None, timeout_s: float = 10.0
) -> list[SourceCheck]:
    """One result per contract with an ``implementation`` (none: nothing to check); ``only``
    (protocol, contract) checks that one contract, as a step about to patch it would."""
    out: list[SourceCheck] = []
    for pname, proto in config.protocols.items():
        wanted = {
            n: c.implementation
            for n, c in proto.contracts.items()
            if c.implementation is not None and (only is None or only == (pname, n))
        }
        if proto.source is None or not wanted:
            continue
        try:
            project = load_project(config.resolve_path(proto.source))
        except ToolchainError as exc:  # reported by the offline checks already; say it once more here
            out += [_result(pname, n, i, "error", exc.user_message) for n, i in wanted.items()]
            continue
        url = config.networks[proto.network].rpc_http.resolve()
        async with ChainClient(url, retry=RetryPolicy(attempts=1), timeout_s=timeout_s) as client:
            with project.compiler() as compiler:
                for cname, impl in wanted.items():
                    contract = proto.contracts[cname]
                    out.append(await _check_one(client, compiler, project, pname, cname, contract, impl))
    return out


def _result(
    protocol: str,
    cname: str,
    impl: ImplementationConfig,
    status: Status,
    detail: str,
    at: Address | None = None,
) -> SourceCheck:
    return SourceCheck(protocol, cname, impl.file.as_posix(), impl.contract, status, detail, at)


async def _check_one(
    client: ChainClient,
    compiler: Compiler,
    project: CompileInput,
    pname: str,
    cname: str,
    contract: ContractConfig,
    impl_cfg: ImplementationConfig,
) -> SourceCheck:
    file, name = impl_cfg.file.as_posix(), impl_cfg.contract
    try:
        impl = await implementation_address(client, contract.address)
        code = await client.get_code(impl)
    except RpcUnreachable as exc:
        return _result(
            pname, cname, impl_cfg, "unreachable", f"the chain is not reachable ({exc.user_message})"
        )
    except ChainError as exc:
        return _result(pname, cname, impl_cfg, "error", exc.user_message)
    if not code:
        return _result(pname, cname, impl_cfg, "mismatch", "no code at the implementation", impl)
    try:
        paths = [Path(file)] if project.kind == "foundry" else None
        result = project.compile(compiler, paths, version=metadata_solc_version(code))
    except ToolchainError as exc:
        return _result(
            pname, cname, impl_cfg, "mismatch", f"the source does not compile: {exc.user_message}", impl
        )
    artifact = find_artifact(result.contracts, file, name)
    if artifact is None:
        return _result(pname, cname, impl_cfg, "error", f"no contract {name} in {file}", impl)
    match = compare_artifact(code, artifact)
    if match.matches:
        return _result(pname, cname, impl_cfg, "match", "", impl)
    return _result(pname, cname, impl_cfg, "mismatch", match.reason, impl)
