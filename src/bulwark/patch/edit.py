"""Source editing through byte offsets (solc ``src`` is ``start:length:file`` in UTF-8 bytes).

Edits never overlap; insertions at one offset are applied in a fixed order (their sort key), so
the result does not depend on the order edits were produced in.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bulwark.domain.patch import Edit
from bulwark.errors import BulwarkError


class EditConflict(BulwarkError, ValueError):
    """Two edits touch the same bytes."""


@dataclass(frozen=True, slots=True)
class Src:
    start: int
    length: int
    file: int

    @property
    def end(self) -> int:
        return self.start + self.length

    @classmethod
    def parse(cls, src: str) -> Src:
        start, length, file = (int(p) for p in src.split(":"))
        return cls(start, length, file)


def _key(edit: Edit) -> tuple[int, int, str]:
    return (edit.start, edit.end, edit.replacement)


def overlapping(a: Edit, b: Edit) -> bool:
    """True when ``a`` and ``b`` cannot both be applied unambiguously.

    Two insertions at one offset are fine (ordered by their text); an insertion strictly inside a
    replaced range, or two replaced ranges sharing a byte, conflict.
    """
    if a.path != b.path:
        return False
    if a.start == a.end and b.start == b.end:
        return False
    if a.start == a.end:
        return b.start < a.start < b.end
    if b.start == b.end:
        return a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def check_disjoint(edits: Iterable[Edit]) -> None:
    ordered = sorted(set(edits), key=lambda e: (e.path, *_key(e)))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.path != a.path or b.start >= max(a.end, a.start + 1):
                break
            if overlapping(a, b):
                raise EditConflict(f"edits overlap in {a.path}: [{a.start},{a.end}) and [{b.start},{b.end})")


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply edits (all for one file) to ``text``; duplicates count once."""
    unique = sorted(set(edits), key=_key)
    check_disjoint(unique)
    data = text.encode("utf-8")
    for e in unique:
        if e.end > len(data):
            raise EditConflict(f"edit [{e.start},{e.end}) past the end of {e.path} ({len(data)} bytes)")
    out: list[bytes] = []
    pos = 0
    for e in unique:
        out.append(data[pos : e.start])
        out.append(e.replacement.encode("utf-8"))
        pos = max(pos, e.end)
    out.append(data[pos:])
    try:
        return b"".join(out).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditConflict(f"an edit splits a multi-byte character in {unique[0].path}") from exc


def apply_all(sources: Mapping[str, str], edits: Iterable[Edit]) -> dict[str, str]:
    """Patched copies of the files the edits touch (other files are left out)."""
    by_path: dict[str, list[Edit]] = {}
    for e in edits:
        by_path.setdefault(e.path, []).append(e)
    return {path: apply_edits(sources[path], es) for path, es in by_path.items()}


def unified_diff(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    parts: list[str] = []
    for path in sorted(after):
        old, new = before.get(path, ""), after[path]
        if old == new:
            continue
        parts.extend(
            difflib.unified_diff(
                old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"
            )
        )
    return "".join(p if p.endswith("\n") else p + "\n\\ No newline at end of file\n" for p in parts)


class SourceText:
    """A source file as bytes, with line lookups and indentation helpers."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.data = text.encode("utf-8")

    def slice(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8")

    def of(self, node: Mapping[str, object]) -> str:
        s = Src.parse(str(node["src"]))
        return self.slice(s.start, s.end)

    def line_of(self, offset: int) -> int:
        return self.data.count(b"\n", 0, offset) + 1

    def lines(self, start: int, end: int) -> tuple[int, ...]:
        first, last = self.line_of(start), self.line_of(max(start, end - 1))
        return tuple(range(first, last + 1))

    def line_start(self, offset: int) -> int:
        return self.data.rfind(b"\n", 0, offset) + 1

    def indent_at(self, offset: int) -> str:
        """The whitespace that starts the line holding ``offset``."""
        start = self.line_start(offset)
        end = start
        while end < len(self.data) and self.data[end : end + 1] in (b" ", b"\t"):
            end += 1
        return self.slice(start, end)

    def unit(self) -> str:
        """One indentation step as the file uses it (4 spaces when it cannot tell)."""
        for line in self.text.splitlines():
            stripped = line.lstrip(" \t")
            if stripped and line != stripped:
                ws = line[: len(line) - len(stripped)]
                return "\t" if ws.startswith("\t") else " " * min(len(ws), 8)
        return "    "
