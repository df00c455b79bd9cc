"""Lever packages that reach the targets: a many-objective search (NSGA-II, pymoo) over the regional levers,
each candidate run in the same states of the world (calibrated parameter sets x outlook draws).

- study.py: the study file (levers, targets, states, sizes) and its checks.
- states.py: the states of the world.  packages.py: decision vectors <-> scenarios, per-run lever paths.
- evaluate.py: candidates x states in one ensemble call; the objectives.
- search.py: ask and tell, a checkpoint per generation (checkpoint.py).  pipeline.py: file to finished search.
- analysis.py: Pareto set, cheapest packages, reachability.  summary.py, chart.py, output.py: what is written.

The API is `nxmfg.optimize(study, out)`; the command line `nxmfg optimize STUDY.yaml --out DIR`.
"""

from nxmfg.optimization.study import Study, StudyError, read

__all__ = ["Study", "StudyError", "read"]
