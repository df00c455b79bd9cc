"""nxmfg: a system-dynamics model of Ningxia's manufacturing economy, and the tools around it.

The Python API (the command line `nxmfg` is a thin layer over it)::

    import nxmfg
    result = nxmfg.run("scenarios/plan.yaml")          # or a shipped name: nxmfg.run("plan")
    result.attainment                                  # target by target: value, threshold, met, margin
    result.plot(["gdp_100m_yuan", "digital_economy_share_of_gdp_pct"])
    result.write("out/plan")                           # every file `nxmfg simulate` writes
    nxmfg.compare(["baseline", "plan"]).write("out/compare")

Importing nxmfg is cheap: the model, PySD and matplotlib load on the first call that needs them.
"""

from nxmfg.api.calibration import Calibration, calibrate
from nxmfg.api.comparison import Comparison, compare
from nxmfg.api.inputs import shipped_scenarios
from nxmfg.api.optimization import Optimization, optimize
from nxmfg.api.result import Result
from nxmfg.api.sensitivity import SensitivityStudy, sensitivity_study
from nxmfg.api.simulation import run

__all__ = ["Calibration", "Comparison", "Optimization", "Result", "SensitivityStudy", "calibrate", "compare",
           "optimize", "run", "sensitivity_study", "shipped_scenarios"]
