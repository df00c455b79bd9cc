"""`nxmfg calibrate` end to end: data, priors, posterior mode, MCMC, diagnostics, and on request the files.

`run` computes everything and writes nothing but its checkpoint; `write` puts the fit and its report in a
folder of the user's choice; `save` (and only it) replaces the shipped calibration/fitted.yaml and
posterior.csv.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from nxmfg.calibration import coverage, reality, report, runner, sampler, summaries
from nxmfg.calibration import posterior as bayes
from nxmfg.calibration.history import DATA, observations
from nxmfg.calibration.likelihood import error_model
from nxmfg.calibration.priors import PriorError, Priors
from nxmfg.calibration.stats import fit_table

POLISH_RUNS = 4000           # COBYQA's budget for the mode under the checks, in posterior evaluations: both fits
                             # spent it in Dec 2026 (4 923 and 4 541 runs with the checks' own), gaining under 0.1
                             # nats in their last 700
CANDIDATES = 2000           # the chain's highest distinct points the reality checks screen for the mode
CHECKPOINT = "checkpoint"      # the sampler's checkpoint inside --out: kept, so that --resume with a larger
                               # max_steps extends a chain that has not converged


@dataclass
class Setup:
    """What a fit needs: all history, the part fitted, the priors, the problem and the evaluators."""
    history: pd.DataFrame
    fitted_history: pd.DataFrame
    priors: Priors
    problem: bayes.Problem
    evaluate: bayes.Evaluate          # to the last fitted year (the likelihood)
    evaluate_all: bayes.Evaluate      # to the last data year (bands, out of sample)
    reduce: object                    # runs -> the record's indicators (picklable)
    constants: pd.DataFrame
    until: int | None
    notes: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """A finished fit: the mode, the chain and its draws, diagnostics, fit and coverage tables."""
    values: dict[str, float]           # fitted.yaml: the posterior mode
    mode: bayes.Mode
    chain: sampler.Chain
    draws: np.ndarray                  # retained posterior draws (draws x fitted constants)
    params: pd.DataFrame               # per constant: prior, mode, posterior quantiles, diagnostics
    errors: pd.DataFrame               # per series: n, anchor, prior scale, posterior sd and rho
    assumed: pd.DataFrame              # per assumed constant: how far the record would tell it from its value
    runs: xr.Dataset                   # the mode (run 0) and the draws, to the last data year
    header: dict
    pairs: pd.DataFrame
    in_sample: pd.DataFrame
    out_of_sample: pd.DataFrame | None
    held: pd.DataFrame | None          # coverage: every held-out observation with its bands
    coverage: pd.DataFrame | None
    sharpness: dict
    setup: Setup
    until: int | None
    seconds: float
    reality: pd.DataFrame              # per reality check: its range and the share of the pooled draws passing


def prepare(until: int | None, data: Path | None, priors_path: Path | None = None) -> Setup:
    """Read data and priors, bind the ensemble engine, keep the observations the model can produce."""
    from nxmfg import model
    from nxmfg.calibration import priors as prior_file
    from nxmfg.model import indicators as model_indicators
    from nxmfg.scenarios import POLICY_LEVERS

    constants = model.constants()
    priors = prior_file.load(priors_path, constants, POLICY_LEVERS)
    history = observations(extra=data)
    last = int(history["year"].max())
    indicators = sorted(set(history["indicator"]) & set(model_indicators.INDICATORS))
    reduce = partial(model_indicators.compute, names=indicators)
    evaluate_all = runner.ensemble_evaluator(priors.fitted, reduce, last)
    evaluate = evaluate_all if until is None or until >= last else \
        runner.ensemble_evaluator(priors.fitted, reduce, until)
    notes: list[str] = []
    probe = evaluate_all(constants.loc[priors.fitted, "value"].to_numpy(float)[None, :]).isel(run=0)
    usable = summaries.usable(history, probe, notes)
    fitted_history = usable if until is None else usable[usable["year"] <= until]
    for row in fitted_history[fitted_history["unit"].str.contains("approximate")].itertuples():
        notes.append(f"approximate value fitted as printed: {row.indicator} {row.year} = {row.value:g}")
    problem = bayes.Problem(priors.fitted, priors, error_model(fitted_history, priors.errors))
    return Setup(usable, fitted_history, priors, problem, evaluate, evaluate_all, reduce, constants, until, notes)


def fingerprint(setup: Setup, data: Path | None) -> dict:
    """What makes two fits the same posterior (model, data, the fitted constants' priors, the error model,
    the years): a checkpoint of another is not resumed. The sampler's budget is not part of it, so a run
    resumed with more steps goes on with its chain."""
    import hashlib

    from nxmfg import model

    paths = [DATA] + ([Path(data)] if data else [])
    priors = setup.priors
    posterior = json.dumps({"fitted": {n: priors.entries[n].model_dump() for n in priors.fitted},
                            "errors": priors.errors.model_dump(), "search": priors.search, "seed": priors.seed},
                           sort_keys=True)
    return {"model": model.version(), "data": runner.data_hash(paths), "data_files": [p.name for p in paths],
            "space": "logit of each prior's range",
            "priors": hashlib.sha256(posterior.encode()).hexdigest()[:12], "until": setup.until,
            "names": setup.problem.names}


def run(until: int | None, data: Path | None, progress: bool = True, checkpoint: Path | None = None,
        resume: bool = False, polish_start: Path | None = None) -> Outcome:
    """Fit the fitted constants' posterior to the record (years <= until, if given); write only the checkpoint
    (in `checkpoint`, if given: resumed when `resume` and it is of the same problem, else started afresh).
    `polish_start`: a fit file of this model whose point is a candidate start of the polish, as the shipped
    fit's is."""
    from nxmfg import model

    start = time.perf_counter()
    setup = prepare(until, data)
    problem, priors, seed = setup.problem, setup.priors, setup.priors.seed
    identity = fingerprint(setup, data)
    # the start given is read before the hour's chain, so that a bad file fails at once
    given, given_note = _start_point(setup, polish_start) if polish_start is not None else (None, "")
    shipped, shipped_note = _shipped_values(setup)
    if checkpoint is not None and not resume:
        shutil.rmtree(checkpoint, ignore_errors=True)
    mode = _mode(setup, identity, checkpoint, progress)
    start_positions = bayes.walker_start(mode, problem, int(priors.sampler["walkers"]), np.random.default_rng(seed))
    space = bayes.Unbounded(*problem.bounds)
    log_density = space.log_density(lambda X: problem.log_posterior(X, setup.evaluate)[0])
    chain = sampler.run(log_density, space.to_z(start_positions), priors.sampler, seed, checkpoint, identity,
                        progress)
    warm = np.array([shipped.get(name, x) for name, x in zip(problem.names, mode.x, strict=True)])
    starts = tuple(point for point in (given, warm if shipped else None) if point is not None)
    draws, best, checked, polished = _checked_draws_and_mode(setup, mode, chain, space, progress, starts)
    runs = setup.evaluate_all(np.vstack([best, draws]))
    header = runner.fit_header(model.version(), identity, until, seed) | _sampler_header(chain, draws, mode) \
        | _reality_header(priors, checked) | {"mode_polish": polished}
    if given is not None:
        header["mode_start_given"] = given_note
    if shipped:
        header["mode_start_shipped"] = shipped_note
    pairs = summaries.observed_pairs(runs.isel(run=0), setup.history, setup.fitted_history)
    in_sample = fit_table(pairs[pairs["in_sample"]])
    out_of_sample = fit_table(pairs[~pairs["in_sample"]]) if until is not None else None
    simulated = problem.simulated(runs.isel(run=slice(1, None)))
    params = summaries.parameter_table(problem, best, draws, sampler.diagnostics(chain, problem.names),
                                       setup.constants)
    errors = problem.errors.summary(simulated)
    assumed = summaries.assumed_screen(problem, best, setup.evaluate, setup.constants)
    values = dict(zip(problem.names, map(float, best), strict=True))
    held, table, sharp = _coverage(setup, values, draws) if until is not None else (None, None, {})
    header["seconds"] = f"{time.perf_counter() - start:.0f}"
    return Outcome(values, mode, chain, draws, params, errors,
                   assumed, runs, header, pairs, in_sample, out_of_sample, held, table, sharp, setup, until,
                   time.perf_counter() - start, reality.table(priors.reality_checks, checked))


def _mode(setup: Setup, identity: dict, checkpoint: Path | None, progress: bool) -> bayes.Mode:
    """The posterior mode, from the checkpoint folder if it holds this problem's."""
    path = checkpoint / "mode.json" if checkpoint is not None else None
    if path is not None and path.exists():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("fingerprint") == json.loads(json.dumps(identity)):
            return bayes.Mode(np.array(saved["x"]), saved["log_posterior"], saved["evaluations"], saved["message"])
    mode = bayes.find_mode(setup.problem, setup.evaluate, setup.priors.seed, setup.priors.search, progress)
    if path is not None:
        from nxmfg.model import files

        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_text(path, json.dumps({"fingerprint": identity, "x": mode.x.tolist(), "message": mode.message,
                                           "log_posterior": mode.log_posterior, "evaluations": mode.evaluations}))
    return mode


def _start_point(setup: Setup, path: Path) -> tuple[np.ndarray, str]:
    """The fitted constants' values in a fit file of this model (checked as every fit file is), and a note
    for the header naming the file with the hash of what was read (not of the file an hour later)."""
    from nxmfg.calibration.fits import read_fit

    fit = read_fit(path, setup.constants)
    values = fit.values
    missing = [name for name in setup.problem.names if name not in values]
    if missing:
        raise PriorError(path, missing[0], "a fit file given as the polish's start must hold every fitted "
                         f"constant; it lacks {', '.join(missing)}")
    return np.array([values[name] for name in setup.problem.names]), f"{path.name} (sha256 {fit.sha256[:12]})"


def _shipped_values(setup: Setup) -> tuple[dict[str, float], str]:
    """The shipped fit of this fit's years (calibration/fitted.yaml; a fit to year Y the shipped
    out_of_sample/fitted_until_Y.yaml, where there is one), as far as it holds this problem's constants inside
    their ranges, and a note for the header: a refit after a change of the model starts its polish where the
    last fit ended, not only from the search's mode (Dec 2026: the search's own polish ended 3 nats below the
    previous mode's). The file is read once: its values, model version and hash are of the same text."""
    import hashlib

    from nxmfg.model.yaml_reader import parse

    path = runner.FITTED if setup.until is None else runner.OUT_OF_SAMPLE / f"fitted_until_{setup.until}.yaml"
    if not path.is_file():
        return {}, ""
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    shipped = parse(text)
    shipped = shipped if isinstance(shipped, dict) else {}
    low, high = setup.problem.bounds
    values = {name: float(shipped[name]) for name, a, b in zip(setup.problem.names, low, high, strict=True)
              if isinstance(shipped.get(name), int | float) and not isinstance(shipped[name], bool)
              and a <= shipped[name] <= b}
    version = next((line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("# model_version: ")),
                   "unknown")
    rest = ", the rest the search's mode" if len(values) < len(setup.problem.names) else ""
    return values, (f"{path.name} (sha256 {hashlib.sha256(raw).hexdigest()[:12]}, model {version}): "
                    f"{len(values)} of {len(setup.problem.names)} fitted constants{rest}")


def _checked_draws_and_mode(setup: Setup, mode: bayes.Mode, chain: sampler.Chain, space: bayes.Unbounded,
                            progress: bool = False, starts: tuple[np.ndarray, ...] = ()
                            ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, str]:
    """The retained draws, the mode, the pooled draws' reality checks (calibration/reality.py) and how the
    mode's polish ended.

    Draws: the pool after burn-in and thinning, in a seeded order, less the draws a check rules out. Mode: the
    highest posterior density found that passes, among the search's mode and the chain's highest distinct
    points (the chain's log density is of z: the Jacobian comes off; a tie goes to the search's mode), then
    polished under the checks (posterior.polish): in 40 dimensions the chain's draws lie some 20 nats below
    the mode (half a chi-square of 40) and its best about 7, so no point of the chain is the mode. `starts`,
    points given (the shipped fit's, `--start`'s), are candidates too."""
    step, walker = sampler.pool(chain, np.random.default_rng(setup.priors.seed))
    log_posterior = chain.log_prob - space.log_jacobian(chain.positions)
    top_step, top_walker = _highest(log_posterior, chain.positions)
    steps, walkers = np.r_[step, top_step], np.r_[walker, top_walker]
    X = np.vstack([mode.x, space.to_x(chain.positions[steps, walkers])])
    L = np.r_[mode.log_posterior, log_posterior[steps, walkers]]
    if starts:      # after the pool's rows, so that `pooled` below still picks the draws
        X, L = np.vstack([X, *starts]), np.r_[L, setup.problem.log_posterior(np.array(starts), setup.evaluate)[0]]
    checks = setup.priors.reality_checks
    evaluate = (runner.ensemble_evaluator(setup.problem.names, reality.quantities, reality.last_year(checks))
                if checks else None)        # one evaluator for the screen and the polish
    checked = (reality.passed(checks, evaluate(X)) if evaluate is not None
               else pd.DataFrame(index=pd.RangeIndex(len(X), name="run")))
    passes = reality.keep(checked)
    pooled = slice(1, 1 + len(step))
    if not passes[pooled].any():
        raise PriorError(setup.priors.path, "reality_checks", f"none of the posterior's {len(step)} draws passes "
                         "them all: loosen a check, or look at the model and the record")
    draws = X[pooled][passes[pooled]][:int(setup.priors.sampler["retained"])]
    best, polished = bayes.polish(setup.problem, setup.evaluate, X[np.argmax(np.where(passes, L, -np.inf))],
                                  POLISH_RUNS,
                                  (lambda Z: reality.margins(checks, evaluate(Z))) if evaluate is not None else None,
                                  progress)
    return draws, best, checked.iloc[pooled], polished


def _highest(log_posterior: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(step, walker) of the chain's CANDIDATES highest distinct points, best first (a rejected move repeats
    its walker's position, so the highest values come in runs)."""
    flat = log_posterior.ravel()
    k = min(flat.size, 50 * CANDIDATES)
    index = np.argpartition(-flat, k - 1)[:k]
    index = index[np.argsort(-flat[index], kind="stable")]
    _, first = np.unique(positions.reshape(-1, positions.shape[-1])[index], axis=0, return_index=True)
    return np.unravel_index(index[np.sort(first)][:CANDIDATES], log_posterior.shape)


def _reality_header(priors: Priors, checked: pd.DataFrame) -> dict:
    """What the checks were (their content's hash: the chain's fingerprint leaves them out) and what they kept."""
    import hashlib

    if not priors.reality_checks:
        return {}
    kept = int(reality.keep(checked).sum())
    content = json.dumps({name: check.model_dump() for name, check in priors.reality_checks.items()}, sort_keys=True)
    return {"reality_checks": f"{len(priors.reality_checks)} (priors.yaml reality_checks, sha256 "
            f"{hashlib.sha256(content.encode()).hexdigest()[:12]}): {kept} of {len(checked)} pooled draws pass "
            "them all; the mode passes them"}


def _sampler_header(chain: sampler.Chain, draws: np.ndarray, mode: bayes.Mode) -> dict:
    burn, thin = sampler.burn_in_and_thinning(chain)
    return {"fitted.yaml": "the posterior mode (maximum a posteriori): one coherent parameter set that "
            "reproduces the record, which the vector of marginal medians need not be (params.csv has both)",
            "sampler": "emcee EnsembleSampler, differential-evolution moves (DEMove)",
            "walkers": chain.positions.shape[1], "steps": chain.steps, "burn_in": burn, "thinning": thin,
            "draws": len(draws), "acceptance": f"{chain.acceptance:.3f}", "converged": chain.converged,
            "largest_autocorrelation_time": f"{max(chain.taus[-1]):.1f}" if chain.taus else "",
            "mode_search": f"{mode.message} ({mode.evaluations} runs)"}


def _coverage(setup: Setup, values: dict[str, float], draws: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """This fit's states of the world (calibration/states.py, its draws as the fit posterior) against the later
    record (calibration/coverage.py): per observation, per series and over all, and GDP's sharpness."""
    from nxmfg.calibration.fits import Fit

    fit = Fit(values, sets=pd.DataFrame(draws, columns=setup.problem.names))
    last = int(setup.history["year"].max())
    held = coverage.table(fit, setup.until, last, setup.history)
    sharp = {}
    if ((held["indicator"] == coverage.SHARP_INDICATOR) & (held["year"] == last)).any():
        low, high = coverage.sharpness(held, year=last)
        sharp = {"year": last, "low": low, "high": high,
                 "sharp": bool(-coverage.SHARPNESS <= low and high <= coverage.SHARPNESS)}
    return held, coverage.by_series(held), sharp


def write(outcome: Outcome, out: Path) -> list[Path]:
    """fitted.yaml, posterior.csv, params.csv, errors.csv, assumed.csv, fit.csv (+ fit_out_of_sample.csv, coverage.csv,
    coverage_by_series.csv), residuals.csv, fit.png and report.md in `out`, staged and moved in together
    (model.files.staged_output); never the shipped fit. The sampler's checkpoint stays in `out/checkpoint`."""
    from nxmfg.model.files import staged_output

    with staged_output(out, "calibrate", keep=(CHECKPOINT,)) as stage:
        runner.write_fitted(outcome.values, outcome.header, stage / "fitted.yaml")
        runner.write_posterior(list(outcome.values), outcome.draws, outcome.header, stage / "posterior.csv")
        tables = {"params.csv": outcome.params, "errors.csv": outcome.errors, "assumed.csv": outcome.assumed,
                  "fit.csv": outcome.in_sample,
                  "residuals.csv": outcome.pairs, "fit_out_of_sample.csv": outcome.out_of_sample,
                  "coverage.csv": outcome.held, "coverage_by_series.csv": outcome.coverage}
        for name, table in tables.items():
            if table is not None:
                report.write_csv(table, stage / name)
        report.draw_charts(outcome.runs.isel(run=0), outcome.runs.isel(run=slice(1, None)), outcome.setup.history,
                           outcome.until, stage / "fit.png")
        report.write_text(report.report_markdown(outcome), stage / "report.md")
    return sorted(p for p in out.iterdir() if not p.name.startswith("."))


def save(outcome: Outcome) -> list[Path]:
    """Ship the fit: calibration/fitted.yaml and posterior.csv; a fit to years <= `until` goes to
    calibration/out_of_sample/ (fitted_until_YEAR.yaml, posterior.csv beside it as beside every fit, its
    out-of-sample fit and coverage tables), beside the shipped fit it tests."""
    from nxmfg.model.files import remove_stale

    folder = runner.FITTED.parent if outcome.until is None else runner.OUT_OF_SAMPLE
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale(folder, depth=1)   # temporaries of a calibration killed while writing
    if outcome.until is None:
        paths = [runner.FITTED, runner.POSTERIOR]
    else:
        paths = [folder / f"fitted_until_{outcome.until}.yaml", folder / runner.POSTERIOR.name]
    runner.write_fitted(outcome.values, outcome.header, paths[0])
    runner.write_posterior(list(outcome.values), outcome.draws, outcome.header, paths[1])
    if outcome.until is not None:
        for name, table in (("fit_out_of_sample.csv", outcome.out_of_sample), ("coverage.csv", outcome.held),
                            ("coverage_by_series.csv", outcome.coverage)):
            report.write_csv(table, folder / name)
            paths.append(folder / name)
    return paths
