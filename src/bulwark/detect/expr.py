"""A tiny expression language for declarative rules, parsed by a hand-written recursive descent
parser (no dependency: the grammar is ten lines and we want our own error messages).

    expr    := or
    or      := and ("OR" and)*
    and     := not ("AND" not)*
    not     := "NOT" not | compare
    compare := operand (("==" | "!=" | "<" | "<=" | ">" | ">=") operand)?
    operand := NUMBER | STRING | "true" | "false" | path | "(" expr ")"
    path    := NAME ("." NAME | "[" INT "]")*

Numbers accept decimal, hex (0x..) and exponent forms (1e18) and are exact integers where
possible. Strings compare case-insensitively when both sides are hex (addresses, selectors).
A path that does not resolve makes its comparison false (never an error mid-screening).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from bulwark.errors import ConfigError

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<num>0x[0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE]\d+)?)"
    r"|(?P<str>\"[^\"]*\"|'[^']*')"
    r"|(?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|\.)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)
_KEYWORDS = {"AND", "OR", "NOT"}
_COMPARE = {"==", "!=", "<", "<=", ">", ">="}


class ExprError(ConfigError):
    """A rule expression does not parse."""


class _Missing:
    pass


MISSING = _Missing()


@dataclass(frozen=True, slots=True)
class Expr:
    """A parsed expression; ``evaluate(env)`` gives a bool."""

    source: str
    tree: tuple[Any, ...]

    def evaluate(self, env: Mapping[str, Any]) -> bool:
        return bool(_eval(self.tree, env))


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise ExprError(f"unexpected character at {pos + 1} in {text!r}: {text[pos:].strip()[:10]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "name" and value.upper() in _KEYWORDS:
            kind, value = "kw", value.upper()
        out.append((kind, value))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            found = "end of expression" if tok is None else repr(tok[1])
            raise ExprError(f"expected {value or 'a value'!r} but found {found} in {self.text!r}")
        self.i += 1
        return tok

    def parse(self) -> tuple[Any, ...]:
        tree = self.or_()
        if self.peek() is not None:
            raise ExprError(f"unexpected {self.peek()[1]!r} in {self.text!r}")  # type: ignore[index]
        return tree

    def or_(self) -> tuple[Any, ...]:
        node = self.and_()
        while self.peek() == ("kw", "OR"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self) -> tuple[Any, ...]:
        node = self.not_()
        while self.peek() == ("kw", "AND"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self) -> tuple[Any, ...]:
        if self.peek() == ("kw", "NOT"):
            self.take()
            return ("not", self.not_())
        return self.compare()

    def compare(self) -> tuple[Any, ...]:
        left = self.operand()
        tok = self.peek()
        if tok is not None and tok[0] == "op" and tok[1] in _COMPARE:
            self.take()
            return ("cmp", tok[1], left, self.operand())
        return left

    def operand(self) -> tuple[Any, ...]:
        kind, value = self.take()
        if kind == "num":
            return ("lit", _number(value))
        if kind == "str":
            return ("lit", value[1:-1])
        if kind == "op" and value == "(":
            node = self.or_()
            self.take(")")
            return node
        if kind == "name":
            if value in ("true", "false"):
                return ("lit", value == "true")
            path: list[str | int] = [value]
            while self.peek() in (("op", "."), ("op", "[")):
                if self.take()[1] == ".":
                    name = self.take()
                    if name[0] != "name":
                        raise ExprError(f"expected a field name after '.' in {self.text!r}")
                    path.append(name[1])
                else:
                    idx = self.take()
                    if idx[0] != "num" or not idx[1].isdigit():
                        raise ExprError(f"expected an index inside [] in {self.text!r}")
                    path.append(int(idx[1]))
                    self.take("]")
            return ("path", tuple(path))
        raise ExprError(f"unexpected {value!r} in {self.text!r}")


def _number(text: str) -> int | Decimal:
    if text.startswith("0x"):
        return int(text, 16)
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ExprError(f"bad number {text!r}") from None
    return int(d) if d == d.to_integral_value() else d


def parse(text: str) -> Expr:
    if not text.strip():
        raise ExprError("empty expression")
    return Expr(text, _Parser(text).parse())


def _lookup(env: Mapping[str, Any], path: tuple[str | int, ...]) -> Any:
    cur: Any = env
    for part in path:
        if isinstance(part, int):
            if not isinstance(cur, list | tuple) or part >= len(cur):
                return MISSING
            cur = cur[part]
        elif isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        else:
            return MISSING
    return cur


def _norm(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    return value


def _eval(node: tuple[Any, ...], env: Mapping[str, Any]) -> Any:
    op = node[0]
    if op == "lit":
        return node[1]
    if op == "path":
        return _lookup(env, node[1])
    if op == "and":
        return _truth(_eval(node[1], env)) and _truth(_eval(node[2], env))
    if op == "or":
        return _truth(_eval(node[1], env)) or _truth(_eval(node[2], env))
    if op == "not":
        return not _truth(_eval(node[1], env))
    left, right = _norm(_eval(node[2], env)), _norm(_eval(node[3], env))
    if left is MISSING or right is MISSING:
        return False
    try:
        return {
            "==": lambda: left == right,
            "!=": lambda: left != right,
            "<": lambda: left < right,
            "<=": lambda: left <= right,
            ">": lambda: left > right,
            ">=": lambda: left >= right,
        }[node[1]]()
    except TypeError:  # comparing a string with a number: not a match
        return False


def _truth(value: Any) -> bool:
    return value is not MISSING and bool(value)
