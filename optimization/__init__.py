"""Lever packages that reach the targets: a many-objective search (NSGA-II, pymoo) over the regional levers,
each candidate run in the same states of the world (calibration/states.py: fit draws x assumptions x outlooks).

- study.py: the study file (levers, targets, how many states, sizes) and its checks.
- packages.py: decision vectors <-> scenarios, per-run lever paths.
- evaluate.py: candidates x states from the reconciled seam (calibration/worlds.py); the objectives.
- search.py: ask and tell, a checkpoint per generation (checkpoint.py).  pipeline.py: file to finished search.
- analysis.py: Pareto set, cheapest packages, reachability.  summary.py, chart.py, output.py: what is written.

The API is `nxmfg.optimize(study, out)`; the command line `nxmfg optimize STUDY.yaml --out DIR`.
"""

from nxmfg.optimization.study import Study, StudyError, read

__all__ = ["Study", "StudyError", "read"]
