"""structlog set-up shared by every command; secrets never reach a log line.

Values registered with :func:`register_secret` (private keys, RPC URLs carrying API keys) are
replaced by a mask in every event, whatever key they are logged under.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRETS: set[str] = set()
_MASK = "***"
# Anything that looks like a raw 32-byte private key is masked even if nobody registered it.
_KEY_RE = re.compile(r"(?<![0-9a-fA-Fx])(0x)?[0-9a-fA-F]{64}(?![0-9a-fA-F])")
_SENSITIVE_KEYS = ("key", "secret", "password", "token", "mnemonic")


def register_secret(value: str) -> None:
    """Mask ``value`` wherever it would appear in a log line from now on."""
    if value and len(value) >= 6:
        _SECRETS.add(value)


def mask(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return text


def _mask_processor(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for k, v in list(event.items()):
        if isinstance(v, str):
            if any(s in k.lower() for s in _SENSITIVE_KEYS) and k not in ("event",):
                event[k] = _MASK
            else:
                event[k] = mask(v)
    return event


class _StderrLogger:
    """Writes each line to whatever ``sys.stderr`` is *now*, and never raises.

    A stream captured at configure time can be closed later (a test runner's, a detached
    terminal's); a log line must never be what aborts a pause or a transition.
    """

    def __init__(self, *_args: Any) -> None:
        pass

    def msg(self, message: str) -> None:
        with contextlib.suppress(ValueError, OSError):
            print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def configure(level: str = "info", json: bool = False) -> None:
    """Log to stderr (stdout is for command output), human-readable or JSON lines."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            _mask_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper(), logging.INFO)),
        logger_factory=_StderrLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


__all__ = ["configure", "get_logger", "mask", "register_secret"]
