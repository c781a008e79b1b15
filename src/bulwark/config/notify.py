"""The ``notifications`` section of bulwark.yaml: where incidents and findings are announced.

    notifications:
      ops-webhook: {kind: webhook, url: env:OPS_HOOK_URL, secret: env:OPS_HOOK_SECRET, min_severity: high}
      slack:       {kind: slack, url: env:SLACK_WEBHOOK_URL, per_minute: 10}
      oncall:      {kind: email, host: smtp.example.org, port: 587, sender: bulwark@example.org,
                    recipients: [oncall@example.org], username: bulwark, password: env:SMTP_PASSWORD}

URLs, secrets and passwords are references (``env:``/``file:``; an inline value is refused),
resolved only when sending starts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bulwark.config.secrets import Secret, SecretRef
from bulwark.domain import Severity

_SEVERITIES = Literal["info", "low", "medium", "high", "critical"]


class _Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_severity: _SEVERITIES = "high"
    per_minute: float = Field(default=30, gt=0)  # sustained rate; bursts up to `burst`
    burst: int = Field(default=5, ge=1)
    attempts: int = Field(default=4, ge=1, le=10)

    @property
    def severity(self) -> Severity:
        return Severity.parse(self.min_severity)

    def secret_refs(self) -> dict[str, SecretRef]:
        return {}


class WebhookNotify(_Channel):
    kind: Literal["webhook"]
    url: Secret
    secret: Secret | None = None  # HMAC-SHA256 key for the X-Bulwark-Signature header

    def secret_refs(self) -> dict[str, SecretRef]:
        return {"url": self.url, **({"secret": self.secret} if self.secret else {})}


class SlackNotify(_Channel):
    kind: Literal["slack", "discord"]
    url: Secret  # the webhook URL carries its token

    def secret_refs(self) -> dict[str, SecretRef]:
        return {"url": self.url}


class EmailNotify(_Channel):
    kind: Literal["email"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    sender: str
    recipients: tuple[str, ...] = Field(min_length=1)
    username: str | None = None
    password: Secret | None = None
    security: Literal["starttls", "tls", "none"] = "starttls"

    def secret_refs(self) -> dict[str, SecretRef]:
        return {"password": self.password} if self.password else {}


NotifyChannel = Annotated[WebhookNotify | SlackNotify | EmailNotify, Field(discriminator="kind")]
