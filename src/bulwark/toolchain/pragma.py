"""``pragma solidity`` parsing and version matching, with solc's own semver rules.

solc accepts ``^0.8.20``, ``~0.4.24``, ``>=0.4.22 <0.6.0``, ``0.5.0``, ``=0.5.0``, partial versions
(``^0.8``, ``0.4.x``), hyphen ranges (``0.4.0 - 0.5.0``) and ``||``. A range is an OR of AND-ed
comparators; a pragma is satisfied when any alternative has all its comparators true.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bulwark.errors import CompileError
from bulwark.toolchain.versions import version_key

_PRAGMA = re.compile(r"pragma\s+solidity\s+([^;]+);")
# Comments are removed first so a commented-out pragma never decides the compiler.
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
_COMPARATOR = re.compile(r"(\^|~|>=|<=|>|<|=)?\s*v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?")

Version = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Comparator:
    op: str  # one of >=, >, <=, <, =
    version: Version

    def test(self, v: Version) -> bool:
        match self.op:
            case ">=":
                return v >= self.version
            case ">":
                return v > self.version
            case "<=":
                return v <= self.version
            case "<":
                return v < self.version
            case _:
                return v == self.version


@dataclass(frozen=True, slots=True)
class VersionSpec:
    """One ``pragma solidity`` expression: alternatives of AND-ed comparators."""

    text: str
    alternatives: tuple[tuple[Comparator, ...], ...]

    def matches(self, version: str) -> bool:
        v = _as_triple(version)
        return any(all(c.test(v) for c in alt) for alt in self.alternatives)

    def allows_from(self, version: str) -> bool:
        """Whether some version at or above ``version`` could satisfy this spec (upper bounds only:
        a range wholly below it, like ``^0.3.0``, needs a compiler older than ``version``)."""
        floor = _as_triple(version)
        for alt in self.alternatives:
            if all(
                not (c.op == "<" and c.version <= floor) and not (c.op in ("<=", "=") and c.version < floor)
                for c in alt
            ):
                return True
        return False

    @property
    def exact(self) -> str | None:
        """The pinned version when the pragma allows exactly one (``pragma solidity 0.5.0;``)."""
        if len(self.alternatives) == 1 and len(self.alternatives[0]) == 1:
            c = self.alternatives[0][0]
            if c.op == "=":
                return ".".join(map(str, c.version))
        return None


def _as_triple(version: str) -> Version:
    k = (*version_key(version), 0, 0, 0)
    return k[0], k[1], k[2]


def _expand(op: str, parts: list[str | None], text: str) -> list[Comparator]:
    """Turn one (operator, partial version) into plain comparators."""
    nums: list[int] = []
    for p in parts:
        if p is None or p in "xX*":
            break
        nums.append(int(p))
    if not nums:  # "*" or "x": anything
        return [Comparator(">=", (0, 0, 0))]
    padded = [*nums, 0, 0, 0]
    filled: Version = padded[0], padded[1], padded[2]
    major, minor, _ = filled
    if op == "^":
        # solc's caret: stay below the next non-zero leading component.
        if major > 0 or len(nums) == 1:
            upper: Version = (major + 1, 0, 0)
        elif minor > 0 or len(nums) == 2:
            upper = (0, minor + 1, 0)
        else:
            upper = (0, 0, filled[2] + 1)
        return [Comparator(">=", filled), Comparator("<", upper)]
    if op == "~":
        upper = (major + 1, 0, 0) if len(nums) == 1 else (major, minor + 1, 0)
        return [Comparator(">=", filled), Comparator("<", upper)]
    if op in ("", "="):
        if len(nums) == 3:
            return [Comparator("=", filled)]
        upper = (major + 1, 0, 0) if len(nums) == 1 else (major, minor + 1, 0)
        return [Comparator(">=", filled), Comparator("<", upper)]
    if op in (">=", ">", "<=", "<"):
        if len(nums) < 3 and op in (">", "<="):
            # ">0.4" means above every 0.4.x; "<=0.4" means up to every 0.4.x.
            bump: Version = (major + 1, 0, 0) if len(nums) == 1 else (major, minor + 1, 0)
            return [Comparator(">=" if op == ">" else "<", bump)]
        return [Comparator(op, filled)]
    raise CompileError(f"cannot read pragma solidity {text!r}: unknown operator {op!r}")


def parse_spec(text: str) -> VersionSpec:
    """Parse the expression after ``pragma solidity`` (without the ``;``)."""
    alternatives: list[tuple[Comparator, ...]] = []
    for alt_text in text.split("||"):
        alt = alt_text.strip()
        comps: list[Comparator] = []
        hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", alt)
        if hyphen:
            comps += _expand(">=", _split(hyphen.group(1)), text)
            comps += _expand("<=", _split(hyphen.group(2)), text)
        else:
            pos = 0
            while pos < len(alt):
                if alt[pos].isspace():
                    pos += 1
                    continue
                m = _COMPARATOR.match(alt, pos)
                if not m or m.end() == pos:
                    raise CompileError(f"cannot read pragma solidity {text!r}")
                comps += _expand(m.group(1) or "", [m.group(2), m.group(3), m.group(4)], text)
                pos = m.end()
        if not comps:
            raise CompileError(f"cannot read pragma solidity {text!r}: empty version range")
        alternatives.append(tuple(comps))
    return VersionSpec(text.strip(), tuple(alternatives))


def _split(version: str) -> list[str | None]:
    parts: list[str | None] = list(version.lstrip("v").split("."))
    return [*parts, None, None, None][:3]


def pragmas(source: str) -> list[VersionSpec]:
    """Every ``pragma solidity`` in a source file (usually one)."""
    return [parse_spec(m.group(1)) for m in _PRAGMA.finditer(_COMMENTS.sub("", source))]


def raise_old_pins(source: str, floor: str) -> tuple[str, list[str]]:
    """``source`` with every 0.4 ``pragma solidity`` that allows nothing from ``floor`` up (``0.4.9``,
    ``>=0.4.4 <0.4.10``) pinned to ``floor`` instead, and the pragmas so raised. Older ranges
    (0.3 and before) are left for the compiler choice to refuse: their language differs more."""
    comments = [m.span() for m in _COMMENTS.finditer(source)]
    raised: list[str] = []
    parts: list[str] = []
    last = 0
    for m in _PRAGMA.finditer(source):
        if any(a <= m.start() < b for a, b in comments):
            continue
        spec = parse_spec(m.group(1))
        if spec.allows_from(floor) or not spec.allows_from("0.4.0"):
            continue
        raised.append(spec.text)
        parts += [source[last : m.start()], f"pragma solidity {floor};"]
        last = m.end()
    return "".join([*parts, source[last:]]), raised


def select_version(specs: Iterable[VersionSpec], candidates: Iterable[str]) -> str | None:
    """The newest candidate satisfying every spec, or None."""
    specs = list(specs)
    ok = [v for v in candidates if all(s.matches(v) for s in specs)]
    return max(ok, key=version_key) if ok else None
