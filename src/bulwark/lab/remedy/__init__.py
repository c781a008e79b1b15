"""Remedy by state, composed (the engine is bulwark.remedy; the demo's request, bulwark.scenarios):
``run`` searches and carries a remedy through governance, ``steps`` gives ``--protect full`` its
parameter path."""

from bulwark.lab.remedy.run import Applied, apply_parameter_remedy, parameter_remedy, run_scenario_remedy
from bulwark.lab.remedy.steps import CodeSteps, ParameterSteps

__all__ = [
    "Applied",
    "CodeSteps",
    "ParameterSteps",
    "apply_parameter_remedy",
    "parameter_remedy",
    "run_scenario_remedy",
]
