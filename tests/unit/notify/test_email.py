"""The email channel against a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bulwark.domain import Severity
from bulwark.notify import EmailChannel, Notification, Notifier, NotifyError, RetryPolicy, Route

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


@dataclass
class Inbox:
    messages: list[Any] = field(default_factory=list)
    # SMTP replies to DATA, in order; once exhausted, "250 OK".
    script: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.script:
            return self.script.pop(0)
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _channel(port: int, **kw: Any) -> EmailChannel:
    # A loaded CI machine must not turn a slow local SMTP answer into a (retried) timeout.
    kw.setdefault("timeout", 60.0)
    return EmailChannel(
        "oncall",
        "127.0.0.1",
        port,
        "bulwark@example.org",
        ("oncall@example.org", "cto@example.org"),
        security="none",
        **kw,
    )


def _message(title: str = "Vault paused") -> Notification:
    return Notification(
        "incident.contained",
        title,
        "The pause landed first.",
        Severity.HIGH,
        incident_id="inc-7",
        protocol="demo-vault",
        url="http://127.0.0.1:8000/incidents/inc-7",
    )


def _send(notifier: Notifier, message: Notification) -> Any:
    return asyncio.run(notifier.notify(message))


def test_mail_is_received(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    [delivery] = _send(Notifier([Route(_channel(port), FAST)]), _message())
    assert delivery.status == "sent"
    [envelope] = inbox.messages
    assert envelope.mail_from == "bulwark@example.org"
    assert envelope.rcpt_tos == ["oncall@example.org", "cto@example.org"]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert mail["Subject"] == "[Bulwark HIGH] Vault paused"
    assert mail["X-Bulwark-Event"] == "incident.contained"
    body = mail.get_content()
    assert "The pause landed first." in body and "Incident: inc-7" in body
    assert "http://127.0.0.1:8000/incidents/inc-7" in body


def test_a_title_cannot_inject_headers(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    _send(Notifier([Route(_channel(port), FAST)]), _message("drained\r\nBcc: attacker@evil.example"))
    [envelope] = inbox.messages
    assert "attacker@evil.example" not in envelope.rcpt_tos
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert mail["Bcc"] is None
    assert mail["Subject"] == "[Bulwark HIGH] drained Bcc: attacker@evil.example"


def test_a_temporary_smtp_failure_is_retried(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    inbox.script = ["451 4.3.0 try again later"]
    [delivery] = _send(Notifier([Route(_channel(port), FAST)]), _message())
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(inbox.messages) == 1


def test_a_permanent_smtp_failure_is_not(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    inbox.script = ["554 5.7.1 rejected"]
    [delivery] = _send(Notifier([Route(_channel(port), FAST)]), _message())
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "554" in delivery.error and inbox.messages == []


def test_email_misconfiguration_fails_at_construction() -> None:
    with pytest.raises(NotifyError, match="password without TLS"):
        _channel(25, username="u", password="hunter2-secret")
    with pytest.raises(NotifyError, match="no recipients"):
        EmailChannel("x", "127.0.0.1", 25, "a@example.org", ())
    with pytest.raises(NotifyError, match="not an address"):
        EmailChannel("x", "127.0.0.1", 25, "a@example.org\nBcc: b@example.org", ("c@example.org",))
