"""A consensus sentinel as its own process: ``python -m bulwark.respond.peer``.

It serves :class:`~bulwark.respond.consensus.PeerServer` with its own key, its own RPC endpoint and
its own judgement: it signs a pause only when the finding is at least ``--min-severity``, the
target is registered on the guardian (read through its own RPC) and the target is not paused yet.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from eth_utils.address import to_checksum_address

from bulwark.chain import ChainClient, Signer, TxRequest
from bulwark.chain.timelock import is_paused
from bulwark.config.secrets import KEY_SCHEMES, parse_reference
from bulwark.domain import Address, Severity
from bulwark.errors import BulwarkError, ChainError
from bulwark.respond.consensus import PauseRequest, PeerServer

_IS_PROTECTED = bytes.fromhex("ce35de95")  # isProtected(address)


def _word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


async def _serve(args: argparse.Namespace) -> None:
    signer = Signer(parse_reference(args.key, field="--key", schemes=KEY_SCHEMES).private_key())
    secret = parse_reference(f"env:{args.secret_env}", field="--secret-env").resolve().encode()
    min_severity = Severity.parse(args.min_severity)
    client = ChainClient(args.rpc)
    guardian = Address(to_checksum_address(args.guardian))

    async def judge(req: PauseRequest) -> bool:
        severity = Severity.parse(str(req.finding.get("severity", "info")))
        if severity < min_severity:
            return False
        protected = await client.call(TxRequest(to=guardian, data=_IS_PROTECTED + _word(req.target)))
        if int.from_bytes(protected[-32:], "big") != 1:
            return False
        try:
            return not await is_paused(client, req.target)
        except ChainError:
            return False  # not a Pausable answer: refuse to sign a pause of it

    server = PeerServer(signer, secret, args.chain_id, guardian, judge, port=args.port)
    port = await server.start()
    print(f"listening {port}", flush=True)
    try:
        await server.serve_forever()
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bulwark.respond.peer")
    p.add_argument("--key", required=True, help="sentinel key reference (env:NAME or file:PATH)")
    p.add_argument("--secret-env", required=True, help="environment variable holding the channel secret")
    p.add_argument("--rpc", required=True)
    p.add_argument("--guardian", required=True)
    p.add_argument("--chain-id", type=int, required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--min-severity", default="high")
    args = p.parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except BulwarkError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
