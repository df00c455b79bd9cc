"""Sobol' (and Morris) sensitivity studies of the model's levers and uncertain constants.

sample -> evaluate -> analyse: `pipeline.run_study(study, evaluate, out)` with `evaluate` passed in,
so the machinery is tested on SALib's Ishigami function and run on the model through
`evaluate.ModelEvaluator` (the ensemble engine).
"""

from .pipeline import analyse, run_file, run_study
from .study import Study, load

__all__ = ["Study", "analyse", "load", "run_file", "run_study"]
