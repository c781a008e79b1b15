from __future__ import annotations

from collections.abc import Iterable

import pytest

from bulwark.detect import BUILTINS, Detector, InvalidDetector, available_detectors
from bulwark.detect.base import Params
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
