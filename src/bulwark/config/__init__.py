"""Configuration: ``bulwark.yaml`` models, loading, cross-reference checks, secret references."""

from bulwark.config.loader import ConfigProblems, load_config, parse_config, secret_problems
from bulwark.config.models import (
    AssetConfig,
    BulwarkConfig,
    ContractConfig,
    DetectorSettings,
    IndicatorConfig,
    MonitorConfig,
    NetworkConfig,
    ProtocolConfig,
    ResponseRuleConfig,
    ResponsesConfig,
    RuleConfig,
)
from bulwark.config.secrets import SecretRef

__all__ = [
    "AssetConfig",
    "BulwarkConfig",
    "ConfigProblems",
    "ContractConfig",
    "DetectorSettings",
    "IndicatorConfig",
    "MonitorConfig",
    "NetworkConfig",
    "ProtocolConfig",
    "ResponseRuleConfig",
    "ResponsesConfig",
    "RuleConfig",
    "SecretRef",
    "load_config",
    "parse_config",
    "secret_problems",
]
