"""Webhook, Slack and Discord channels against a real local HTTP receiver."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time

import pytest
from tests.unit.notify.conftest import Receiver

from bulwark.domain import Severity
from bulwark.notify import (
    DiscordChannel,
    Notification,
    Notifier,
    NotifyError,
    RateLimit,
    RetryPolicy,
    Route,
    SlackChannel,
    WebhookChannel,
    verify,
)

SECRET = "s3cret-for-hmac-tests-0123456789"
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


def _message(title: str = "Vault paused", severity: Severity = Severity.CRITICAL) -> Notification:
    return Notification(
        "incident.contained",
        title,
        "The pause landed one block before the attack.",
        severity,
        incident_id="inc-1",
        protocol="demo-lending",
        state="contained",
        fields=(("Time to contain", "38 ms"),),
    )


def _run(notifier: Notifier, *messages: Notification) -> list:
    async def go() -> list:
        return [await notifier.notify(m) for m in messages]

    return asyncio.run(go())


def test_webhook_body_is_signed_with_hmac_sha256(receiver: Receiver) -> None:
    [[delivery]] = _run(Notifier([Route(WebhookChannel("ops", receiver.url, SECRET), FAST)]), _message())
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    [req] = receiver.requests
    ts = req.headers["x-bulwark-timestamp"]
    # Recomputed here from the scheme's definition, not with the library's own function.
    expected = hmac.new(SECRET.encode(), ts.encode() + b"." + req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-bulwark-signature"] == "sha256=" + expected
    assert abs(int(ts) - time.time()) < 30
    assert req.headers["x-bulwark-event"] == "incident.contained"
    body = json.loads(req.body)
    assert body["severity"] == "critical" and body["incident"] == "inc-1"
    assert body["fields"] == {"Time to contain": "38 ms"}
    # The receiver-side check accepts it, and refuses a changed body, a wrong secret or an old stamp.
    sig = req.headers["x-bulwark-signature"]
    assert verify(SECRET, ts, req.body, sig)
    assert not verify(SECRET, ts, req.body.replace(b"critical", b"info"), sig)
    assert not verify("another-secret-0123456789", ts, req.body, sig)
    assert not verify(SECRET, ts, req.body, sig, now=int(ts) + 3600)


def test_unsigned_webhook_has_no_signature_header(receiver: Receiver) -> None:
    _run(Notifier([Route(WebhookChannel("ops", receiver.url), FAST)]), _message())
    assert "x-bulwark-signature" not in receiver.requests[0].headers


def test_retries_after_a_500_then_delivers(receiver: Receiver) -> None:
    receiver.script = [(500, {}), (503, {})]
    [[delivery]] = _run(Notifier([Route(WebhookChannel("ops", receiver.url, SECRET), FAST)]), _message())
    assert (delivery.status, delivery.attempts) == ("sent", 3)
    assert len(receiver.requests) == 3
    # Each attempt is signed afresh and carries the same body.
    assert len({r.body for r in receiver.requests}) == 1


def test_gives_up_after_the_last_attempt(receiver: Receiver) -> None:
    receiver.script = [(500, {})] * 5
    [[delivery]] = _run(Notifier([Route(WebhookChannel("ops", receiver.url), FAST)]), _message())
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "500" in delivery.error and len(receiver.requests) == 3


def test_a_client_error_is_not_retried(receiver: Receiver) -> None:
    receiver.script = [(403, {})]
    [[delivery]] = _run(Notifier([Route(WebhookChannel("ops", receiver.url), FAST)]), _message())
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert len(receiver.requests) == 1


def test_429_honours_retry_after(receiver: Receiver) -> None:
    receiver.script = [(429, {"Retry-After": "0.2"})]
    started = time.monotonic()
    [[delivery]] = _run(
        Notifier([Route(WebhookChannel("ops", receiver.url), RetryPolicy(3, base_delay=0.0))]), _message()
    )
    assert delivery.status == "sent" and delivery.attempts == 2
    assert time.monotonic() - started >= 0.18


def test_unreachable_receiver_is_retried_then_fails() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port once the socket is closed.
    [[delivery]] = _run(
        Notifier([Route(WebhookChannel("ops", f"http://127.0.0.1:{port}/x"), FAST)]), _message()
    )
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert "unreachable" in delivery.error


def test_rate_limit_drops_beyond_the_burst(receiver: Receiver) -> None:
    limit = RateLimit(rate=0.01, burst=2, overflow="drop")
    notifier = Notifier([Route(WebhookChannel("ops", receiver.url), FAST, limit)])
    results = _run(notifier, *[_message(f"alert {i}") for i in range(5)])
    assert [r[0].status for r in results] == ["sent", "sent", "dropped", "dropped", "dropped"]
    assert [json.loads(r.body)["title"] for r in receiver.requests] == ["alert 0", "alert 1"]


def test_rate_limit_queues_and_spaces_messages(receiver: Receiver) -> None:
    limit = RateLimit(rate=10, burst=1, overflow="queue", max_wait=1.0)
    notifier = Notifier([Route(WebhookChannel("ops", receiver.url), FAST, limit)])

    async def go() -> list:
        return list(await asyncio.gather(*(notifier.notify(_message(f"alert {i}")) for i in range(4))))

    started = time.monotonic()
    results = asyncio.run(go())
    elapsed = time.monotonic() - started
    assert [r[0].status for r in results] == ["sent"] * 4
    assert len(receiver.requests) == 4
    assert elapsed >= 0.28  # three waits of 0.1 s after the first token


def test_rate_limit_queue_drops_what_would_wait_too_long(receiver: Receiver) -> None:
    limit = RateLimit(rate=1, burst=1, overflow="queue", max_wait=0.2)
    notifier = Notifier([Route(WebhookChannel("ops", receiver.url), FAST, limit)])
    results = _run(notifier, _message("a"), _message("b"))
    assert [r[0].status for r in results] == ["sent", "dropped"]
    assert len(receiver.requests) == 1


def test_limits_are_per_channel(receiver: Receiver) -> None:
    tight = Route(WebhookChannel("tight", receiver.url + "?c=tight"), FAST, RateLimit(0.01, 1, "drop"))
    open_ = Route(WebhookChannel("open", receiver.url + "?c=open"), FAST)
    results = _run(Notifier([tight, open_]), _message("a"), _message("b"))
    assert [[d.status for d in r] for r in results] == [["sent", "sent"], ["dropped", "sent"]]
    assert sorted(r.path for r in receiver.requests) == ["/hook?c=open", "/hook?c=open", "/hook?c=tight"]


def test_min_severity_filters_routes(receiver: Receiver) -> None:
    pager = Route(WebhookChannel("pager", receiver.url), FAST, min_severity=Severity.HIGH)
    [[]] = [list(r) for r in _run(Notifier([pager]), _message(severity=Severity.LOW))]
    assert receiver.requests == []


def test_slack_payload_and_mention_escaping(receiver: Receiver) -> None:
    channel = SlackChannel("slack", receiver.url)
    _run(Notifier([Route(channel, FAST)]), _message("Attack by <!channel> & friends"))
    body = json.loads(receiver.requests[0].body)
    assert body["text"].startswith("[CRITICAL] Attack by &lt;!channel&gt; &amp; friends")
    assert "<!channel>" not in json.dumps(body["blocks"][1:])
    fields = [f["text"] for f in body["blocks"][2]["fields"]]
    assert "*Protocol*\ndemo-lending" in fields and "*Time to contain*\n38 ms" in fields


def test_discord_payload_parses_no_mentions(receiver: Receiver) -> None:
    _run(Notifier([Route(DiscordChannel("discord", receiver.url), FAST)]), _message("@everyone drained"))
    body = json.loads(receiver.requests[0].body)
    assert body["allowed_mentions"] == {"parse": []}
    [embed] = body["embeds"]
    assert embed["title"] == "@everyone drained" and embed["color"] == 0xED4245
    assert {"name": "Incident", "value": "inc-1", "inline": True} in embed["fields"]


def test_a_crashing_channel_does_not_raise_into_the_caller(receiver: Receiver) -> None:
    class Broken:
        name = "broken"

        async def send(self, message: Notification) -> None:
            raise KeyError("bug")

    results = _run(
        Notifier([Route(Broken(), FAST), Route(WebhookChannel("ok", receiver.url), FAST)]), _message()
    )
    assert [d.status for d in results[0]] == ["failed", "sent"]


def test_background_submit_and_drain(receiver: Receiver) -> None:
    notifier = Notifier([Route(WebhookChannel("ops", receiver.url), FAST)])

    async def go() -> None:
        notifier.submit(_message("a"))
        notifier.submit(_message("b"))
        await notifier.drain()

    asyncio.run(go())
    assert len(receiver.requests) == 2


def test_misconfiguration_fails_at_construction() -> None:
    with pytest.raises(NotifyError):
        WebhookChannel("x", "ftp://example/hook")
    with pytest.raises(NotifyError):
        WebhookChannel("x", "http://127.0.0.1/hook", secret="short")
    with pytest.raises(NotifyError):
        RateLimit(rate=0)
    with pytest.raises(NotifyError):
        RetryPolicy(attempts=0)
    ch = WebhookChannel("same", "http://127.0.0.1/hook")
    with pytest.raises(NotifyError):
        Notifier([Route(ch), Route(ch)])
