"""The notification family of errors."""

from __future__ import annotations

from bulwark.errors import BulwarkError


class NotifyError(BulwarkError, RuntimeError):
    """A notification channel is misconfigured or a message could not be delivered."""


class TransientDeliveryError(NotifyError):
    """Worth retrying: the receiver was down, overloaded (5xx) or asked us to slow down (429)."""

    def __init__(self, user_message: str, *, retry_after: float | None = None) -> None:
        super().__init__(user_message)
        self.retry_after = retry_after


class PermanentDeliveryError(NotifyError):
    """Retrying will not help: the receiver refused the message (4xx, SMTP 5xx, bad credentials)."""
