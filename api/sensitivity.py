"""`nxmfg.sensitivity_study`: a Sobol' or Morris study of a study file on the ensemble engine.

Named so, not `nxmfg.sensitivity`: that name is the package nxmfg.sensitivity, and Python binds a
subpackage to its parent's attribute when it is first imported, so a function of the same name would
be replaced by the module.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

KEPT = ("samples.npz", "metadata.json")   # enough to redo the analysis (sensitivity.analyse) anywhere


def sensitivity_study(study: Path | str, out: Path | str | None = None, *, method: str = "sobol",
                      resume: bool = False, scheduler: str | None = None,
                      chunk_runs: int = 65536) -> SensitivityStudy:
    """Sample the study's levers and uncertainties, run every sample, and analyse the outcomes.

    Parameters
    ----------
    study
        A study file (e.g. sensitivity/plan_levers.yaml): scenario, levers, uncertainties, outcomes, N, seed.
    out
        Folder for the finished chunks (so that `resume` can skip them) and every output; None: a
        temporary folder, and nothing is kept unless you `write` the result.
    method
        "sobol" (first, total and optionally second-order indices) or "morris" (screening).
    resume
        Keep the finished chunks in `out` and evaluate only the rest.
    scheduler
        Address of a Dask scheduler to send chunks to; local worker processes if None.
    chunk_runs
        Runs per saved chunk (the unit `resume` skips).

    Returns
    -------
    SensitivityStudy
        The tables (indices, convergence, target odds, ...) and the study's metadata.
    """
    from nxmfg import sensitivity

    if out is None:
        with tempfile.TemporaryDirectory(prefix="nxmfg-study-") as folder:
            tables = sensitivity.run_file(Path(study), Path(folder), method, False, scheduler, chunk_runs)
            return SensitivityStudy(tables, *_kept(Path(folder)))
    tables = sensitivity.run_file(Path(study), Path(out), method, resume, scheduler, chunk_runs)
    return SensitivityStudy(tables, *_kept(Path(out)))


def reanalyse(out: Path | str) -> SensitivityStudy:
    """Redo the analysis of a finished study from out/samples.npz, without running the model."""
    from nxmfg import sensitivity

    return SensitivityStudy(sensitivity.analyse(Path(out)), *_kept(Path(out)))


def _kept(folder: Path) -> tuple[dict, dict[str, bytes]]:
    files = {name: (folder / name).read_bytes() for name in KEPT}
    return json.loads(files["metadata.json"]), files


@dataclass
class SensitivityStudy:
    """A finished study.

    Attributes
    ----------
    tables
        name -> DataFrame: indices (S1, ST per outcome and parameter), convergence, unsettled,
        time_resolved, target_odds, regional_sensitivity, prim_boxes (Sobol'), or morris.
    metadata
        Model version, study, scenario, fit, seed, method, fingerprint and timing.
    """

    tables: dict[str, pd.DataFrame]
    metadata: dict
    saved: dict[str, bytes]

    @property
    def indices(self) -> pd.DataFrame:
        """Sobol' indices (or Morris statistics), one row per outcome and parameter."""
        return self.tables["indices"] if "indices" in self.tables else self.tables["morris"]

    def write(self, out: Path | str) -> Path:
        """Write the samples, metadata, every table, the charts and summary.md into `out`, atomically."""
        from nxmfg import sensitivity
        from nxmfg.model.files import staged_output, write_bytes
        from nxmfg.sensitivity.pipeline import KEEP

        out = Path(out)
        with staged_output(out, "sensitivity", keep=KEEP) as stage:   # the inputs of the analysis first
            for name, data in self.saved.items():
                write_bytes(stage / name, data)
        sensitivity.analyse(out)
        return out
