"""The search machinery on problems whose answers are known: a front found, a killed search resumed."""

import numpy as np
import pytest

from nxmfg.optimization import analysis
from nxmfg.optimization.checkpoint import Checkpoint, CheckpointError
from nxmfg.optimization.search import DecisionSpace, Settings, search

VARIABLES = 5


def zdt1(X: np.ndarray) -> dict[str, np.ndarray]:
    """ZDT1 (Zitzler, Deb & Thiele 2000): f1 = x1, f2 = g (1 - sqrt(f1 / g)), g = 1 + 9 mean(x2..xn).
    Its Pareto front is f2 = 1 - sqrt(f1), f1 in [0, 1] (all other x = 0); f1 plays the cost."""
    f1 = X[:, 0]
    g = 1 + 9 * X[:, 1:].mean(axis=1)
    F = np.column_stack([f1, g * (1 - np.sqrt(f1 / g))])
    return {"F": F, "G": np.empty((len(X), 0)), "decoded": X.copy(), "cost": f1}


def settings(generations: int = 60, seed: int = 11) -> Settings:
    initial = np.random.default_rng(seed).uniform(size=(64, VARIABLES))
    return Settings(population=64, generations=generations, seed=seed, initial=initial)


def space() -> DecisionSpace:
    return DecisionSpace(np.zeros(VARIABLES), np.ones(VARIABLES), objectives=2, constraints=0)


def front(archive) -> np.ndarray:
    arrays = archive.arrays()
    return arrays["F"][analysis.pareto_indices(arrays)]


def test_the_search_finds_the_known_front_of_zdt1_within_a_stated_tolerance():
    """60 generations of 64 (the shipped study's sizes): every point of the front found lies within 0.03 of
    f2 = 1 - sqrt(f1), and the front spans f1 from 0 to 1 without a gap wider than 0.1 (NSGA-II reaches
    about 0.01 here; the tolerance leaves room without admitting a front that has not arrived)."""
    found = front(search(space(), zdt1, settings(), progress=False))
    assert len(found) >= 20
    np.testing.assert_array_less(np.abs(found[:, 1] - (1 - np.sqrt(found[:, 0]))), 0.03)
    f1 = np.sort(found[:, 0])
    assert f1[0] < 0.01
    assert f1[-1] > 0.99
    assert np.diff(f1).max() < 0.1


def test_a_short_search_is_still_far_from_the_front():
    """The tolerance above can fail: after 3 generations the front is still well off."""
    found = front(search(space(), zdt1, settings(generations=3), progress=False))
    assert np.abs(found[:, 1] - (1 - np.sqrt(found[:, 0]))).max() > 0.1


class Killed(Exception):
    """Stands for a kill during a generation's model runs."""


def dies_at(call: int):
    calls = []

    def evaluate(X):
        calls.append(1)
        if len(calls) == call:
            raise Killed
        return zdt1(X)
    return evaluate


def test_a_search_killed_mid_generation_resumes_to_the_front_of_an_uninterrupted_one(tmp_path):
    whole = search(space(), zdt1, settings(generations=12), progress=False)
    with pytest.raises(Killed):
        search(space(), dies_at(6), settings(generations=12), Checkpoint(tmp_path, "zdt1", resume=False), False)
    meta, _ = Checkpoint(tmp_path, "zdt1", resume=True).load()
    assert len(meta["archive_keys"]) == 5       # the five finished generations were kept, none lost
    resumed = search(space(), zdt1, settings(generations=12), Checkpoint(tmp_path, "zdt1", resume=True), False)
    assert len(resumed) == 12
    np.testing.assert_array_equal(front(resumed), front(whole))
    np.testing.assert_array_equal(resumed.arrays()["X"], whole.arrays()["X"])


def test_a_checkpoint_of_another_study_is_refused(tmp_path):
    search(space(), zdt1, settings(generations=2), Checkpoint(tmp_path, "one study", resume=False), False)
    with pytest.raises(CheckpointError, match="another study"):
        Checkpoint(tmp_path, "another", resume=True).load()


def test_a_damaged_checkpoint_gives_one_line_naming_the_file(tmp_path):
    search(space(), zdt1, settings(generations=2), Checkpoint(tmp_path, "zdt1", resume=False), False)
    whole = (tmp_path / "checkpoint.npz").read_bytes()
    (tmp_path / "checkpoint.npz").write_bytes(whole[:len(whole) // 2])
    with pytest.raises(CheckpointError) as error:
        Checkpoint(tmp_path, "zdt1", resume=True).load()
    assert str(tmp_path / "checkpoint.npz") in str(error.value)
    assert "\n" not in str(error.value)


def test_starting_afresh_removes_an_old_checkpoint(tmp_path):
    search(space(), zdt1, settings(generations=2), Checkpoint(tmp_path, "zdt1", resume=False), False)
    Checkpoint(tmp_path, "zdt1", resume=False)
    assert not (tmp_path / "checkpoint.npz").exists()
