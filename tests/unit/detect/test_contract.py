from __future__ import annotations

from collections.abc import Iterable

import pytest

from bulwark.detect import BUILTINS, Detector, InvalidDetector, available_detectors
from bulwark.detect.base import About, Params
from bulwark.detect.model import ChainView, TxEvent
from bulwark.domain import Confidence, Finding, Severity, VulnClass
from bulwark.errors import ConfigError


def test_builtins_have_unique_names_and_docs() -> None:
    names = [d.ARGUMENT for d in BUILTINS]
    assert len(set(names)) == len(names) == 15
    assert set(available_detectors()) >= set(names)


def test_missing_metadata_fails_at_class_creation() -> None:
    with pytest.raises(InvalidDetector) as info:

        class Broken(Detector):
            ARGUMENT = "Not Kebab"
            HELP = ""
            IMPACT = "high"  # type: ignore[assignment]
            CONFIDENCE = Confidence.LOW
            CLASS = VulnClass.CUSTOM
            WIKI = "http://insecure"

            def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
                return ()

    msg = str(info.value)
    for part in ("ARGUMENT", "HELP", "IMPACT", "WIKI"):
        assert part in msg


def test_call_must_be_defined() -> None:
    with pytest.raises(InvalidDetector, match="__call__"):

        class NoCall(Detector):
            ARGUMENT = "no-call"
            HELP = "x"
            IMPACT = Severity.LOW
            CONFIDENCE = Confidence.LOW
            CLASS = VulnClass.CUSTOM
            WIKI = "docs/x.md"


def test_params_are_validated_and_unknown_keys_rejected() -> None:
    cls = available_detectors()["invariant-break"]
    det = cls.from_settings({"max_outflow_share": 0.5}, Severity.HIGH)
    assert det.severity is Severity.HIGH
    with pytest.raises(ConfigError, match="max_outflow_shar"):
        cls.from_settings({"max_outflow_shar": 0.5})
    with pytest.raises(ConfigError, match="max_outflow_share"):
        cls.from_settings({"max_outflow_share": 2})
    assert isinstance(det.params, Params)


def test_entry_point_plugin_must_be_a_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    import bulwark.detect.registry as registry

    class FakeEP:
        name = "bad"
        value = "somewhere:thing"

        def load(self) -> object:
            return object

    monkeypatch.setattr(registry, "entry_points", lambda group: [FakeEP()])
    with pytest.raises(InvalidDetector, match="not a bulwark Detector"):
        available_detectors()


class _Bounds(Params):
    limit: int = 3


def test_about_declares_a_detector_in_one_place() -> None:

    class Declared(Detector):
        """Counts what it is shown.

        More prose, not part of the help line."""

        ABOUT = About("declared-thing", VulnClass.CUSTOM, trace_only=True)
        IMPACT, CONFIDENCE = Severity.MEDIUM, Confidence.LOW
        params: _Bounds

        def setup(self) -> None:
            self.doubled = self.params.limit * 2

        def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
            return ()

    assert Declared.ARGUMENT == "declared-thing" and Declared.CLASS is VulnClass.CUSTOM
    assert Declared.HELP == "Counts what it is shown"
    assert Declared.WIKI == "docs/detectors.md#declared-thing"
    assert Declared.PARAMS is _Bounds and Declared.JUDGES_BARE_TX is False
    built = Declared.from_settings({"limit": 5})
    assert isinstance(built, Declared) and built.doubled == 10
    with pytest.raises(ConfigError, match="limit"):
        Declared.from_settings({"limit": "many"})
    with pytest.raises(InvalidDetector, match="_Bounds"):
        Declared(Params())  # thresholds of another model fail when the detector is built


def test_params_annotated_with_something_else_fails_at_class_creation() -> None:

    with pytest.raises(InvalidDetector, match="params must be annotated"):

        class Misdeclared(Detector):
            """Has no thresholds model."""

            ABOUT = About("misdeclared", VulnClass.CUSTOM)
            IMPACT, CONFIDENCE = Severity.LOW, Confidence.LOW
            params: int

            def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
                return ()
