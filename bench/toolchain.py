"""Toolchain throughput: solc compile time, anvil eth_call/s and transactions/s, pyrevm sims/s.

    .venv/bin/python bench/toolchain.py [--json] [--calls N] [--txs N] [--sims N]

Not part of the test run; figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bulwark.chain import ChainClient, Signer, TxRequest, encode_call
from bulwark.chain.abi import decode_result
from bulwark.logs import configure
from bulwark.toolchain.anvil import Anvil, AnvilOptions

# A minimal ERC-20 transfer path: the part every simulation of a token drain exercises.
TOKEN_SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract BenchToken {
    mapping(address => uint256) public balanceOf;
    event Transfer(address indexed from, address indexed to, uint256 value);
    constructor(uint256 supply) { balanceOf[msg.sender] = supply; }
    function transfer(address to, uint256 value) external returns (bool) {
        uint256 bal = balanceOf[msg.sender];
        require(bal >= value, "balance");
        unchecked { balanceOf[msg.sender] = bal - value; }
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }
}
"""
RECIPIENT = "0x00000000000000000000000000000000000B0B00"
CONCURRENCY = 16


def measure_compile_times() -> tuple[dict[str, float], dict[str, float]] | None:
    """``(cold, warm)`` seconds per solc version, from bench/toolchain_compile.py if present."""
    try:
        from toolchain_compile import measure_compile  # type: ignore[import-not-found]
    except ImportError:
        return None
    result = measure_compile()
    if isinstance(result, tuple):
        cold, warm = result
        return dict(cold), dict(warm)
    # Accept a mapping {version: {"cold": s, "warm": s}} as well.
    cold = {v: float(r["cold"]) for v, r in result.items()}
    warm = {v: float(r["warm"]) for v, r in result.items()}
    return cold, warm


def compile_token() -> tuple[list[dict[str, Any]], bytes]:
    from bulwark.toolchain.solc import Compiler

    with Compiler() as compiler:
        art = compiler.compile_sources({"BenchToken.sol": TOKEN_SOURCE}).contract("BenchToken")
    return list(art.abi), bytes(art.bytecode)


async def bench_anvil(
    node: Anvil, abi: list[dict[str, Any]], code: bytes, calls: int, txs: int
) -> dict[str, Any]:
    signer = Signer(node.accounts[0].private_key)
    async with ChainClient(node.http_url) as client:
        token = await client.deploy(abi, code, 10**30, sender=signer)
        call = TxRequest(to=token, data=encode_call(abi, "balanceOf", signer.address))
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one_call() -> None:
            async with gate:
                await client.call(call)

        await asyncio.gather(*(one_call() for _ in range(50)))  # warm the connection pool
        start = time.perf_counter()
        await asyncio.gather(*(one_call() for _ in range(calls)))
        calls_per_s = calls / (time.perf_counter() - start)

        # Fill every field up front: the figure is sign + send + mine, not gas estimation.
        nonce = await client.get_nonce(signer.address)
        base = (await client.get_block("latest")).base_fee or 0
        data = encode_call(abi, "transfer", RECIPIENT, 1)
        requests = [
            TxRequest(
                to=token,
                data=data,
                gas=100_000,
                nonce=nonce + i,
                max_fee_per_gas=4 * base + 10**9,
                max_priority_fee_per_gas=10**9,
            )
            for i in range(txs)
        ]
        start = time.perf_counter()

        async def one_tx(req: TxRequest) -> Any:
            async with gate:  # nonces may arrive out of order: anvil queues and then promotes them
                return await client.send_transaction(req, sender=signer)

        hashes = await asyncio.gather(*(one_tx(req) for req in requests))
        receipt = await client.wait_for_receipt(hashes[-1], timeout_s=60)
        txs_per_s = txs / (time.perf_counter() - start)
        assert receipt.status
        balance = decode_result(
            abi,
            "balanceOf",
            await client.call(TxRequest(to=token, data=encode_call(abi, "balanceOf", RECIPIENT))),
        )
        assert balance == txs, f"expected {txs} transfers to land, saw {balance}"
        head = await client.get_block("latest")
        return {"calls_per_s": calls_per_s, "txs_per_s": txs_per_s, "token": token, "head": head}


def bench_pyrevm(node: Anvil, token: str, head: Any, abi: list[dict[str, Any]], sims: int) -> float:
    from pyrevm import EVM, BlockEnv

    sender = node.accounts[0].address
    evm = EVM(fork_url=node.http_url, fork_block=head.hash)
    # The fork does not carry the block header over: set it, or block.number/timestamp read 0.
    evm.set_block_env(BlockEnv(number=head.number + 1, timestamp=head.timestamp + 12, basefee=0))
    data = encode_call(abi, "transfer", RECIPIENT, 1)
    for _ in range(50):  # pull the touched accounts and slots over RPC once
        cp = evm.snapshot()
        evm.message_call(sender, token, data)
        evm.revert(cp)
    start = time.perf_counter()
    for _ in range(sims):
        cp = evm.snapshot()
        out = evm.message_call(sender, token, data)
        evm.revert(cp)
    elapsed = time.perf_counter() - start
    assert int.from_bytes(bytes(out), "big") == 1, "transfer did not return true"
    return sims / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--txs", type=int, default=500)
    parser.add_argument("--sims", type=int, default=20000)
    args = parser.parse_args(argv)
    configure(level="warning")

    compile_times = measure_compile_times()
    abi, code = compile_token()
    with Anvil(AnvilOptions()) as node:
        figures = asyncio.run(bench_anvil(node, abi, code, args.calls, args.txs))
        sims_per_s = bench_pyrevm(node, figures["token"], figures["head"], abi, args.sims)

    result = {
        "compile_cold_s": compile_times[0] if compile_times else {},
        "compile_warm_s": compile_times[1] if compile_times else {},
        "anvil_calls_per_s": round(figures["calls_per_s"], 1),
        "anvil_txs_per_s": round(figures["txs_per_s"], 1),
        "pyrevm_sims_per_s": round(sims_per_s, 1),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    if compile_times is None:
        print("compile: not available")
    else:
        for version in sorted(compile_times[0]):
            warm = compile_times[1].get(version, float("nan"))
            print(f"compile solc {version}: cold {compile_times[0][version]:.3f} s, warm {warm:.3f} s")
    print(f"anvil eth_call/s:      {result['anvil_calls_per_s']:>10,.1f}")
    print(f"anvil transactions/s:  {result['anvil_txs_per_s']:>10,.1f}")
    print(f"pyrevm simulations/s:  {result['pyrevm_sims_per_s']:>10,.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
