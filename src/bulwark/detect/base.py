"""The detector contract.

A detector is a small callable ``(ChainView, TxEvent) -> Iterable[Finding]``. Its metadata lives on
the class and is checked in ``__init_subclass__``, so a broken plugin fails when it is imported,
never in the middle of an incident. Thresholds come from a pydantic ``Params`` model (unknown keys
rejected), validated when the monitor is built from configuration.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from bulwark.detect.model import ChainView, TxEvent
from bulwark.domain import Action, Address, Confidence, Finding, Selector, Severity, VulnClass
from bulwark.errors import BulwarkError, ConfigError

_ARGUMENT_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class DetectError(BulwarkError, RuntimeError):
    """Detection failed."""


class SimulationFailed(DetectError):
    """A transaction could not be simulated (the node refused it); screening goes on."""


class InvalidDetector(DetectError, TypeError):
    """A detector class lacks or mistypes its metadata."""


class SharedState(Protocol):
    """Where screen workers meet on state that must hold across all of them (a sender's window of
    outflows: its transactions reach whichever worker is free). The embedded default has none: a
    detector keeps such state in its own memory. The bus (:class:`bulwark.chain.bus.Bus`) is one."""

    async def merge(self, key: str, update: Callable[[bytes | None], bytes]) -> bytes:
        """Replace the value under ``key`` with ``update(value)`` atomically (compare-and-set,
        ``update`` called again on a conflict); the value written."""
        ...


class Params(BaseModel):
    """Base for detector thresholds: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class About:
    """A detector's identity in one declaration (Slither's ARGUMENT, CLASS and WIKI): its name in
    configuration and on the command line, the class of its findings, and whether it reads only
    what a simulation yields (call tree, logs, state diff), so that a transaction the pre-filter
    passed unsimulated is not put to it. Beside it a detector states ``IMPACT, CONFIDENCE`` and
    annotates ``params`` with its thresholds model; HELP is the first line of the class docstring
    and WIKI the name's section of docs/detectors.md.
    """

    argument: str
    vuln_class: VulnClass
    trace_only: bool = False
    wiki: str | None = None


class Detector:
    ABOUT: ClassVar[About | None] = None
    ARGUMENT: ClassVar[str]
    HELP: ClassVar[str]
    IMPACT: ClassVar[Severity]
    CONFIDENCE: ClassVar[Confidence]
    CLASS: ClassVar[VulnClass]
    WIKI: ClassVar[str]
    PARAMS: ClassVar[type[Params]] = Params
    # Can it find anything in a transaction known without its trace (one the screener's pre-filter
    # let through unsimulated: a plain transfer or approval)? Built-ins that read only the call
    # tree, logs or state diff say False and are not run there; a plugin is run unless it says so.
    JUDGES_BARE_TX: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        about = cls.__dict__.get("ABOUT")
        if isinstance(about, About):
            cls.ARGUMENT, cls.CLASS, cls.JUDGES_BARE_TX = (
                about.argument,
                about.vuln_class,
                not about.trace_only,
            )
            cls.WIKI = about.wiki or f"docs/detectors.md#{about.argument}"
            if "HELP" not in cls.__dict__:
                cls.HELP = " ".join((cls.__doc__ or "").split("\n\n")[0].split()).removesuffix(".")
        name = cls.__qualname__
        problems = []
        # ``params: SomeParams`` on the class both types ``self.params`` and names the model.
        annotated = inspect.get_annotations(cls).get("params")
        if annotated is not None and "PARAMS" not in cls.__dict__:
            model = (
                vars(sys.modules[cls.__module__]).get(annotated) if isinstance(annotated, str) else annotated
            )
            if isinstance(model, type) and issubclass(model, Params):
                cls.PARAMS = model
            else:
                problems.append("params must be annotated with a Params model defined before the detector")
        argument = getattr(cls, "ARGUMENT", None)
        if not isinstance(argument, str) or not _ARGUMENT_RE.match(argument):
            problems.append("ARGUMENT must be a lower-case kebab-case string")
        if not isinstance(getattr(cls, "HELP", None), str) or not cls.HELP.strip():
            problems.append("HELP must be a non-empty string")
        if not isinstance(getattr(cls, "IMPACT", None), Severity):
            problems.append("IMPACT must be a Severity")
        if not isinstance(getattr(cls, "CONFIDENCE", None), Confidence):
            problems.append("CONFIDENCE must be a Confidence")
        if not isinstance(getattr(cls, "CLASS", None), VulnClass):
            problems.append("CLASS must be a VulnClass")
        wiki = getattr(cls, "WIKI", None)
        if not isinstance(wiki, str) or not wiki.startswith(("https://", "docs/")):
            problems.append("WIKI must be an https:// URL or a docs/ path")
        if not (isinstance(cls.PARAMS, type) and issubclass(cls.PARAMS, Params)):
            problems.append("PARAMS must be a subclass of bulwark.detect.base.Params")
        if cls.__call__ is Detector.__call__:
            problems.append("__call__(view, event) must be defined")
        if problems:
            raise InvalidDetector(f"detector {name} is invalid: " + "; ".join(problems))

    def __init__(self, params: Params | None = None, *, severity: Severity | None = None) -> None:
        self.params = params if params is not None else self.PARAMS()
        if not isinstance(self.params, self.PARAMS):
            raise InvalidDetector(
                f"detector {self.ARGUMENT} takes {self.PARAMS.__name__}, not {self.params!r}"
            )
        self.severity = severity if severity is not None else self.IMPACT
        self.setup()

    def setup(self) -> None:
        """Derive once what the thresholds imply (called when the detector is built)."""

    def share(self, store: SharedState, scope: str) -> bool:
        """Keep the state that must hold across screen workers in ``store``, under keys of
        ``scope`` (the network and monitor); False when the detector has none (the default)."""
        return False

    async def settle(self) -> bool:
        """Merge what the judgements since the last call changed into the shared store; True when
        other workers' part of it changes what they found (the screener judges again)."""
        return False

    @classmethod
    def from_settings(cls, params: Mapping[str, Any], severity: Severity | None = None) -> Detector:
        try:
            parsed = cls.PARAMS.model_validate(dict(params))
        except ValidationError as exc:
            lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)]
            raise ConfigError(f"detector {cls.ARGUMENT}: bad params: " + "; ".join(lines)) from None
        return cls(parsed, severity=severity)

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        raise NotImplementedError

    def finding(
        self,
        view: ChainView,
        event: TxEvent,
        *,
        title: str,
        contract: Address | None,
        evidence: dict[str, Any],
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        vuln_class: VulnClass | None = None,
        function: Selector | None = None,
        action: Action = Action.PAUSE,
        selectors: tuple[Selector, ...] = (),
    ) -> Finding:
        return Finding(
            detector=self.ARGUMENT,
            vuln_class=vuln_class or self.CLASS,
            severity=severity if severity is not None else self.severity,
            confidence=confidence if confidence is not None else self.CONFIDENCE,
            title=title,
            protocol=view.protocol.name,
            contract=contract,
            tx_hash=event.tx.hash,
            pending=event.pending,
            block_number=event.block_number,
            function=function,
            action=action,
            selectors=selectors,
            evidence=evidence,
        )
