"""The explorer's model side: a session's draft scenario, run with its band in one engine call.

Everything a redraw needs but the draft is loaded once (`Explorer`): the fit and its states of the world
(calibration/states.py), the constants, the targets, the history and what it says about past targets. A
draft's batch (calibration/worlds.py: run 0 the scenario at the fit, runs 1.. its states) goes through
`model.ensemble` resumed from a snapshot at the first year the draft changes, made from the reconciled start
at the last data year (calibration/seam.py): the years before are the same for every draft and are not run
again. A draft whose levers act before the data end is a counterfactual of the past and starts from no
record. The engine and its model belong to one thread (`EngineThread`), whatever thread the web server
answers in.
"""

from __future__ import annotations

import json
import queue
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from nxmfg import scenarios
from nxmfg.calibration import seam
from nxmfg.model.plots import LAST_DATA_YEAR
from nxmfg.scenarios import POLICY_LEVERS
from nxmfg.scenarios.schema import FIRST_LEVER_YEAR, LAST_YEAR

EDITABLE_OUTLOOKS = ("national_industry_growth_outlook", "coal_price_outlook")
OUTLOOK_YEARS = (2024, 2025, 2027, 2030, 2035)   # the points an outlook is edited at
CACHED = 64    # evaluations kept (a draft seen again, a saved scenario overlaid, a language switch)
CONTROL = {"final_time": LAST_YEAR, "saveper": 1}
THREADS = 2    # a draft's batch in two halves at once (model.ensemble: the compiled model runs unlocked)


@dataclass(frozen=True)
class Evaluation:
    """A draft's run and band: indicators (dims run, year; run 0 the scenario) and the verdict on every
    modelled target (one row per target: value, margin, met, probability, and the actual outcome)."""

    scenario: scenarios.Scenario
    indicators: xr.Dataset
    verdicts: pd.DataFrame

    @cached_property      # a redraw reads them for every chart: made once
    def central(self) -> xr.Dataset:
        return self.indicators.isel(run=0, drop=True)

    @cached_property
    def band(self) -> xr.Dataset | None:
        return self.indicators.isel(run=slice(1, None)) if self.indicators.sizes["run"] > 1 else None

    def edges(self, names: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The band's 5 and 95 % lines of the indicators `names` ({name: (low, high)}, NaN where no run has a
        value; none without a band): one quantile over the charts shown, kept for the next redraw."""
        from nxmfg.model.plots import BAND_QUANTILES

        if self.band is None:
            return {}
        wanted = [name for name in dict.fromkeys(names) if name in self.band.data_vars and name not in self._edges]
        if wanted:
            runs = np.stack([self.band.variables[name].values for name in wanted])      # [names x runs x years]
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)       # a year no run has (NaN) stays NaN
                low, high = np.quantile(runs, BAND_QUANTILES, axis=1)
            self._edges.update({name: (low[k], high[k]) for k, name in enumerate(wanted)})
        return {name: self._edges[name] for name in names if name in self._edges}

    @cached_property
    def _edges(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {}

    @cached_property
    def counts(self) -> dict[str, int]:
        """The past targets' counts (outcomes.summary) of the verdicts."""
        from nxmfg.scenarios import outcomes

        return outcomes.summary(self.verdicts)


class EngineThread:
    """One daemon thread that runs every model call: PySD's model and the engine's prepared state are
    kept per thread, and a daemon never holds up Ctrl-C."""

    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        threading.Thread(target=self._work, name="nxmfg-engine", daemon=True).start()

    def call(self, function: Callable, *args):
        future: Future = Future()
        self._jobs.put((future, function, args))
        return future.result()

    def _work(self) -> None:
        while True:
            future, function, args = self._jobs.get()
            try:
                future.set_result(function(*args))
            except BaseException as error:   # handed to the caller, who reports it
                future.set_exception(error)


class Explorer:
    """What every session shares, read once: see the module docstring. Thread-safe (model calls queue)."""

    def __init__(self, params: str | Path | None = None) -> None:
        from nxmfg import model
        from nxmfg.api import inputs, simulation
        from nxmfg.scenarios import outcomes

        self.params = params
        self.fit, _ = inputs.fit_and_overrides(params)
        self.constants = model.constants()
        self.lookups = model.lookups()
        self.baseline = self.constants["value"].to_dict() | self.fit.values
        self.outlooks = model.outlook_tables()
        self.targets = [t for t in inputs.targets().rows]
        self.history = inputs.history()
        self.actual = outcomes.actual_outcomes(self.targets, self.history)
        self.plan = {name: lever.value for name, lever in inputs.scenario("plan").levers.items()
                     if lever.value is not None}
        self.states = simulation.states_of(self.fit)
        self.names = list(dict.fromkeys([*_headlines(), *(t.indicator for t in self.targets if t.kind == "modelled")]))
        self.engine = EngineThread()
        self._snapshots: dict[tuple[float, bool], object] = {}
        self._evaluations: OrderedDict[str, Evaluation] = OrderedDict()
        self._lock = threading.Lock()
        self._baseline: Evaluation | None = None
        self._report_lock = threading.Lock()
        self._shipped: dict[str, scenarios.Scenario] = {}

    @cached_property
    def studies(self) -> tuple:
        """The shipped package and assumption studies the decision page reads (read once, as the rest)."""
        from nxmfg.decision.surfaces import shipped_studies

        return shipped_studies()

    def shipped(self, name: str) -> scenarios.Scenario:
        """A shipped scenario (read once: the decision page shows the plan beside every draft)."""
        from nxmfg.api import inputs

        if name not in self._shipped:
            self._shipped[name] = inputs.scenario(name)
        return self._shipped[name]

    def baseline_label(self, lang: str) -> str:
        return self.shipped("baseline").label(lang)

    def observed(self, name: str) -> tuple[list, list]:
        """The history of indicator `name`: (years, values), empty where the data have none."""
        if not hasattr(self, "_observed"):
            grouped = {key: rows for key, rows in self.history.groupby("indicator", sort=False)}
            self._observed = {key: (rows["year"].tolist(), rows["value"].to_numpy()) for key, rows in grouped.items()}
        return self._observed.get(name, ([], np.empty(0)))

    def target_rows(self) -> list[dict]:
        """The targets as plain dicts (chart markers and notes)."""
        if not hasattr(self, "_target_rows"):
            self._target_rows = [t.model_dump() for t in self.targets]
        return self._target_rows

    def report(self, chosen: list[scenarios.Scenario], lang: str) -> bytes:
        """The report `nxmfg compare` writes of `chosen`, on this fit; one at a time (matplotlib's pyplot
        is not for several threads at once)."""
        from nxmfg.explore import files

        with self._report_lock:
            return files.report_html(chosen, lang, self.params)

    # ---- drafts: what a session has chosen, as plain data (kept in the browser) ----
    def scenario(self, draft: dict) -> scenarios.Scenario:
        """The draft as a checked Scenario; ScenarioError (one line naming the field) if it is not valid.

        draft: {"name", "title": {zh, en} | None, "description", "levers": {lever: {"from", "value"} or
        {"from", "path"}}, "paths": {outlook: {year: value}}}.
        """
        levers = draft.get("levers") or {}
        others = sorted(set(levers) - set(POLICY_LEVERS))
        source = f"<{draft.get('name') or 'draft'}>"
        if others:
            raise scenarios.ScenarioError(source, f"levers.{others[0]}", "the explorer moves the regional "
                                          f"policy levers only: {', '.join(POLICY_LEVERS)}")
        levers = {name: _int_years(spec) for name, spec in levers.items()}   # JSON in the browser made them text
        data = {"name": draft.get("name") or "explored", "description": draft.get("description") or "explored",
                "final_year": LAST_YEAR, "levers": levers,
                "paths": {name: {int(year): value for year, value in points.items()}
                          for name, points in (draft.get("paths") or {}).items()}}
        if draft.get("title"):
            data["title"] = draft["title"]
        scenario = scenarios.from_mapping(data, source)
        scenarios.check(scenario, self.constants, self.lookups)
        return scenario

    def evaluate(self, draft: dict, extra: tuple[str, ...] = ()) -> Evaluation:
        """The draft's scenario and band (cached by the draft's levers and paths), with the headline and
        targeted indicators and the `extra` ones (each computed indicator costs about a millisecond)."""
        extra = tuple(sorted(set(extra) - set(self.names)))
        key = json.dumps([content(draft), extra])
        with self._lock:
            if key in self._evaluations:
                self._evaluations.move_to_end(key)
                return self._evaluations[key]
        scenario = self.scenario(draft)
        evaluation = self.engine.call(self._evaluate, scenario, [*self.names, *extra])
        with self._lock:
            self._evaluations[key] = evaluation
            while len(self._evaluations) > CACHED:
                self._evaluations.popitem(last=False)
        return evaluation

    def _evaluate(self, scenario: scenarios.Scenario, names: list[str]) -> Evaluation:
        from nxmfg import model
        from nxmfg.model import ensemble, indicators

        changed = _first_changed_year(scenario)
        runs = ensemble.run_translated(model.translated(), self._params(scenario), self._runs(),
                                       reduce=partial(indicators.compute, names=names), control=CONTROL,
                                       resume=self._snapshot(min(changed, LAST_YEAR), seam.applies(scenario)),
                                       threads=THREADS)
        if self._baseline is None or changed <= FIRST_LEVER_YEAR:
            return Evaluation(scenario, runs, self._verdicts(runs, self.targets, seam.applies(scenario)))
        # A target read only in years before the first changed one keeps the baseline's verdict (the same
        # numbers): 55 of the 68 shipped targets lie in the past.
        later = [t for t in self.targets if t.kind == "modelled" and t.year >= changed]
        kept = self._baseline.verdicts[self._baseline.verdicts["year"] < changed]
        verdicts = pd.concat([kept, self._verdicts(runs, later, seam.applies(scenario))]) if later else kept
        order = {t.id: i for i, t in enumerate(t for t in self.targets if t.kind == "modelled")}
        return Evaluation(scenario, runs, verdicts.sort_values("id", key=lambda ids: ids.map(order),
                                                               ignore_index=True))

    def _runs(self) -> int:
        return 1 + self.states.count

    def _params(self, scenario: scenarios.Scenario) -> dict:
        """The batch's inputs (calibration/worlds.py): the same names for every draft, as a snapshot needs."""
        from nxmfg.calibration import worlds

        return worlds.inputs(scenario, self.fit, self.states)

    def _snapshot(self, time: float, reconciled: bool = True):
        """The batch paused at `time` with no lever moved (made once per time, on the engine thread): from
        the reconciled start at the last data year, or, for a counterfactual of the past, from the start."""
        from nxmfg import model
        from nxmfg.calibration import worlds
        from nxmfg.model import ensemble

        key = (time, reconciled and time >= seam.YEAR)
        if key not in self._snapshots:
            untouched = scenarios.from_mapping({"name": "untouched", "description": "x"}, "<untouched>")
            start = worlds.start(self.fit, self.states, CONTROL, history=self.history).snapshot if key[1] else None
            self._snapshots[key] = start if key[1] and time == seam.YEAR else ensemble.snapshot(
                model.translated(), self._params(untouched), self._runs(), time, CONTROL, resume=start)
        return self._snapshots[key]

    def warm(self) -> Evaluation:
        """Load the model, make the snapshots at the last data year and the default start year, and run
        the baseline: the first session then answers as fast as the next."""
        if self._baseline is None:
            self._baseline = self.evaluate({})
        self.evaluate({"levers": {POLICY_LEVERS[0]: {"from": LAST_DATA_YEAR + 1,
                                                     "value": self.plan.get(POLICY_LEVERS[0], 0.0)}}})
        self.engine.call(self._snapshot, float(LAST_DATA_YEAR))      # for outlooks
        self.studies                                                  # noqa: B018 (read once, now)
        return self._baseline

    def _verdicts(self, runs: xr.Dataset, targets: list, recorded: bool) -> pd.DataFrame:
        """Each modelled target of `targets`: the scenario's value, margin and verdict, P(met) over the
        states, whether assumptions decide it, the years read from the record (`recorded`: the draft
        starts from it), and the actual outcome where the data give one."""
        from nxmfg.calibration import worlds
        from nxmfg.calibration.verdict_shares import decided_by_assumptions

        judged = scenarios.attainment_by_run(runs, targets, self.history if recorded else None)
        table = pd.DataFrame({"id": judged["target"].values,
                              "value": judged["value"].isel(run=0).values,
                              "margin": judged["margin"].isel(run=0).values,
                              "probability": worlds.p_met(judged) if runs.sizes["run"] > 1 else np.nan,
                              "record_years": judged["record_years"].values})
        table["decided_by_assumptions"] = table["id"].map(decided_by_assumptions()).astype("boolean")
        table["met"] = pd.array(np.where(np.isnan(table["margin"]), pd.NA, judged["met"].isel(run=0).values),
                                dtype="boolean")
        # the targets' words beside their numbers, row for row (attainment_by_run keeps the targets' order)
        about = pd.DataFrame([{"doc": t.doc, "target": t.target, "clause": t.clause, "year": t.year,
                               "indicator": t.indicator, "measure": t.measure, "threshold": t.threshold,
                               "direction": t.direction} for t in targets if t.kind == "modelled"])
        actual = self.actual.reindex(table["id"])
        table = pd.concat([table[["id"]], about, table.drop(columns="id"),
                           actual.reset_index(drop=True)], axis=1)
        judged_rows = table["actual_met"].notna() & table["met"].notna()
        table["model_right"] = pd.array(np.where(judged_rows, table["met"].fillna(False) == table["actual_met"]
                                                 .fillna(False), pd.NA), dtype="boolean")
        return table


def content(draft: dict) -> str:
    """A draft's levers and paths as canonical JSON: sorted keys, every number a float. The browser's JSON
    gives back 150 where the server wrote 150.0: the same draft, so the same key (its cached evaluation, its
    stamp)."""
    def canonical(value):
        if isinstance(value, dict):
            return {str(key): canonical(item) for key, item in value.items()}
        if isinstance(value, list):
            return [canonical(item) for item in value]
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    return json.dumps(canonical({"levers": draft.get("levers") or {}, "paths": draft.get("paths") or {}}),
                      sort_keys=True)


def _int_years(spec: dict) -> dict:
    """A lever spec with its path's years as numbers again."""
    if not isinstance(spec, dict) or not isinstance(spec.get("path"), dict):
        return spec
    return spec | {"path": {int(year) if str(year).isdigit() else year: value for year, value in spec["path"].items()}}


def _first_changed_year(scenario: scenarios.Scenario) -> int:
    """The first year whose numbers may differ from the baseline's: a lever's start year, or the last data
    year for an outlook (the model reads its table from that year's step on, and a flow saved in that year
    already shows it)."""
    starts = [lever.start for lever in scenario.levers.values()]
    if scenario.paths:
        starts.append(LAST_DATA_YEAR)
    return min([LAST_YEAR, *starts])


def _headlines() -> list[str]:
    from nxmfg.model.indicators import HEADLINES

    return list(HEADLINES)
