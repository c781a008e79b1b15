"""Notifications from configuration: channels built from ``notifications`` in bulwark.yaml, and the
adapters that announce findings and incident steps through them (in the background: a slow
receiver never holds up a pause)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bulwark.config import BulwarkConfig
from bulwark.config.notify import EmailNotify, SlackNotify, WebhookNotify
from bulwark.detect.service import Output, Raised
from bulwark.domain import Finding, Severity
from bulwark.flow import FlowEvent
from bulwark.notify import (
    Channel,
    DiscordChannel,
    EmailChannel,
    Notification,
    Notifier,
    RateLimit,
    RetryPolicy,
    Route,
    SlackChannel,
    WebhookChannel,
)
from bulwark.store import Store


def notifier_from_config(config: BulwarkConfig) -> Notifier | None:
    """One route per configured channel; ``None`` when no channel is configured."""
    if not config.notifications:
        return None
    routes = []
    for name, spec in config.notifications.items():
        channel: Channel
        if isinstance(spec, WebhookNotify):
            channel = WebhookChannel(name, spec.url.resolve(), spec.secret.resolve() if spec.secret else None)
        elif isinstance(spec, SlackNotify):
            kind = SlackChannel if spec.kind == "slack" else DiscordChannel
            channel = kind(name, spec.url.resolve())
        else:
            assert isinstance(spec, EmailNotify)
            channel = EmailChannel(
                name,
                spec.host,
                spec.port,
                spec.sender,
                spec.recipients,
                username=spec.username,
                password=spec.password.resolve() if spec.password else None,
                security=spec.security,
            )
        routes.append(
            Route(
                channel,
                RetryPolicy(attempts=spec.attempts),
                RateLimit(spec.per_minute / 60.0, burst=spec.burst),
                min_severity=spec.severity,
            )
        )
    return Notifier(routes)


def finding_notification(f: Finding) -> Notification:
    where = "pending transaction" if f.pending else f"block {f.block_number}"
    return Notification(
        f"finding.{f.vuln_class.value}",
        f"[{f.severity.name}] {f.title}",
        f"{f.detector} on {f.protocol} ({where} {f.tx_hash or ''}); recommended action: {f.action.value}",
        f.severity,
        protocol=f.protocol,
        fields=(("detector", f.detector), ("contract", str(f.contract or "")), ("tx", str(f.tx_hash or ""))),
    )


def announcing(
    notifier: Notifier | None, sink: Callable[[Output], Any]
) -> Callable[[Output], Awaitable[None]]:
    """``sink``, plus a background notification of every finding not grouped by the cooldown
    (routes filter by severity); ``sink`` sees every finding."""

    async def out(item: Output) -> None:
        if notifier is not None and isinstance(item, Raised) and item.notify:
            notifier.submit(finding_notification(item.finding))
        result = sink(item)
        if result is not None:
            await result

    return out


_DIFF_CHARS = 4000  # a chat message's worth; the whole diff is in the evidence bundle


def flow_announcer(
    notifier: Notifier, protocol: str, severity: Severity = Severity.CRITICAL
) -> Callable[[FlowEvent], None]:
    """A flow ``on_event`` that announces each finished or failed step of an incident, and each
    time it waits on people: the signers are told what to sign, with the diff and the evidence
    hash the proposal carries."""

    def on_event(e: FlowEvent) -> None:
        if e.kind == "waiting":
            lines = [e.reason]
            for key in ("proposal_id", "evidence_hash", "verdict"):
                if e.record.get(key):
                    lines.append(f"{key.replace('_', ' ')}: {e.record[key]}")
            if e.record.get("diff"):
                lines.append(str(e.record["diff"])[:_DIFF_CHARS])
            notifier.submit(
                Notification(
                    f"incident.{e.step}.waiting",
                    f"incident {e.incident_id}: {e.step} waits for the signers",
                    "\n".join(lines),
                    severity,
                    incident_id=e.incident_id,
                    protocol=protocol,
                    state=e.step,
                )
            )
            return
        if e.kind not in ("done", "failed"):
            return
        failed = e.kind == "failed"
        notifier.submit(
            Notification(
                f"incident.{e.step}.{e.kind}",
                f"incident {e.incident_id}: {e.step} {'FAILED' if failed else 'done'}",
                e.reason if failed else f"{e.step} done in {e.seconds:.1f}s",
                severity,
                incident_id=e.incident_id,
                protocol=protocol,
                state=e.step,
            )
        )

    return on_event


def announced(
    notifier: Notifier | None,
    store: Store,
    incident_id: str,
    on_event: Callable[[FlowEvent], None] | None = None,
) -> Callable[[FlowEvent], None] | None:
    """``on_event`` plus :func:`flow_announcer` for ``incident_id`` (its protocol and severity, so
    each route's ``min_severity`` filters steps as it filters findings); ``on_event`` alone when no
    channel is configured."""
    if notifier is None:
        return on_event
    incident = store.incident(incident_id)
    announce = flow_announcer(notifier, incident.protocol, Severity.parse(incident.severity))
    if on_event is None:
        return announce
    show = on_event

    def both(e: FlowEvent) -> None:
        announce(e)
        show(e)

    return both
