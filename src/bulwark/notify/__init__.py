"""Notifications: signed JSON webhooks, Slack- and Discord-compatible webhooks, email.

    notifier = Notifier([
        Route(WebhookChannel("ops", "https://ops.example/hook", secret=...), limit=RateLimit(1, burst=5)),
        Route(EmailChannel("oncall", "smtp.example", 587, "bulwark@example", ("oncall@example",)),
              min_severity=Severity.HIGH),
    ])
    await notifier.notify(Notification("incident.contained", "Vault paused", "...", Severity.CRITICAL))

Used by the flow and the watcher; sits beside ``config``, ``chain`` and ``store``.
"""

from bulwark.notify.channels import (
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Channel,
    DiscordChannel,
    EmailChannel,
    SlackChannel,
    WebhookChannel,
    discord_payload,
    sign,
    slack_payload,
    verify,
)
from bulwark.notify.errors import NotifyError, PermanentDeliveryError, TransientDeliveryError
from bulwark.notify.message import ANCHOR_EVENT, Notification, anchor_notification
from bulwark.notify.notifier import Delivery, Notifier, RateLimit, RetryPolicy, Route, TokenBucket

__all__ = [
    "ANCHOR_EVENT",
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Channel",
    "Delivery",
    "DiscordChannel",
    "EmailChannel",
    "Notification",
    "Notifier",
    "NotifyError",
    "PermanentDeliveryError",
    "RateLimit",
    "RetryPolicy",
    "Route",
    "SlackChannel",
    "TokenBucket",
    "TransientDeliveryError",
    "WebhookChannel",
    "anchor_notification",
    "discord_payload",
    "sign",
    "slack_payload",
    "verify",
]
