"""Which verdicts the assumptions decide: every surface's flag "decided by assumptions" (由假设决定).

calibration/assumption_shares.csv holds, per target, the total-order Sobol' index of each group of a grouped
study over the states of the world and the levers (sensitivity/verdicts_2027.yaml; written by
`python -m nxmfg.sensitivity.shares OUT`). A verdict is decided by assumptions when the assumed constants
carry more than half its variance.
"""

from functools import cache
from pathlib import Path

import pandas as pd

SHARES = Path(__file__).with_name("assumption_shares.csv")
DECIDED = 0.5
DECIDED_WORDS = {"en": "decided by assumptions", "zh": "由假设决定"}


@cache
def assumption_shares(path: Path = SHARES) -> pd.DataFrame:
    """Index target id; columns fit, assumptions, outlooks, levers (ST, each with `_conf`), and
    `decided_by_assumptions`; empty if the file is absent."""
    if not path.is_file():
        return pd.DataFrame(columns=["fit", "assumptions", "outlooks", "levers", "decided_by_assumptions"])
    table = pd.read_csv(path, comment="#", index_col="target")
    return table.assign(decided_by_assumptions=table["assumptions"] > DECIDED)


def decided_by_assumptions() -> dict[str, bool]:
    """{target id: True where the assumed constants carry more than half the verdict's variance}."""
    return assumption_shares()["decided_by_assumptions"].astype(bool).to_dict()
