"""Threat intelligence, composed with the other stages (``bulwark.intel`` signs, publishes, pulls
and keeps indicators; it may not reach into the other stages, so this package does):

publish   an incident in the store → chain facts + the localised vulnerable function → a signed
          STIX bundle (:mod:`.publish`).
detect    verified intel → the intel-fed detectors' thresholds (:mod:`.detection`).
preempt   vulnerable-code indicators → a scan of our own sources → a pre-emptive incident, which
          the incident pipeline patches and proposes like any other (:mod:`.preempt`).
watch     subscriptions and the consensus-mode responder from ``bulwark.yaml`` (:mod:`.watch`).
"""

from bulwark.app.intel.detection import detection_params, monitor_with_intel
from bulwark.app.intel.preempt import CodeMatch, OwnSource, flag_match, scan_own_code
from bulwark.app.intel.publish import (
    IntelActionError,
    evidence_for_incident,
    incident_indicators,
    publish_incident,
    vulnerable_code,
)
from bulwark.app.intel.watch import Subscriptions, consensus_responder_from_config
from bulwark.intel.subscriptions import (
    feeds_from_config,
    intel_from_store,
    load_intel_config,
    pull_and_remember,
    remember,
    remembered,
)
from bulwark.respond.quorum import ConsensusPause, ConsensusResponder, ConsensusSettings

__all__ = [
    "CodeMatch",
    "ConsensusPause",
    "ConsensusResponder",
    "ConsensusSettings",
    "IntelActionError",
    "OwnSource",
    "Subscriptions",
    "consensus_responder_from_config",
    "detection_params",
    "evidence_for_incident",
    "feeds_from_config",
    "flag_match",
    "incident_indicators",
    "intel_from_store",
    "load_intel_config",
    "monitor_with_intel",
    "publish_incident",
    "pull_and_remember",
    "remember",
    "remembered",
    "scan_own_code",
    "vulnerable_code",
]
