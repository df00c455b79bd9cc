"""Ship a grouped study's verdict shares: which group carries each target's variance.

`python -m nxmfg.sensitivity.shares OUT` reads a finished grouped Sobol' study in OUT (its indices.csv over the
factors fit, assumptions, outlooks and levers; sensitivity/verdicts_2027.yaml) and writes
calibration/assumption_shares.csv, from which every surface flags a verdict decided by assumptions
(calibration.verdict_shares.decided_by_assumptions).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from nxmfg.calibration.verdict_shares import SHARES

GROUPS = ("fit", "assumptions", "outlooks", "levers")


def table(out: Path) -> pd.DataFrame:
    """Per target (index id): ST and its 95 % interval for each group."""
    indices = pd.read_csv(Path(out) / "indices.csv")
    missing = sorted(set(GROUPS) - set(indices["parameter"]))
    if missing:
        raise ValueError(f"{out}/indices.csv: no factor {missing[0]!r}; a grouped study (states: true, "
                         "group_levers: true) gives fit, assumptions, outlooks and levers")
    chosen = indices[indices["outcome"].str.startswith("target:") & indices["parameter"].isin(GROUPS)]
    wide = chosen.pivot(index="outcome", columns="parameter", values=["ST", "ST_conf"])
    frame = pd.DataFrame({column: wide[("ST" if not column.endswith("_conf") else "ST_conf",
                                        column.removesuffix("_conf"))]
                          for group in GROUPS for column in (group, f"{group}_conf")})
    frame.index = frame.index.str.removeprefix("target:").rename("target")
    return frame.reindex([label.removeprefix("target:") for label in dict.fromkeys(chosen["outcome"])])


def write(out: Path, path: Path = SHARES) -> Path:
    """calibration/assumption_shares.csv from the study in `out`, its provenance in the header."""
    from nxmfg.model.files import write_text

    meta = json.loads((Path(out) / "metadata.json").read_text(encoding="utf-8"))
    header = (f"# Total-order Sobol' index (ST, with its 95 % interval) of each group on each target's margin: study "
              f"{meta['study']['name']} (N = {meta['samples']}, {meta['runs']} runs, seed {meta['seed']}, fingerprint "
              f"{meta['fingerprint']}, model version {meta.get('model_version')}).\n# A verdict is decided by "
              "assumptions when `assumptions` exceeds 0.5. Written by python -m nxmfg.sensitivity.shares OUT.\n")
    write_text(path, header + table(out).to_csv(float_format="%.4f"))
    return path


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m nxmfg.sensitivity.shares STUDY_OUT_FOLDER")
    print(write(Path(sys.argv[1])))
