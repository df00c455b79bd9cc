"""Optimisation study files: the shipped one is valid and looks ahead; every bad one gets one line naming
file and field, before any model run and without touching --out."""

import copy
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from nxmfg import cli
from nxmfg.api.optimization import prepare
from nxmfg.optimization import study

SHIPPED = Path(study.__file__).with_name("packages_2027.yaml")
GOOD = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def test_the_shipped_study_looks_ahead_at_document_d():
    setup = prepare(SHIPPED)
    assert setup.study.levers_from == 2024
    assert {t.doc for t in setup.targets} == {"D"}
    assert all(t.year > study.LAST_DATA_YEAR for t in setup.targets)
    modelled_d = {t.id for t in setup.modelled if t.doc == "D"}
    assert {t.id for t in setup.targets} == modelled_d          # every modelled target still ahead
    assert setup.states.count == 256                             # the tool's states of the world
    assert setup.study.population * setup.study.generations * setup.states.count >= 240_000


def changed(edit) -> dict:
    data = copy.deepcopy(GOOD)
    edit(data)
    return data


def setting(*keys_and_value):
    *keys, value = keys_and_value

    def edit(data):
        for key in keys[:-1]:
            data = data[key]
        data[keys[-1]] = value
    return edit


LEVER = "tech_upgrade_subsidy_rate"
# (case, edit of the shipped study, the field the message must name, a word it must contain)
BAD = [
    ("unknown key", setting("generationz", 3), "generationz", "unknown key"),
    ("string for a number", setting("population", "8"), "population", "valid integer"),
    ("NaN", setting("budget_cap", float("nan")), "budget_cap", "finite"),
    ("bool for a number", setting("seed", True), "seed", "valid integer"),
    ("negative seed", setting("seed", -1), "seed", "greater than"),
    ("absurd population", setting("population", 10**9), "population", "less than"),
    ("absurd states", setting("states", {"count": 10**7}), "states.count", "less than"),
    ("too many runs a generation", setting("states", {"count": 4096}), "", "runs per generation"),
    ("absurd generations", setting("generations", 10**6), "generations", "less than"),
    ("lever range beyond the .mdl's", setting("levers", LEVER, {"range": [0, 0.5]}), f"levers.{LEVER}.range",
     "[0, 0.2]"),
    ("lever range reversed", setting("levers", LEVER, {"range": [0.2, 0.1]}), f"levers.{LEVER}", "must not exceed"),
    ("lever range of one point", setting("levers", LEVER, {"range": [0.1, 0.1]}), f"levers.{LEVER}", "below high"),
    ("misspelt lever", setting("levers", "tech_upgrade_subsidy_rat", {"range": [0, 0.1]}),
     "levers.tech_upgrade_subsidy_rat", "did you mean tech_upgrade_subsidy_rate"),
    ("unknown lever key", setting("levers", LEVER, {"range": [0, 0.1], "from": 2024}), f"levers.{LEVER}.from",
     "unknown key"),
    ("ramp beyond 2035", setting("levers", LEVER, {"range": [0, 0.1], "start": [2034, 2035], "ramp": [0, 3]}),
     f"levers.{LEVER}", "after 2035"),
    ("start before levers_from", setting("levers_from", 2025), "", ""),
    ("unknown target", setting("targets", "D-sei-shares", 1), "targets.D-sei-shares", "did you mean D-sei-share"),
    ("past target", setting("targets", "B-sei-share", 1), "targets.B-sei-share", "history"),
    ("target out of scope", setting("targets", "D-informatisation-index", 1), "targets.D-informatisation-index",
     "not modelled"),
    ("zero weight", setting("targets", "D-sei-share", 0), "targets.D-sei-share", "greater than 0"),
    ("levers from 2040", setting("levers_from", 2040), "levers_from", "less than or equal to 2035"),
    ("levers from the past", setting("levers_from", 2021), "levers_from", "greater than or equal to 2024"),
    ("odds above one", setting("met_odds", 1.5), "met_odds", "less than or equal to 1"),
    ("unknown objective", setting("objective", "profit"), "objective", "targets_met"),
    ("outlooks in a study", setting("states", {"count": 8, "outlooks": {}}), "states.outlooks", "unknown key"),
    ("no levers", setting("levers", {}), "levers", "at least 1"),
    ("states without a count", setting("states", {}), "states.count", "required"),
    ("missing targets file", setting("targets_file", "nowhere.yaml"), "targets_file", "no such targets file"),
]


def write(tmp_path: Path, data, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run_cli(path: Path, out: Path):
    return CliRunner().invoke(cli.main, ["optimize", str(path), "--out", str(out), "--lang", "en"])


def assert_one_line_error(result, path: Path, field: str, word: str, out: Path) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    message = result.output.strip()
    assert "\n" not in message, message
    assert message.startswith(f"Error: {path}"), message
    assert field in message, message
    assert word in message, message
    assert not out.exists(), "a refused study must not create --out"


@pytest.mark.parametrize(("case", "edit", "field", "word"), BAD, ids=[row[0] for row in BAD])
def test_a_bad_study_file_gets_one_line_naming_file_and_field(tmp_path, case, edit, field, word):
    if case == "start before levers_from":
        edit = setting("levers", LEVER, {"range": [0, 0.1], "start": [2024, 2026]})
        data = changed(setting("levers_from", 2025))
        edit(data)
        field, word = f"levers.{LEVER}.start", "before levers_from"
    else:
        data = changed(edit)
    path = write(tmp_path, data)
    assert_one_line_error(run_cli(path, tmp_path / "out"), path, field, word, tmp_path / "out")


RAW = [
    ("duplicate key", "seed: 1\nseed: 2\n", "", "duplicate key 'seed'"),
    ("not YAML", "levers: [\n", "", "not valid YAML"),
    ("not a mapping", "- 1\n- 2\n", "", "expected a mapping"),
    ("not UTF-8", "name: \xff\xfe\n", "", "not UTF-8"),
]


@pytest.mark.parametrize(("case", "text", "field", "word"), RAW, ids=[row[0] for row in RAW])
def test_a_malformed_study_file_gets_one_line(tmp_path, case, text, field, word):
    path = tmp_path / "study.yaml"
    path.write_bytes(text.encode("latin-1"))
    assert_one_line_error(run_cli(path, tmp_path / "out"), path, field, word, tmp_path / "out")


def test_a_huge_study_file_is_refused_unread(tmp_path):
    path = tmp_path / "study.yaml"
    with open(path, "wb") as handle:
        handle.truncate(50 * 2**20)               # 50 MB of nothing: refused by its size
    assert_one_line_error(run_cli(path, tmp_path / "out"), path, "", "at most", tmp_path / "out")


def test_a_target_beyond_2035_in_the_study_targets_file_names_that_file(tmp_path):
    own = [{"id": "U-sei-2040", "doc": "U", "clause": "x", "target": "x", "year": 2040,
            "indicator": "strategic_emerging_share_of_above_scale_industry_pct", "measure": "level",
            "threshold": 30, "direction": "at_least", "kind": "modelled"}]
    targets = write(tmp_path, own, "mine.yaml")
    path = write(tmp_path, changed(setting("targets_file", "mine.yaml")))
    assert_one_line_error(run_cli(path, tmp_path / "out"), targets, "U-sei-2040.year", "2035", tmp_path / "out")


def test_an_out_folder_under_a_file_is_refused_before_any_search(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    small = changed(setting("generations", 1))
    path = write(tmp_path, small)
    result = run_cli(path, blocker / "out")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert str(blocker / "out") in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_look_ahead_sobol_study_ranks_levers_from_2024_on_ds_2027_targets():
    from nxmfg.sensitivity.evaluate import for_model

    sobol, evaluator, _ = for_model(Path(study.__file__).parents[1] / "sensitivity" / "levers_2027.yaml")
    assert sobol.levers_from == 2024
    # the climate plan's CO2 row: an outcome here, a quota (not a target) of the package study
    assert {t.id for t in evaluator.targets} == {t.id for t in prepare(SHIPPED).targets} | {"CP-co2-intensity"}
    assert set(sobol.levers) == set(GOOD["levers"])
