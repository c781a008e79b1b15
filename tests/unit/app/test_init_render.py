"""What ``bulwark init`` writes when the chain leaves gaps: a commented line saying what to fill
in, never a secret, and a file ``bulwark config check`` accepts as far as it goes. (The discovery
itself runs against a real anvil in tests/e2e/product.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from bulwark.app.init import Discovery, FoundContract, PauseInfo, discover, render, rpc_value, write_init
from bulwark.chain.client import run
from bulwark.config import load_config, secret_problems
from bulwark.domain import Address
from bulwark.errors import UsageError
from bulwark.toolchain.project import CompileInput

A = Address("0x5FbDB2315678afecb367f032d93F642f64180aa3")
B = Address("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")


def _discovery(tmp_path: Path, url: str = "http://127.0.0.1:8545", *, source: bool = False) -> Discovery:
    project = CompileInput(
        kind="foundry",
        root=tmp_path / "proj",
        path=tmp_path / "proj" / "foundry.toml",
        solc_version=None,
        optimizer=False,
        optimizer_runs=200,
        evm_version=None,
        via_ir=False,
        remappings=(),
    )
    contract = FoundContract(
        name="pool",
        proxy=A,
        implementation=B,
        proxy_kind="uups",
        admin=None,
        upgrade_owner=None,
        upgraders=(),
        source=("src/Pool.sol", "Pool") if source else None,
        source_note="" if source else "no contract of the project compiles to the deployed implementation",
        abi=(),
        pause=PauseInfo(guarded_by=(), holders=(), paused=False, unguarded=True),
    )
    return Discovery(1, url, project, (contract,), (), None, None, None, None)


def test_what_was_not_found_is_a_todo_line(tmp_path: Path) -> None:
    text = render(_discovery(tmp_path), out_dir=tmp_path, protocol="p")
    assert (
        "        # TODO implementation: {file: src/..., contract: ...}  (no contract of the project" in text
    )
    assert "# TODO assets: none found" in text
    assert "# TODO policies: no Safe and timelock found" in text
    assert "# TODO responses: no Bulwark guardian holds a pause right" in text
    assert "# WARNING: anyone can call pause() on this contract" in text
    assert "# upgrades through the implementation (UUPS): guarded by nobody found\n" in text
    assert '    source: "proj"  # foundry project' in text


def test_the_partial_file_still_loads_and_checks(tmp_path: Path) -> None:
    out = tmp_path / "bulwark.yaml"
    write_init(_discovery(tmp_path), out, protocol="p")
    config = load_config(out)
    assert list(config.protocols["p"].contracts) == ["pool"] and config.policies == {}
    assert secret_problems(config) == []
    with pytest.raises(UsageError, match="exists; choose another --out or pass --force"):
        write_init(_discovery(tmp_path), out, protocol="p")


@pytest.mark.parametrize(
    ("url", "written"),
    [
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("https://eth-mainnet.g.alchemy.com/v2/SECRETKEY", "env:BULWARK_RPC_URL"),
        ("https://user:SECRETKEY@node.example", "env:BULWARK_RPC_URL"),
        ("https://node.example/?apikey=SECRETKEY", "env:BULWARK_RPC_URL"),
    ],
)
def test_an_rpc_url_that_can_carry_a_key_is_a_reference(tmp_path: Path, url: str, written: str) -> None:
    assert rpc_value(url)[0] == written
    text = render(_discovery(tmp_path, url), out_dir=tmp_path)
    assert "SECRETKEY" not in text and f'rpc_http: "{written}"' in text


def test_a_bad_proxy_address_is_refused_before_anything_is_asked(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--proxy 0x5F: not an address"):
        run(discover("http://127.0.0.1:9", tmp_path, [str(A), "0x5F"]))
    with pytest.raises(UsageError, match="give at least one --proxy"):
        run(discover("http://127.0.0.1:9", tmp_path, []))
