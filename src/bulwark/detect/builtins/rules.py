"""Declarative rules: operator-written conditions on transactions, decoded events and decoded calls
of protected contracts, in the small language of :mod:`bulwark.detect.expr`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from pydantic import Field

from bulwark.config.models import RuleConfig
from bulwark.detect.base import About, Detector, Params
from bulwark.detect.evm import selector, topic
from bulwark.detect.expr import Expr, parse
from bulwark.detect.model import ChainView, TxEvent
from bulwark.domain import Action, Address, Confidence, Finding, Hash32, Selector, Severity, VulnClass
from bulwark.errors import ConfigError


class RulesParams(Params):
    rules: tuple[RuleConfig, ...] = Field(default=())


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: RuleConfig
    expr: Expr
    contract: Address | None
    key: Hash32 | Selector | None  # event topic or function selector
    inputs: tuple[Mapping[str, Any], ...]


class DeclarativeRules(Detector):
    """Operator-defined conditions on transactions, events and calls (see docs for the language)."""

    ABOUT = About("rules", VulnClass.CUSTOM)
    IMPACT, CONFIDENCE = Severity.MEDIUM, Confidence.MEDIUM
    params: RulesParams

    def setup(self) -> None:
        self._compiled: dict[str, tuple[_Compiled, ...]] = {}

    def compile(self, view: ChainView) -> tuple[_Compiled, ...]:
        """Resolve each rule's contract, event or function against the protocol's ABIs."""
        cached = self._compiled.get(view.protocol.name)
        if cached is not None:
            return cached
        p = self.params
        out, problems = [], []
        for rule in p.rules:
            try:
                out.append(_compile(rule, view))
            except ConfigError as exc:
                problems.append(f"rule {rule.name}: {exc.user_message}")
        if problems:
            raise ConfigError("; ".join(problems))
        self._compiled[view.protocol.name] = tuple(out)
        return self._compiled[view.protocol.name]

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if not event.success or not self.params.rules:
            return ()  # no rule configured (the usual case): not even the transaction's fields
        return self._judge(view, event)

    def _judge(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        tx = {
            "from": event.tx.sender.lower(),
            "to": (event.tx.to or "").lower(),
            "value": event.tx.value,
            "selector": event.tx.selector or "",
            "gas": event.tx.gas,
            "pending": event.pending,
        }
        for c in self.compile(view):
            for env, where in _environments(c, event, tx):
                if c.expr.evaluate(env):
                    yield self.finding(
                        view,
                        event,
                        title=f"rule {c.rule.name}: {c.rule.expr}",
                        contract=c.contract,
                        severity=c.rule.severity,
                        confidence=c.rule.confidence,
                        vuln_class=c.rule.vuln_class,
                        function=c.key if c.rule.when == "call" else None,  # type: ignore[arg-type]
                        action=Action(c.rule.action),
                        evidence={"rule": c.rule.name, "where": where},
                    )
                    break


def _compile(rule: RuleConfig, view: ChainView) -> _Compiled:
    expr = parse(rule.expr)
    if rule.when == "tx":
        return _Compiled(rule, expr, None, None, ())
    info = view.protocol.by_name(rule.contract or "")
    if info is None:
        raise ConfigError(f"unknown contract {rule.contract!r}")
    wanted = rule.event if rule.when == "event" else rule.function
    kind = "event" if rule.when == "event" else "function"
    for item in info.abi:
        if item.get("type") == kind and item.get("name") == wanted:
            inputs = tuple(item.get("inputs", ()))
            sig = f"{wanted}({','.join(_abi_type(i) for i in inputs)})"
            key = topic(sig) if kind == "event" else selector(sig)
            return _Compiled(rule, expr, info.address, key, inputs)
    raise ConfigError(f"{kind} {wanted!r} is not in the ABI of {info.name}")


def _abi_type(item: Mapping[str, Any]) -> str:
    typ = str(item["type"])
    if typ.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item.get("components", ())) + ")" + typ[5:]
    return typ


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _environments(
    c: _Compiled, event: TxEvent, tx: Mapping[str, Any]
) -> Iterable[tuple[Mapping[str, Any], str]]:
    if c.rule.when == "tx":
        yield {"tx": tx}, "transaction"
        return
    if c.rule.when == "event":
        for log in event.logs:
            if log.address != c.contract or not log.topics or log.topics[0] != c.key:
                continue
            args = _decode_event(c.inputs, log.topics[1:], log.data)
            if args is not None:
                yield {"tx": tx, "args": args}, f"log {log.log_index}"
        return
    for step in event.calls():
        f = step.frame
        if f is None or step.reverted or step.context != c.contract or f.selector != c.key:
            continue
        if f.type == "DELEGATECALL":  # the proxy's CALL frame already matched
            continue
        try:
            values = abi_decode([_abi_type(i) for i in c.inputs], f.input[4:])
        except Exception:  # noqa: S112 - malformed calldata from the chain is not our error
            continue
        args = {
            i.get("name") or f"arg{n}": _jsonable(v)
            for n, (i, v) in enumerate(zip(c.inputs, values, strict=True))
        }
        yield {"tx": tx, "args": args, "call": {"from": f.sender.lower(), "value": f.value}}, "call"


def _decode_event(
    inputs: tuple[Mapping[str, Any], ...], topics: tuple[Hash32, ...], data: bytes
) -> dict[str, Any] | None:
    indexed = [i for i in inputs if i.get("indexed")]
    plain = [i for i in inputs if not i.get("indexed")]
    if len(indexed) != len(topics):
        return None
    try:
        values = list(abi_decode([_abi_type(i) for i in plain], data))
        args: dict[str, Any] = {}
        for n, i in enumerate(inputs):
            name = i.get("name") or f"arg{n}"
            if i.get("indexed"):
                t = topics[indexed.index(i)]
                typ = _abi_type(i)
                args[name] = abi_decode([typ], bytes.fromhex(t[2:]))[0] if _static(typ) else t
            else:
                args[name] = values.pop(0)
        return {k: _jsonable(v) for k, v in args.items()}
    except Exception:  # undecodable log data: skip, never crash screening
        return None


def _static(typ: str) -> bool:
    return not (typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("("))
