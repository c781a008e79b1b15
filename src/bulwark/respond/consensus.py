"""k-of-n sentinel consensus, off-chain side.

A sentinel that wants a pause builds a :class:`PauseRequest` (guardian, target, selectors, finding
id, deadline), signs its EIP-712 digest and asks its peers for theirs over a small authenticated
channel: HTTP, each request carrying an HMAC-SHA256 of its body under a key the sentinels share
(:class:`PeerServer`, :func:`gather`). Each peer decides for itself (its :data:`Judge`) and answers
with its own EIP-712 signature, which the coordinator checks by recovering the signer. Once
``threshold`` signatures are in (a peer that is down or slow is simply skipped), they are sorted by
signer and submitted in one ``pauseWithConsensus`` transaction. The guardian re-checks everything
on-chain (sentinel registry, threshold, finding, deadline).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from bulwark.chain import Signer
from bulwark.domain import Address
from bulwark.domain.canonical import canonical_ascii
from bulwark.errors import BulwarkError
from bulwark.logs import get_logger

__all__ = [
    "ConsensusError",
    "Judge",
    "PauseRequest",
    "PeerServer",
    "finding_id",
    "gather",
    "recover_pause",
    "sign_pause",
]

log = get_logger(__name__)

PAUSE_TYPES = {
    "Pause": [
        {"name": "target", "type": "address"},
        {"name": "selectors", "type": "bytes4[]"},
        {"name": "findingId", "type": "bytes32"},
        {"name": "deadline", "type": "uint256"},
    ]
}
_MAX_BODY = 64 * 1024


class ConsensusError(BulwarkError, RuntimeError):
    """Not enough sentinels agreed, or a peer's answer could not be used."""


@dataclass(frozen=True, slots=True)
class PauseRequest:
    """What k sentinels sign: pause ``selectors`` of ``target`` (none: all of it) for ``finding``."""

    chain_id: int
    guardian: Address
    target: Address
    selectors: tuple[str, ...]  # 0x-prefixed 4-byte hex
    finding_id: str  # 0x-prefixed 32-byte hex
    deadline: int
    finding: Mapping[str, Any] = field(default_factory=dict)  # what the peers judge

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "guardian": self.guardian,
            "target": self.target,
            "selectors": list(self.selectors),
            "finding_id": self.finding_id,
            "deadline": self.deadline,
            "finding": dict(self.finding),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PauseRequest:
        try:
            return cls(
                chain_id=int(data["chain_id"]),
                guardian=Address(to_checksum_address(data["guardian"])),
                target=Address(to_checksum_address(data["target"])),
                selectors=tuple(str(s).lower() for s in data["selectors"]),
                finding_id=str(data["finding_id"]).lower(),
                deadline=int(data["deadline"]),
                finding=dict(data.get("finding") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConsensusError(f"malformed pause request: {exc}") from None

    def typed_data(self) -> dict[str, Any]:
        return {
            "types": PAUSE_TYPES,
            "primaryType": "Pause",
            "domain": {
                "name": "BulwarkGuardian",
                "version": "1",
                "chainId": self.chain_id,
                "verifyingContract": self.guardian,
            },
            "message": {
                "target": self.target,
                "selectors": [bytes.fromhex(s[2:]) for s in self.selectors],
                "findingId": bytes.fromhex(self.finding_id[2:]),
                "deadline": self.deadline,
            },
        }

    def digest(self) -> bytes:
        signable = encode_typed_data(full_message=self.typed_data())
        return keccak(b"\x19" + signable.version + signable.header + signable.body)


def finding_id(finding: Mapping[str, Any]) -> str:
    """The id sentinels sign for a finding: keccak of its canonical JSON."""
    return "0x" + keccak(canonical_ascii(finding)).hex()


def sign_pause(request: PauseRequest, signer: Signer) -> bytes:
    account = signer._account  # the key never leaves the Signer object
    signed = account.sign_message(encode_typed_data(full_message=request.typed_data()))
    return bytes(signed.signature)


def recover_pause(request: PauseRequest, signature: bytes) -> Address:
    signable = encode_typed_data(full_message=request.typed_data())
    return Address(to_checksum_address(Account.recover_message(signable, signature=signature)))


def _mac(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


# A peer's own decision on a request: True to sign. It must not trust the coordinator's word.
Judge = Callable[[PauseRequest], Awaitable[bool]]


@dataclass(slots=True)
class PeerServer:
    """One sentinel's signing endpoint: ``POST /sign`` with ``X-Bulwark-Mac`` over the body.

    The request is refused unless the MAC checks, the guardian and chain are the ones this sentinel
    serves, the deadline is in the future but within ``max_window_s``, the finding id is the hash of
    the finding sent along, and the judge agrees.
    """

    signer: Signer
    secret: bytes
    chain_id: int
    guardian: Address
    judge: Judge
    max_window_s: int = 3600
    host: str = "127.0.0.1"
    port: int = 0
    signed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    _server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, payload = await self._answer(reader)
        except (asyncio.IncompleteReadError, ValueError, ConnectionError) as exc:
            status, payload = 400, {"error": f"bad request: {exc}"}
        body = json.dumps(payload).encode()
        head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"Connection: close\r\n\r\n" + body)
        try:
            await writer.drain()
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
        request_line = (await reader.readline()).decode("latin-1").split()
        headers: dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if length > _MAX_BODY:
            return 413, {"error": "body too large"}
        body = await reader.readexactly(length)
        if len(request_line) < 2 or request_line[0] != "POST" or request_line[1] != "/sign":
            return 404, {"error": "only POST /sign"}
        if not hmac.compare_digest(headers.get("x-bulwark-mac", ""), _mac(self.secret, body)):
            self.refused.append(("?", "bad mac"))
            log.warning("consensus request refused", reason="bad mac")
            return 401, {"error": "bad mac"}
        req = PauseRequest.from_json(json.loads(body))
        reason = await self._refusal(req)
        if reason is not None:
            self.refused.append((req.finding_id, reason))
            log.warning("consensus request refused", finding_id=req.finding_id, reason=reason)
            return 403, {"error": reason}
        signature = sign_pause(req, self.signer)
        self.signed.append(req.finding_id)
        log.info("consensus request signed", finding_id=req.finding_id, target=req.target)
        return 200, {"signer": self.signer.address, "signature": "0x" + signature.hex()}

    async def _refusal(self, req: PauseRequest) -> str | None:
        now = int(time.time())
        if req.chain_id != self.chain_id or req.guardian.lower() != self.guardian.lower():
            return "not the guardian this sentinel serves"
        if req.deadline <= now:
            return "deadline passed"
        if req.deadline > now + self.max_window_s:
            return "deadline too far"
        if finding_id(req.finding) != req.finding_id:
            return "finding id does not match the finding"
        if not await self.judge(req):
            return "judge disagrees"
        return None


async def _ask(
    http: httpx.AsyncClient, url: str, secret: bytes, request: PauseRequest, timeout_s: float
) -> tuple[Address, bytes]:
    body = canonical_ascii(request.to_json())
    resp = await http.post(
        url.rstrip("/") + "/sign",
        content=body,
        headers={"X-Bulwark-Mac": _mac(secret, body), "Content-Type": "application/json"},
        timeout=timeout_s,
    )
    if resp.status_code != 200:
        raise ConsensusError(f"{url} refused: {resp.status_code} {resp.text[:200]}")
    data = resp.json()
    signature = bytes.fromhex(str(data["signature"]).removeprefix("0x"))
    signer = recover_pause(request, signature)
    if signer.lower() != str(data.get("signer", "")).lower():
        raise ConsensusError(f"{url} answered with a signature by {signer}, not by {data.get('signer')}")
    return signer, signature


@dataclass(frozen=True, slots=True)
class Gathered:
    request: PauseRequest
    signatures: tuple[tuple[Address, bytes], ...]  # sorted by signer address, ascending
    failures: tuple[tuple[str, str], ...]  # (peer url, why) for peers that gave nothing usable

    def ordered(self) -> list[bytes]:
        return [sig for _, sig in self.signatures]


async def gather(
    request: PauseRequest,
    own: Signer,
    peers: Sequence[str],
    secret: bytes,
    *,
    threshold: int,
    sentinels: Sequence[str] = (),
    timeout_s: float = 2.0,
) -> Gathered:
    """Own signature plus the peers' until ``threshold`` distinct sentinels have signed.

    Peers are asked concurrently; one that is down, refuses or times out is recorded and skipped.
    When ``sentinels`` is given, a signature from anybody else is ignored. Raises
    :class:`ConsensusError` when fewer than ``threshold`` sentinels signed.
    """
    allowed = {s.lower() for s in sentinels}
    got: dict[str, tuple[Address, bytes]] = {own.address.lower(): (own.address, sign_pause(request, own))}
    failures: list[tuple[str, str]] = []
    async with httpx.AsyncClient() as http:
        tasks = {asyncio.create_task(_ask(http, url, secret, request, timeout_s)): url for url in peers}
        pending = set(tasks)
        while pending and len(got) < threshold:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if len(got) >= threshold:  # answers that arrived together: k are enough
                    break
                url = tasks[task]
                exc = task.exception()
                if exc is not None:
                    failures.append((url, str(exc) or type(exc).__name__))
                    log.warning("consensus peer gave no signature", peer=url, error=str(exc))
                    continue
                signer, signature = task.result()
                if allowed and signer.lower() not in allowed:
                    failures.append((url, f"{signer} is not a sentinel"))
                    continue
                got.setdefault(signer.lower(), (signer, signature))
        for task in pending:
            task.cancel()
    if len(got) < threshold:
        raise ConsensusError(
            f"only {len(got)} of the {threshold} sentinel signatures needed for {request.finding_id}",
            detail="; ".join(f"{u}: {w}" for u, w in failures),
        )
    ordered = tuple(sorted(got.values(), key=lambda item: int(item[0], 16)))
    return Gathered(request, ordered, tuple(failures))
