"""A study from start to finish: sample -> evaluate (in resumable chunks) -> analyse -> write outputs.

Output folder:
  chunks/            finished chunks + manifest (fingerprint), for --resume
  samples.npz        X, outcomes, met, series: enough to redo the analysis without rerunning
  metadata.json      model version, study, seed, method, fingerprint, timing
  indices.csv        outcome, parameter, S1, S1_conf, ST, ST_conf    (sobol)
  second_order.csv   outcome, parameter, other, S2, S2_conf          (sobol, second order on)
  convergence.csv    S1 and ST at N/4, N/2, N                         (sobol)
  time_resolved.csv  parameter, indicator, year, ST                   (sobol, model outcomes)
  target_odds.csv, regional_sensitivity.csv, prim_boxes.csv           (sobol, target outcomes)
  morris.csv                                                          (morris)
  *.png, summary.md

The results are written into a staging folder and moved in at the end (model.files.staged_output);
from the first chunk to the last result `INCOMPLETE` marks the folder, so that results of an older
study are never taken for this one's.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import ValidationError

from nxmfg.model.files import check_writable, is_complete, staged_output
from nxmfg.model.input_files import check_input_file, read_text

from . import analysis, odds, plots, report
from .chunks import ChunkStore, atomic_path, evaluate_in_chunks, save_npz
from .study import Study, read

KEEP = ("chunks", "samples.npz", "metadata.json")   # inputs of --analyse-only, never removed as stale


def run_study(study: Study, evaluate: Callable, out: Path, method: str = "sobol", resume: bool = False,
              chunk_rows: int = 65536, progress: bool = True, context: dict | None = None) -> dict:
    """Sample, evaluate and analyse `study`; write everything to `out`; return the tables.

    Parameters
    ----------
    evaluate : rows of X (runs, D) -> outcomes (runs, K), or a dict with `outcomes`, `met`
        (1 met / 0 missed / NaN not a target) and `series` (runs, S, T). It may carry
        `series_names` and `series_years` attributes labelling the series.
    chunk_rows : sample rows per saved chunk (a resumed study keeps the layout it started with).
    context : what else the results depend on (model version, scenario); recorded and fingerprinted.
    """
    out = Path(out)
    context = context or {}
    fingerprint = study.fingerprint(method=method, **context)
    X = analysis.sample(study, method)
    check_writable(out, "sensitivity")
    store = ChunkStore(out / "chunks", fingerprint, len(X), chunk_rows, resume)   # refuses a wrong --resume first
    with staged_output(out, "sensitivity", keep=KEEP, incomplete_from_start=True) as stage:
        started = time.perf_counter()
        evaluation = evaluate_in_chunks(X, evaluate, store, progress)
        seconds = time.perf_counter() - started
        outcomes = evaluation["outcomes"]
        screen = getattr(evaluate, "plausible", None) if method == "sobol" and study.state_columns else None
        arrays = {} if screen is None else {"plausible": _plausible(study, X, screen, progress)}
        arrays |= {"X": X, "outcomes": outcomes,
                  "met": evaluation.get("met", np.full(outcomes.shape, np.nan)),
                  "series": evaluation.get("series", np.empty((len(X), 0, 0))),
                  "series_names": np.array(getattr(evaluate, "series_names", []), dtype=str),
                  "series_years": np.array(getattr(evaluate, "series_years", []), dtype=int)}
        save_npz(stage / "samples.npz", arrays)
        metadata = {"study": study.model_dump(mode="json"), "method": method, "fingerprint": fingerprint,
                    "seed": study.seed, "samples": study.samples, "runs": len(X),
                    "parameters": list(study.parameters), "factors": study.factors,
                    "outcomes": [o.label for o in study.outcomes],
                    "evaluation_seconds": round(seconds, 3), "chunk_rows": store.chunk_rows,
                    "salib": version("SALib"), "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    **context}
        _write_text(stage / "metadata.json", json.dumps(metadata, indent=1, ensure_ascii=False))
        return _analyse(stage, stage)


def _plausible(study: Study, X: np.ndarray, screen: Callable, progress: bool) -> np.ndarray:
    """True for each row of X whose state of the world passes the reality checks, screened on the rows the
    odds read (A and B); the others are not read and stay True."""
    independent = analysis.independent_rows(study, len(X))
    if progress:
        print(f"screening the states of {len(independent)} independent rows on the reality checks", flush=True)
    kept = np.ones(len(X), dtype=bool)
    kept[independent] = screen(X[independent])
    return kept


def analyse(out: Path) -> dict:
    """Redo the analysis from `out/samples.npz` and `out/metadata.json` (no model runs)."""
    out = Path(out)
    if not (out / "metadata.json").exists() or not (out / "samples.npz").exists():
        raise ValueError(f"{out}: no samples.npz and metadata.json to analyse; run the study first")
    if not is_complete(out):
        raise ValueError(f"{out}: marked INCOMPLETE by an interrupted study; run it again (with --resume)")
    with staged_output(out, "sensitivity", keep=KEEP) as stage:
        return _analyse(out, stage)


def _analyse(source: Path, out: Path) -> dict:
    """The analysis of source/samples.npz and source/metadata.json, written to `out`."""
    metadata, study, arrays = _saved(source)
    labels = [o.label for o in study.outcomes]
    if metadata["method"] == "morris":
        tables = {"morris": analysis.morris_indices(study, arrays["X"], arrays["outcomes"], labels)}
        _write_figure(out / "morris.png", plots.morris_figure(tables["morris"]))
    else:
        tables = _sobol_tables(study, arrays, labels)
        _write_figure(out / "indices.png", plots.indices_figure(tables["indices"]))
        for lang, name in (("zh", "st_heatmap.png"), ("en", "st_heatmap.en.png")):   # zh: what a planner reads
            _write_figure(out / name, _heatmap(tables["indices"], len(labels), len(study.factors), lang))
        if not tables["time_resolved"].empty:
            _write_figure(out / "st_over_time.png", plots.time_resolved_figure(tables["time_resolved"]))
    for name, table in tables.items():
        if not table.empty or name == "unsettled":
            _write_text(out / f"{name}.csv", table.to_csv(index=False))
    _write_text(out / "summary.md", report.summary(study, metadata, tables))
    _write_text(out / "summary.zh.md", report.summary_zh(study, metadata, tables))
    return tables


def _saved(source: Path) -> tuple[dict, Study, dict[str, np.ndarray]]:
    """metadata.json, its study and samples.npz; a damaged file gives one line naming it."""
    path = source / "metadata.json"
    try:
        metadata = json.loads(read_text(path, "manifest"))
        study = Study.model_validate(metadata["study"])
        method = metadata["method"]
    except (OSError, ValueError, KeyError, TypeError) as error:   # JSON and pydantic errors are ValueErrors
        problem = error.errors()[0]["msg"] if isinstance(error, ValidationError) else error
        raise ValueError(f"{path}: unreadable ({problem}); run the study again") from None
    if method not in ("sobol", "morris"):
        raise ValueError(f"{path}: method {method!r} is not sobol or morris; run the study again")
    path = source / "samples.npz"
    try:
        check_input_file(path, "samples")                    # a regular file within its size limit
        with np.load(path, allow_pickle=False) as saved:     # results, not code: no Python objects
            arrays = {key: saved[key] for key in saved.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path}: unreadable ({error}); run the study again") from None
    missing = sorted({"X", "outcomes", "met", "series", "series_names", "series_years"} - set(arrays))
    if missing:
        raise ValueError(f"{path}: no array {missing[0]!r}; run the study again")
    return metadata, study, arrays


def check_scheduler(address: str, seconds: float = 10) -> None:
    """Check a Dask scheduler address before any work: its form, and for tcp/tls that something listens.

    A plain socket, not a distributed.Client: a Client that fails to connect leaves objects whose
    finalizers print tracebacks at exit, and would make itself dask's default scheduler.
    """
    import socket

    try:
        from distributed.comm import parse_address, parse_host_port
        from distributed.comm.registry import backends
    except ImportError:
        raise ValueError(f"--scheduler {address}: needs Dask, which is not installed; install the extra "
                         "`cluster`: pip install 'nxmfg[cluster]' (in a checkout: pip install -e '.[cluster]')"
                         ) from None

    try:
        scheme, location = parse_address(address)
        if scheme not in backends:
            raise ValueError(f"unknown scheme {scheme!r}; known: {', '.join(sorted(backends))}")
        if scheme in ("tcp", "tls"):
            socket.create_connection(parse_host_port(location), timeout=seconds).close()
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(f"--scheduler {address}: no Dask scheduler there ({error})") from None


def _sobol_tables(study: Study, arrays: dict, labels: list[str]) -> dict[str, pd.DataFrame]:
    indices, second = analysis.sobol_indices(study, arrays["outcomes"], labels)
    converged = analysis.convergence(study, arrays["outcomes"], labels)
    series, names = arrays["series"], list(arrays["series_names"])
    tables = {"indices": indices, "convergence": converged, "unsettled": analysis.unsettled(converged),
              "time_resolved": analysis.time_resolved(study, series, names, list(arrays["series_years"]))
              if names else pd.DataFrame(columns=["parameter", "indicator", "year", "ST"])}
    if study.second_order:
        tables["second_order"] = second
    independent = analysis.independent_rows(study, len(arrays["X"]))
    # the odds are over the states the reality checks keep, as on every surface (calibration/plausible.py)
    kept = independent[arrays["plausible"][independent]] if "plausible" in arrays else independent
    X, met, parameters = arrays["X"][kept], arrays["met"][kept], list(study.parameters)
    if np.isfinite(met).any():
        screened = (len(kept), len(independent)) if "plausible" in arrays else None
        tables["target_odds"] = odds.probabilities(met, labels, odds.label(study, len(X), screened))
        tables["regional_sensitivity"] = odds.regional_sensitivity(X, met, labels, parameters)
        tables["prim_boxes"] = odds.prim_boxes(X, met, labels, parameters, list(study.levers))
    return tables


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def _heatmap(indices: pd.DataFrame, outcomes: int, parameters: int, lang: str) -> Figure:
    from nxmfg.model.plots import style

    with style(lang):
        figure = Figure(figsize=(3 + 0.6 * outcomes, 2.5 + 0.3 * parameters), layout="constrained")
        plots.plot_heatmap(indices, figure.subplots(), lang=lang)
    return figure


def _write_figure(path: Path, figure: Figure) -> None:
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100)


def run_file(path: Path, out: Path, method: str = "sobol", resume: bool = False, scheduler: str | None = None,
             chunk_rows: int = 65536) -> dict:
    """Run the study file `path` on the model through the ensemble engine (see run_study)."""
    check_writable(out, "sensitivity")                 # a bad --out costs nothing
    read(path)                           # shape errors come first, without importing the model
    if scheduler is not None:
        check_scheduler(scheduler)
    from .evaluate import for_model  # imports the model: keep the pure machinery importable without it

    study, evaluator, context = for_model(path, scheduler)
    return run_study(study, evaluator, out, method, resume, chunk_rows, progress=True, context=context)
