"""The states of the world the reality checks keep (priors.yaml `reality_checks`, calibration/reality.py).

The checks are prior knowledge of the long run: a parameter set whose baseline leaves a check's range has prior
density 0, and the fit keeps only its draws that pass. A state adds the assumed constants' priors and the
outlooks to a fit's draw, and with them can leave the ranges where the draw alone did not: before this module,
103 of 256 states passed all three checks, and the baseline met D's above-scale value added in 35 % of all
states against 11 % of those passing. The same melding holds for the states as for the fit (Poole and Raftery
2000; sampling-importance-resampling with weights 0 or 1, Rubin 1988): candidates are drawn as before (a Latin
hypercube through `states.from_unit`), each one's baseline runs to the checks' last year from the recorded state
of the last data year, and the first `count` that pass every check are the states. (The fit screens its draws on
runs from 2010, the likelihood's; a state is screened on the run every surface shows. Of 1 024 candidates, 3 %
pass on one run and fail on the other.) A Sobol' study samples the priors' cube itself (Saltelli's estimators
need independent groups): its variance shares are over that cube, its odds over the rows the checks keep
(`screen`, sensitivity/pipeline.py).

    python -m nxmfg.calibration.plausible   # the baseline's odds of D's 2027 targets, screened and not
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nxmfg.calibration.states import Settings, States, latin_hypercube
from nxmfg.scenarios.validation import ScenarioError

BASELINE = Path(__file__).parents[1] / "scenarios" / "baseline.yaml"
BATCH = 4        # candidates per state wanted, per round (about 40 % pass)
ROUNDS = 8       # rounds of candidates before giving up


def states(fit, sets: pd.DataFrame, priors, count: int, seed: int, chosen: Settings, record: bool = True
           ) -> States:
    """`count` states of `fit` that pass every reality check, drawn from `seed` (the first `count` passing, in
    draw order); unscreened where there are no checks. `record`: screened on runs that go on from the recorded
    state of the last data year, as every surface's (else from the model's start, as the coverage of a fit to
    an earlier year runs them, which must not see the later record). ScenarioError if too few pass."""
    checks = _checks()
    if not checks:
        return latin_hypercube(sets, priors, count, seed, chosen)
    kept, drawn, passed = [], 0, 0
    for round_ in range(ROUNDS):
        # round 0 is the unscreened draw's own hypercube; later rounds extend it from the same seed
        size = BATCH * count
        candidates = latin_hypercube(sets, priors, size, seed if round_ == 0 else _seed(seed, round_), chosen)
        ok = screen(fit, candidates, record)
        kept.append(candidates.take(np.flatnonzero(ok)))
        drawn, passed = drawn + size, passed + int(ok.sum())
        if passed >= count:
            break
    else:
        raise ScenarioError(fit.path or "params", "", f"only {passed} of {drawn} states of the world pass the "
                            f"reality checks of calibration/priors.yaml, fewer than the {count} wanted")
    first = kept[0]
    joined = {name: np.concatenate([part.constants[name] for part in kept])[:count] for name in first.constants}
    outlooks = {name: np.concatenate([part.outlooks[name] for part in kept])[:count] for name in first.outlooks}
    rows = np.concatenate([part.fit_rows for part in kept])[:count]
    return States(joined, outlooks, rows, first.parts, chosen, seed, screened=(passed, drawn))


def screen(fit, candidates: States, record: bool = True) -> np.ndarray:
    """True for each candidate state whose baseline passes every reality check [count] (`record`: see
    `states`)."""
    from nxmfg import model, scenarios
    from nxmfg.calibration import reality, seam, worlds
    from nxmfg.model import ensemble

    checks = _checks()
    if not checks or not candidates.count:
        return np.ones(candidates.count, dtype=bool)
    control = {"final_time": reality.last_year(checks), "saveper": 1}
    params = worlds.inputs(scenarios.load(BASELINE), fit, candidates)
    if record:   # one reconciled batch, not kept: the kept states' own batch is the one surfaces resume from
        values = seam.run_batch((params, candidates.count + 1, reality.quantities, control, None))
    else:
        values = ensemble.run_translated(model.translated(), params, candidates.count + 1,
                                         reduce=reality.quantities, control=control, progress=False)
    return reality.keep(reality.passed(checks, values).iloc[1:])


def _checks() -> dict:
    from nxmfg.calibration import priors

    return priors.load().reality_checks


def _seed(seed: int, round_: int) -> int:
    return int(np.random.SeedSequence([seed, round_]).generate_state(1)[0])


def screening_effect(fit, count: int | None = None, year: int = 2027) -> pd.DataFrame:
    """The baseline's P(met) (%) of the targets of `year` over the first round's candidates for `count` states
    (default states.yaml's; the states before the screening), all of them and those passing every check; attrs
    `drawn` and `passing`."""
    from nxmfg import scenarios
    from nxmfg.api import inputs
    from nxmfg.calibration import reality, worlds
    from nxmfg.calibration.states import assumed_priors, settings
    from nxmfg.model import indicators

    chosen = settings()
    size = BATCH * (chosen.count if count is None else count)
    candidates = latin_hypercube(fit.parameter_sets(), assumed_priors(), size, chosen.seed, chosen)
    history = inputs.history()
    runs, _ = worlds.run(scenarios.load(BASELINE), fit, candidates, {"final_time": 2035, "saveper": 1},
                         history=history)
    ok = reality.keep(reality.passed(_checks(), reality.quantities(runs)).iloc[1:])   # these runs, not screen's
    targets = [row for row in scenarios.load_targets() if row.year == year and row.kind == "modelled"]
    judged = scenarios.attainment_by_run(indicators.compute(runs), targets, history)
    passing = judged.isel(run=np.concatenate([[0], 1 + np.flatnonzero(ok)]))
    table = 100 * pd.DataFrame({"all": worlds.p_met(judged), "passing": worlds.p_met(passing)},
                               index=pd.Index([row.id for row in targets], name="target"))
    table.attrs = {"drawn": candidates.count, "passing": int(ok.sum())}
    return table


if __name__ == "__main__":
    from nxmfg.calibration import fits

    effect = screening_effect(fits.shipped_fit())
    print(f"the baseline's P(met) of D's 2027 targets, %: all {effect.attrs['drawn']} candidates, and the "
          f"{effect.attrs['passing']} passing the reality checks")
    print(effect.round(1).to_string())
