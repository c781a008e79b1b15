"""``bulwark watch -c bulwark.yaml``: run the watchers and detectors, print findings as they happen."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bulwark.chain.client import ChainClient
from bulwark.chain.mempool import BatchRpc, MempoolWatcher
from bulwark.chain.watchers import FileCheckpointStore, HeadWatcher
from bulwark.cli.config import check_file
from bulwark.config import BulwarkConfig
from bulwark.detect.report import finding_json
from bulwark.detect.screen import Screener
from bulwark.detect.service import DetectionService, Output, Raised
from bulwark.detect.setup import build_monitors
from bulwark.logs import mask


def _line(item: Output, as_json: bool) -> str:
    f = item.finding
    kind = "finding" if isinstance(item, Raised) else "withdrawn"
    if as_json:
        out: dict[str, Any] = {"type": kind, "finding": finding_json(f)}
        if isinstance(item, Raised) and item.latency_ms is not None:
            out["latency_ms"] = round(item.latency_ms, 3)
        if not isinstance(item, Raised):
            out["reason"] = item.reason
        return mask(json.dumps(out))
    where = "pending" if f.pending else f"block {f.block_number}"
    head = "WITHDRAWN " if kind == "withdrawn" else ""
    return mask(
        f"{head}{f.severity.name:<8} {f.detector:<30} {f.protocol}/{f.contract or '-'} {where} "
        f"tx {f.tx_hash}: {f.title} -> {f.action.value}"
    )


async def _watch(config: BulwarkConfig, state_dir: Path, as_json: bool, until_block: int | None) -> None:
    monitors = build_monitors(config)
    jobs = []
    for net_name, net in config.networks.items():
        mine = tuple(m for m in monitors if config.protocols[m.protocol.name].network == net_name)
        if not mine:
            continue
        http = net.rpc_http.resolve()
        ws = net.rpc_ws.resolve() if net.rpc_ws is not None and net.mempool == "subscribe" else None
        client = ChainClient(http, ws_url=ws)
        rpc = BatchRpc(http)
        screener = Screener(rpc, mine)
        heads = HeadWatcher(
            client,
            FileCheckpointStore(state_dir),
            f"{net_name}-heads",
            confirmations=net.confirmations,
            max_past_blocks=net.max_past_blocks,
            poll_interval_s=net.poll_interval_s,
        )
        mempool = (
            MempoolWatcher(
                client, mode="subscribe" if ws else "poll", poll_interval_s=net.poll_interval_s / 4
            )
            if net.mempool != "off" and any(m.mempool for m in mine)
            else None
        )
        service = DetectionService(client, screener, heads=heads, mempool=mempool)

        async def run(
            service: DetectionService = service, client: ChainClient = client, rpc: BatchRpc = rpc
        ) -> None:
            try:
                await service.run(lambda item: typer.echo(_line(item, as_json)), until_block=until_block)
            finally:
                await rpc.close()
                await client.close()

        jobs.append(run())
    if not jobs:
        typer.echo("no monitors configured: nothing to watch", err=True)
        return
    await asyncio.gather(*jobs)


def register(app: typer.Typer) -> None:
    @app.command("watch")
    def watch(
        config: Annotated[Path, typer.Option("-c", "--config", help="The bulwark.yaml to run.")],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
        state_dir: Annotated[
            Path, typer.Option("--state-dir", help="Where head checkpoints are kept.")
        ] = Path(".bulwark"),
        until_block: Annotated[
            int | None, typer.Option("--until-block", help="Stop after processing this block (replay mode).")
        ] = None,
    ) -> None:
        """Watch heads, logs and the mempool; print every finding as it happens (Ctrl-C stops)."""
        cfg = check_file(config)  # fails closed, listing every problem, before anything connects
        asyncio.run(_watch(cfg, state_dir, as_json, until_block))
