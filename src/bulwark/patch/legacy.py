"""Emitted Solidity for compilers older than the templates' idioms.

Fix templates write modern 0.4/0.5 Solidity: ``require(c, "reason")`` and ``revert("reason")``
(solc 0.4.22), ``keccak256(abi.encode(..))`` (0.4.22), ``emit E(..)`` (0.4.21), ``pure`` and ``view``
(0.4.16). A contract pinned to
an older compiler rejects each of them, so every candidate for it failed to compile. ``downlevel``
rewrites an edit's text to the older forms, which mean the same there: a reason string dropped,
``keccak256(a, b)`` (that compiler's own packed hash; the helpers only need a fixed private slot),
``E(..)`` for an event, ``constant`` for ``pure`` and ``view``.
"""

from __future__ import annotations

import re

_CALL = re.compile(r"\b(require|revert|keccak256)\s*\(")
_EMIT = re.compile(r"\bemit\s+(?=[A-Za-z_$][\w$]*\s*\()")
_MUTABILITY = re.compile(r"\b(private|internal|public|external)\s+(?:pure|view)\b")


def downlevel(text: str, version: tuple[int, ...]) -> str:
    """``text`` (an edit's replacement) in the idioms solc ``version`` accepts."""
    if version >= (0, 4, 22):
        return text
    text = _rewrite_calls(text)
    if version < (0, 4, 21):
        text = _EMIT.sub("", text)
    if version < (0, 4, 16):
        text = _MUTABILITY.sub(r"\1 constant", text)
    return text


def _close(text: str, open_at: int) -> int | None:
    """Index of the ``)`` matching the ``(`` at ``open_at`` (string literals skipped)."""
    depth, i, quote = 0, open_at, ""
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _arguments(inner: str) -> list[str]:
    """Top-level comma-separated parts of an argument list."""
    parts, depth, quote, start = [], 0, "", 0
    for i, c in enumerate(inner):
        if quote:
            if c == quote and inner[i - 1] != "\\":
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    return parts


def _is_string(arg: str) -> bool:
    arg = arg.strip()
    return len(arg) >= 2 and arg[0] == arg[-1] and arg[0] in "\"'"


def _rewrite_calls(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _CALL.finditer(text):
        if m.start() < pos:
            continue  # inside a call already rewritten
        open_at = m.end() - 1
        close = _close(text, open_at)
        if close is None:
            continue
        name = m.group(1)
        args = _arguments(text[open_at + 1 : close])
        if name == "require" and len(args) == 2 and _is_string(args[1]):
            args = args[:1]
        elif name == "revert" and len(args) == 1 and _is_string(args[0]):
            args = [""]
        elif name == "keccak256" and len(args) == 1:
            inner = args[0].strip()
            wrapped = re.match(r"abi\.encode(?:Packed)?\s*\(", inner)
            if wrapped and _close(inner, wrapped.end() - 1) == len(inner) - 1:
                args = _arguments(inner[wrapped.end() : -1])
            else:
                continue
        else:
            continue
        rewritten = ", ".join(_rewrite_calls(a.strip()) for a in args)
        out.append(text[pos : m.start()] + f"{name}({rewritten})")
        pos = close + 1
    out.append(text[pos:])
    return "".join(out)
