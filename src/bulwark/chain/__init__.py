"""Talking to the chain: async JSON-RPC client, signer, ABI helpers, raw -> domain conversion."""

from bulwark.chain.abi import decode_revert, encode_call, encode_deploy
from bulwark.chain.client import (
    BlockId,
    CallReverted,
    ChainClient,
    LogFilter,
    Subscription,
    TxRequest,
    run,
)
from bulwark.chain.rpc import RetryPolicy, is_retryable
from bulwark.chain.signer import Signer

__all__ = [
    "BlockId",
    "CallReverted",
    "ChainClient",
    "LogFilter",
    "RetryPolicy",
    "Signer",
    "Subscription",
    "TxRequest",
    "decode_revert",
    "encode_call",
    "encode_deploy",
    "is_retryable",
    "run",
]
