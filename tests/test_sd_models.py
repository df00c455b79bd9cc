"""Independent check: SDXorg's test-models run through the ensemble path match their canonical output.

tests/sd_models/cases.csv sorts every Vensim case of SDXorg/test-models (regenerate it with
tests/sd_models/survey.py) into in_scope (run here with N = 2 copies, PySD's tolerances) and
refused (the engine must refuse them at load, naming the variable and the feature).
In-scope cases run on both paths: the compiled one (C generated from the translation) must give PySD's
own run to 1e-12 (issue 23), and the few it cannot compile must fall back to numpy, naming the variable.
"""

import csv
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pysd
import pytest
import xarray as xr
from pysd.tools.benchmarking import detect_encoding, load_outputs

from nxmfg.model.engine.batch import time_axis_inputs
from nxmfg.model.engine.transform import UnsupportedFeature
from nxmfg.model.ensemble import run_translated

CASES = Path(__file__).with_name("sd_models")
# In-scope cases the compiled path refuses (the numpy path runs them): a time axis that moves during the
# run, and a SMOOTH N whose order is a variable. The refusal names the Vensim variable.
NOT_COMPILED = {"tests/control_vars": "INITIAL TIME", "tests/dynamic_final_time": "FINAL TIME",
                "tests/smooth": "Smooth N output"}
COPIES = 2
TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}  # PySD's assert_frames_close defaults, used by its own suite


def _survey() -> list[dict[str, str]]:
    path = CASES / "cases.csv"
    if not path.exists():  # only while survey.py is writing it for the first time
        return []
    with path.open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


SURVEY = _survey()
IN_SCOPE = [row["case"] for row in SURVEY if row["status"] == "in_scope"]
REFUSED = {row["case"]: row["reason"] for row in SURVEY if row["status"] == "refused"}
REFUSED_COPIES = sorted(case for case in REFUSED if (CASES / case).is_dir())
STATUSES = {"in_scope", "refused", "pysd_mismatch", "not_vensim"}


def canonical(case: Path) -> pd.DataFrame:
    """The case's canonical output; Vensim leaves constants blank after the first row."""
    output = next(case / f for f in ("output.csv", "output.tab") if (case / f).exists())
    canon = load_outputs(str(output), encoding=detect_encoding(str(output)))
    constant = canon.iloc[1:].isna().all()
    canon.loc[:, constant] = canon.loc[:, constant].ffill()
    return canon


def assert_matches(actual: pd.DataFrame, canon: pd.DataFrame, label: str) -> None:
    """PySD's criterion |actual - canon| <= atol + rtol |canon| on the canonical times."""
    columns = [c for c in canon.columns if c in actual.columns]
    if not columns:
        raise ValueError(f"{label}: no canonical column is a model variable")
    actual = actual.reindex(canon.index, method="nearest", tolerance=1e-3)  # canon rounds times
    for column in columns:
        np.testing.assert_allclose(actual[column].to_numpy(float), canon[column].to_numpy(float),
                                   **TOLERANCE, err_msg=f"{label}: {column}")


def compare_with_canon(py_file: str | Path, engine: str = "numpy") -> xr.Dataset:
    """Every constant is passed as an array of COPIES equal values, so the runs travel as arrays."""
    economy = pysd.load(py_file)
    doc = economy.doc.set_index("Py Name")
    control = {"initial_time", "final_time", "time_step", "saveper"}
    constants = [n for n in doc.index[(doc["Type"] == "Constant") & (doc["Subtype"] == "Normal")]
                 if n not in control]
    fixed = time_axis_inputs(economy)  # the time axis must be the same for all runs
    params = {name: float(getattr(economy.components, name)()) for name in constants}
    params = {name: v if name in fixed else np.full(COPIES, v) for name, v in params.items()}
    runs = run_translated(py_file, params, COPIES, workers=1, progress=False, engine=engine)
    canon = canonical(Path(py_file).parent)
    names = {c: economy.namespace[c] for c in canon.columns if economy.namespace.get(c) in runs}
    for run in range(COPIES):
        actual = pd.DataFrame({c: runs[name].isel(run=run).to_numpy() for c, name in names.items()},
                              index=runs["year"].to_numpy())
        assert_matches(actual, canon, f"{Path(py_file).stem} run {run}")
    return runs


def _translate(case: str, tmp_path: Path) -> str:
    copy = shutil.copytree(CASES / case, tmp_path / Path(case).name)
    (mdl,) = Path(copy).glob("*.mdl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pysd.read_vensim(mdl).py_model_file


def test_the_survey_sorts_every_case_and_gives_each_refusal_a_reason():
    assert len(SURVEY) > 150, "cases.csv should list every case of SDXorg/test-models"
    assert {row["status"] for row in SURVEY} <= STATUSES
    assert all(reason.startswith("variable '") for reason in REFUSED.values())
    assert {"tests/smooth", "tests/delay_fixed", "tests/xidz_zidz", "tests/lookups", "tests/if_stmt",
            "tests/initial_function", "samples/teacup"} <= set(IN_SCOPE)
    assert all((CASES / case).is_dir() for case in IN_SCOPE), "every in-scope case is copied here"


@pytest.mark.parametrize("case", IN_SCOPE)
def test_in_scope_case_matches_its_canonical_output_with_two_runs(case, tmp_path):
    runs = compare_with_canon(_translate(case, tmp_path), engine="numpy")
    assert runs.attrs["engine"] == "numpy"


@pytest.mark.parametrize("case", IN_SCOPE)
def test_in_scope_case_on_the_compiled_path_equals_pysd_to_1e_12(case, tmp_path):
    """Every variable at every saved time within 1e-12 of PySD's own run (relative; absolute near 0),
    and within the canonical output's tolerance; or, where the compiled path refuses the model, the numpy
    path runs it and the result names the variable."""
    py_file = _translate(case, tmp_path)
    runs = compare_with_canon(py_file, engine="auto")
    if case in NOT_COMPILED:
        assert runs.attrs["engine"] == "numpy"
        assert f"variable {NOT_COMPILED[case]!r}" in runs.attrs["engine_note"]
        return
    assert runs.attrs["engine"] == "compiled", runs.attrs.get("engine_note")
    economy = pysd.load(py_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = economy.run()
    times = runs["year"].to_numpy().astype(float)
    plain = plain.loc[[t for t in plain.index if np.isclose(times, t, atol=1e-9).any()]]
    assert len(plain) == len(times), "PySD and the compiled path save at different times"
    for column in plain.columns:
        name = economy.namespace.get(column)
        if name not in runs:
            continue
        expected = plain[column].to_numpy(float)
        for run in range(COPIES):
            np.testing.assert_allclose(runs[name].isel(run=run).to_numpy(), expected, rtol=1e-12, atol=1e-300,
                                       err_msg=f"{case}: {column}")


@pytest.mark.parametrize("case", REFUSED_COPIES)
def test_unsupported_case_is_refused_at_load_naming_the_variable(case, tmp_path):
    py_file = _translate(case, tmp_path)
    first = REFUSED[case].split("; ")[0]  # "variable 'X' uses FEATURE"
    with pytest.raises(UnsupportedFeature, match=re.escape(first)):
        run_translated(py_file, {}, 2, workers=1, progress=False)
