"""Verified intel put to work in detection: the ``indicator-match`` detector gets the attacker
addresses and exact code hashes, ``exploit-fingerprint`` the normalised bytecode fingerprints and
the call patterns, on top of the thresholds the configuration gave them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from bulwark.detect.base import Detector
from bulwark.detect.builtins.indicators import IndicatorMatch, IndicatorParams
from bulwark.detect.builtins.intel_fingerprint import ExploitFingerprint, FingerprintParams
from bulwark.detect.setup import Monitor
from bulwark.domain import Address
from bulwark.intel.subscribe import Intel

__all__ = ["detection_params", "merged", "monitor_with_intel"]


def detection_params(intel: Intel) -> dict[str, dict[str, Any]]:
    """Detector thresholds, by detector ``ARGUMENT``, that put ``intel`` to work."""
    return {
        IndicatorMatch.ARGUMENT: {
            "addresses": {Address(a) for a in intel.addresses},
            "code_hashes": {h.lower() for h in intel.code_hashes},
        },
        ExploitFingerprint.ARGUMENT: {
            "fingerprints": {f.lower() for f in intel.code_fingerprints},
            "call_patterns": intel.call_patterns,
        },
    }


def merged(det: Detector, extra: Mapping[str, Any]) -> Detector:
    p = det.params
    if isinstance(p, IndicatorParams):
        params: dict[str, Any] = {
            "addresses": set(p.addresses) | set(extra["addresses"]),
            "code_hashes": set(p.code_hashes) | set(extra["code_hashes"]),
        }
    elif isinstance(p, FingerprintParams):
        params = {
            "fingerprints": set(p.fingerprints) | set(extra["fingerprints"]),
            "call_patterns": tuple(dict.fromkeys([*p.call_patterns, *extra["call_patterns"]])),
        }
    else:
        return det
    return type(det).from_settings(params, det.severity)


def monitor_with_intel(monitor: Monitor, intel: Intel) -> Monitor:
    """``monitor`` with its indicator and fingerprint detectors fed by ``intel`` on top of their
    configured thresholds. A monitor without them had them disabled: that choice stands."""
    extra = detection_params(intel)
    detectors = tuple(merged(d, extra[d.ARGUMENT]) if d.ARGUMENT in extra else d for d in monitor.detectors)
    return dataclasses.replace(monitor, detectors=detectors)
