"""Scenario files and the plans' targets as data; nothing here imports PySD.

- schema.py: Scenario/Lever, load(), check() against model.constants(), lever time paths.
- targets.py: Target, load_targets(), load_own_targets() (a user's file), attainment() of a run (or an ensemble).
- measures.py: how a target reads an indicator (level, change_vs, mean_growth, ...).
- validation.py: ScenarioError and one-line messages naming file and field.
"""

from nxmfg.scenarios.measures import MEASURES
from nxmfg.scenarios.schema import (
    FIRST_LEVER_YEAR,
    FIRST_OUTLOOK_YEAR,
    POLICY_LEVERS,
    Lever,
    Scenario,
    check,
    from_mapping,
    lever_path_array,
    load,
    with_changes,
)
from nxmfg.scenarios.targets import (
    TARGET_MODES,
    TARGETS,
    Target,
    attainment,
    attainment_by_run,
    check_targets,
    load_own_targets,
    load_targets,
)
from nxmfg.scenarios.validation import ScenarioError

__all__ = [
    "FIRST_LEVER_YEAR", "FIRST_OUTLOOK_YEAR", "MEASURES", "POLICY_LEVERS", "TARGET_MODES", "TARGETS", "Lever",
    "Scenario",
    "ScenarioError", "Target", "attainment", "attainment_by_run", "check", "check_targets", "from_mapping",
    "lever_path_array", "load", "load_own_targets", "load_targets", "with_changes",
]
