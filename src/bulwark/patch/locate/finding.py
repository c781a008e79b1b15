"""Builds a ``Localisation`` anchored on a node, a function or a contract."""

from __future__ import annotations

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.solast import Contract, Function, Modifier, Node, Program, src


def localisation(
    program: Program,
    detector: str,
    cls: VulnClass,
    contract: Contract,
    fn: Function | Modifier | None,
    node: Node | None,
    score: float,
    *evidence: str,
) -> Localisation:
    anchor = node if node is not None else (fn.node if fn is not None else contract.node)
    st = program.text_of(anchor)
    s = src(anchor)
    lines = st.lines(s.start, s.end) if st is not None else ()
    if node is not None and fn is not None and len(lines) > 8:
        lines = lines[:1]
    return Localisation(
        detector=detector,
        vuln_class=cls,
        contract=contract.name,
        function=(fn.name or (fn.kind if isinstance(fn, Function) else "")) if fn is not None else None,
        lines=lines,
        score=round(min(score, 1.0), 3),
        evidence=tuple(evidence),
        path=program.path_of(anchor),
        start=s.start,
        length=s.length,
    )
