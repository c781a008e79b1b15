from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from bulwark.chain import ChainClient, RetryPolicy, Signer, TxRequest, is_retryable, rpc
from bulwark.chain.client import CallReverted
from bulwark.errors import ChainError, RpcUnreachable, StaleHead
from bulwark.logs import mask


class FakeTransport:
    """Fails the first ``failures`` requests of every method, then answers from ``answers``."""

    url = "http://fake"

    def __init__(self, answers: dict[str, Any], failures: int = 0) -> None:
        self.answers = answers
        self.failures = failures
        self.calls: list[str] = []

    async def request(self, method: str, params: Sequence[Any]) -> rpc.RpcResponse:
        self.calls.append(method)
        if self.calls.count(method) <= self.failures:
            raise rpc.TransportError("connection reset")
        answer = self.answers[method]
        if isinstance(answer, dict) and "error" in answer:
            return {"jsonrpc": "2.0", "id": 1, "error": answer["error"]}
        return {"jsonrpc": "2.0", "id": 1, "result": answer}

    async def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    async def instant(_: float) -> None:
        return None

    monkeypatch.setattr(rpc, "sleep", instant)


def _client(transport: FakeTransport, url: str = "http://fake") -> ChainClient:
    return ChainClient(url, transport=transport, retry=RetryPolicy(attempts=3))


@pytest.mark.parametrize(
    "method",
    [
        "eth_call",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getLogs",
        "eth_getCode",
        "eth_getBalance",
        "eth_getStorageAt",
        "eth_chainId",
        "eth_blockNumber",
        "debug_traceCall",
        "debug_traceTransaction",
        "eth_getTransactionReceipt",
        "eth_getTransactionByHash",
    ],
)
def test_reads_are_retryable(method: str) -> None:
    assert is_retryable(method)


@pytest.mark.parametrize(
    "method",
    [
        "eth_sendRawTransaction",
        "eth_sendTransaction",
        "anvil_mine",
        "evm_revert",
        "anvil_setCode",
        "eth_sign",
    ],
)
def test_writes_are_not_retryable(method: str) -> None:
    assert not is_retryable(method)


def test_read_is_retried_until_it_succeeds() -> None:
    transport = FakeTransport({"eth_blockNumber": "0x2a"}, failures=2)
    assert asyncio.run(_client(transport).block_number()) == 42
    assert transport.calls == ["eth_blockNumber"] * 3


def test_read_gives_up_with_rpc_unreachable() -> None:
    transport = FakeTransport({"eth_blockNumber": "0x2a"}, failures=5)
    with pytest.raises(RpcUnreachable) as info:
        asyncio.run(_client(transport, "https://rpc.example/v2/SECRETAPIKEY99").block_number())
    assert transport.calls == ["eth_blockNumber"] * 3
    message = info.value.user_message
    assert "SECRETAPIKEY99" not in message and "rpc.example" in message
    assert "after 3 tries" in message and "\n" not in message


def test_raw_transaction_is_sent_once() -> None:
    answers = {"eth_sendRawTransaction": "0x" + "ab" * 32, "eth_chainId": "0x7a69"}
    transport = FakeTransport(answers, failures=1)
    signer = Signer("0x" + "01" * 32)
    tx = TxRequest(to=signer.address, gas=21000, nonce=0, max_fee_per_gas=10, max_priority_fee_per_gas=1)
    with pytest.raises(RpcUnreachable):
        asyncio.run(_client(transport).send_transaction(tx, sender=signer))
    assert transport.calls.count("eth_sendRawTransaction") == 1


def test_rpc_error_is_not_retried() -> None:
    transport = FakeTransport({"eth_getCode": {"error": {"code": -32000, "message": "header not found"}}})
    with pytest.raises(ChainError, match="header not found"):
        asyncio.run(_client(transport).get_code(signer_address()))
    assert transport.calls == ["eth_getCode"]


def test_call_revert_names_the_reason() -> None:
    data = (
        "0x08c379a0"
        "0000000000000000000000000000000000000000000000000000000000000020"
        "0000000000000000000000000000000000000000000000000000000000000004"
        "6e6f706500000000000000000000000000000000000000000000000000000000"
    )
    transport = FakeTransport(
        {"eth_call": {"error": {"code": 3, "message": "execution reverted", "data": data}}}
    )
    with pytest.raises(CallReverted) as info:
        asyncio.run(_client(transport).call(TxRequest(to=signer_address())))
    assert info.value.reason == "nope"
    assert transport.calls == ["eth_call"]


def test_stale_head_is_refused() -> None:
    block = {
        "number": "0x5",
        "hash": "0x" + "11" * 32,
        "parentHash": "0x" + "22" * 32,
        "timestamp": hex(1000),
    }
    client = _client(FakeTransport({"eth_getBlockByNumber": block}))
    assert asyncio.run(client.ensure_fresh_head(30, now=1020)).number == 5
    with pytest.raises(StaleHead, match="#5"):
        asyncio.run(client.ensure_fresh_head(30, now=1031))


def test_signer_never_shows_its_key() -> None:
    key = "0x" + "5a" * 32
    signer = Signer(key)
    for text in (repr(signer), str(signer), f"{signer}"):
        assert key[2:] not in text
    assert key[2:] not in mask(f"leaked {key}")


def signer_address() -> Any:
    return Signer("0x" + "02" * 32).address
