"""Channels: a generic signed JSON webhook, Slack- and Discord-compatible webhooks, and email.

A channel is one async call that either delivers the message or raises
:class:`TransientDeliveryError` (retry) or :class:`PermanentDeliveryError` (give up); retries and
rate limits belong to :class:`bulwark.notify.Notifier`, not to the channel.

Texts in alerts may come from attacker-controlled data (a contract name, a revert string), so the
chat channels neutralise mentions: Slack's ``<!channel>`` syntax is escaped and Discord is told
to parse no mentions at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from bulwark.domain import Severity
from bulwark.domain.canonical import canonical_ascii
from bulwark.logs import register_secret
from bulwark.notify.errors import NotifyError, PermanentDeliveryError, TransientDeliveryError
from bulwark.notify.message import Notification

SIGNATURE_HEADER = "X-Bulwark-Signature"
TIMESTAMP_HEADER = "X-Bulwark-Timestamp"
EVENT_HEADER = "X-Bulwark-Event"
_USER_AGENT = "bulwark-notify/1"


class Channel(Protocol):
    """Something that can carry a :class:`Notification` once."""

    @property
    def name(self) -> str: ...

    async def send(self, message: Notification) -> None: ...


# -- the HMAC scheme of the generic webhook ----------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, "<timestamp>." + body).

    The timestamp is inside the MAC so a captured request cannot be replayed later with a new one.
    """
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """A receiver's check: the signature matches and the timestamp is within ``tolerance`` seconds."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


# -- HTTP channels ------------------------------------------------------------------------------------


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise NotifyError(f"webhook URL must be http(s)://host/...; got {parts.scheme or 'no'} scheme")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


async def _post(
    name: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    client: httpx.AsyncClient | None,
) -> None:
    all_headers = {"content-type": "application/json", "user-agent": _USER_AGENT, **headers}
    try:
        if client is not None:
            response = await client.post(url, content=body, headers=all_headers, timeout=timeout)
        else:
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as own:
                response = await own.post(url, content=body, headers=all_headers)
    except httpx.TransportError as exc:
        raise TransientDeliveryError(f"{name}: receiver unreachable ({type(exc).__name__})") from exc
    code = response.status_code
    if 200 <= code < 300:
        return
    if code == 429 or code >= 500:
        raise TransientDeliveryError(f"{name}: receiver answered {code}", retry_after=_retry_after(response))
    raise PermanentDeliveryError(f"{name}: receiver refused the message ({code})")


def _dumps(payload: dict[str, Any]) -> bytes:
    return canonical_ascii(payload)  # the signed body


@dataclass(frozen=True, slots=True)
class WebhookChannel:
    """POSTs :meth:`Notification.as_json`; with a secret, signs it (see :func:`sign`)."""

    name: str
    url: str
    secret: str | None = None
    timeout: float = 5.0
    client: httpx.AsyncClient | None = None

    def __post_init__(self) -> None:
        _check_url(self.url)
        if self.secret is not None:
            if len(self.secret) < 16:
                raise NotifyError(f"webhook {self.name}: the signing secret must be at least 16 characters")
            register_secret(self.secret)

    async def send(self, message: Notification) -> None:
        body = _dumps(message.as_json())
        headers = {EVENT_HEADER: message.event}
        if self.secret is not None:
            ts = int(time.time())
            headers[TIMESTAMP_HEADER] = str(ts)
            headers[SIGNATURE_HEADER] = sign(self.secret, ts, body)
        await _post(self.name, self.url, body, headers, self.timeout, self.client)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: Notification) -> dict[str, Any]:
    """Slack incoming-webhook body: a plain ``text`` fallback plus Block Kit blocks."""
    title = _slack_escape(message.title)
    text = _slack_escape(message.text)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text or title}},
    ]
    fields = _summary_fields(message)
    if fields:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{_slack_escape(k)}*\n{_slack_escape(v)}"} for k, v in fields
                ][:10],
            }
        )
    if message.url:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{message.url}|Open>"}]})
    return {"text": f"[{message.severity.name}] {title}: {text}", "blocks": blocks}


_DISCORD_COLOURS = {
    Severity.INFO: 0x5865F2,
    Severity.LOW: 0x57F287,
    Severity.MEDIUM: 0xFEE75C,
    Severity.HIGH: 0xE67E22,
    Severity.CRITICAL: 0xED4245,
}


def discord_payload(message: Notification) -> dict[str, Any]:
    """Discord webhook body: one embed; no mention is ever parsed."""
    embed: dict[str, Any] = {
        "title": message.title[:256],
        "description": message.text[:4096],
        "color": _DISCORD_COLOURS[message.severity],
        "timestamp": message.at,
        "fields": [
            {"name": k[:256], "value": v[:1024] or "-", "inline": True} for k, v in _summary_fields(message)
        ][:25],
    }
    if message.url:
        embed["url"] = message.url
    return {"username": "Bulwark", "embeds": [embed], "allowed_mentions": {"parse": []}}


def _summary_fields(message: Notification) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = [("Severity", message.severity.name.lower())]
    if message.protocol:
        out.append(("Protocol", message.protocol))
    if message.incident_id:
        out.append(("Incident", message.incident_id))
    if message.state:
        out.append(("State", message.state))
    return out + list(message.fields)


@dataclass(frozen=True, slots=True)
class _ChatWebhook:
    """A chat service's incoming webhook, posting :meth:`payload`. The URL is the secret."""

    name: str
    url: str
    timeout: float = 5.0
    client: httpx.AsyncClient | None = None

    def __post_init__(self) -> None:
        _check_url(self.url)
        register_secret(self.url)

    def payload(self, message: Notification) -> dict[str, Any]:
        raise NotImplementedError

    async def send(self, message: Notification) -> None:
        await _post(self.name, self.url, _dumps(self.payload(message)), {}, self.timeout, self.client)


@dataclass(frozen=True, slots=True)
class SlackChannel(_ChatWebhook):
    """A Slack (or Mattermost/Rocket.Chat: same body) incoming webhook. The URL is the secret."""

    def payload(self, message: Notification) -> dict[str, Any]:
        return slack_payload(message)


@dataclass(frozen=True, slots=True)
class DiscordChannel(_ChatWebhook):
    """A Discord webhook. The URL is the secret."""

    def payload(self, message: Notification) -> dict[str, Any]:
        return discord_payload(message)


# -- email ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmailChannel:
    """Plain-text mail over SMTP (stdlib ``smtplib``, run in a worker thread).

    ``security`` is ``"starttls"`` (default, port 587), ``"tls"`` (implicit TLS, port 465) or
    ``"none"`` (a relay on loopback only).
    """

    name: str
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    username: str | None = None
    password: str | None = None
    security: str = "starttls"
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.recipients:
            raise NotifyError(f"email channel {self.name} has no recipients")
        if self.security not in ("starttls", "tls", "none"):
            raise NotifyError(f"email channel {self.name}: security must be starttls, tls or none")
        if self.security == "none" and self.password is not None:
            raise NotifyError(f"email channel {self.name}: refusing to send a password without TLS")
        for addr in (self.sender, *self.recipients):
            if "\n" in addr or "\r" in addr or "@" not in addr:
                raise NotifyError(f"email channel {self.name}: {addr!r} is not an address")
        if self.password is not None:
            register_secret(self.password)

    def build(self, message: Notification) -> EmailMessage:
        mail = EmailMessage()
        # Header values must be single lines: an attacker-chosen title cannot add headers.
        subject = " ".join(f"[Bulwark {message.severity.name}] {message.title}".split())
        mail["Subject"] = subject[:200]
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[1])
        mail["X-Bulwark-Event"] = message.event
        lines = [message.title, "", message.text, ""]
        lines += [f"{k}: {v}" for k, v in _summary_fields(message)]
        if message.url:
            lines += ["", message.url]
        mail.set_content("\n".join(lines) + "\n")
        return mail

    def _deliver(self, mail: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username is not None and self.password is not None:
                smtp.login(self.username, self.password)
            refused = smtp.send_message(mail)
        if refused:
            # Some recipients got it; the ones refused will not on a retry either.
            raise PermanentDeliveryError(f"{self.name}: recipients refused: {', '.join(sorted(refused))}")

    async def send(self, message: Notification) -> None:
        mail = self.build(message)
        try:
            await asyncio.to_thread(self._deliver, mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentDeliveryError(f"{self.name}: every recipient was refused") from exc
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise TransientDeliveryError(f"{self.name}: SMTP {exc.smtp_code} (temporary)") from exc
            raise PermanentDeliveryError(f"{self.name}: SMTP {exc.smtp_code}") from exc
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as exc:
            raise TransientDeliveryError(
                f"{self.name}: SMTP server unreachable ({type(exc).__name__})"
            ) from exc
        except smtplib.SMTPException as exc:
            raise PermanentDeliveryError(f"{self.name}: {type(exc).__name__}") from exc
