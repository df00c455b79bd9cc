"""Priors: one for every uncertain constant of the .mdl, each a proper distribution on its range."""

import numpy as np
import pytest
from scipy import integrate

from nxmfg.calibration import priors
from nxmfg.calibration.priors import Prior, PriorError

KINDS = [
    {"distribution": "normal", "mean": 0.5, "sd": 0.1, "range": [0.0, 1.0]},
    {"distribution": "truncated_normal", "mean": 0.2, "sd": 0.3, "range": [0.0, 1.0]},
    {"distribution": "lognormal", "median": 2.0, "sigma": 0.3, "range": [0.5, 10.0]},
    {"distribution": "uniform", "range": [-1.0, 3.0]},
    {"distribution": "triangular", "mode": 0.1, "range": [0.0, 0.4]},
    {"distribution": "beta", "a": 2.0, "b": 5.0, "range": [10.0, 20.0]},
]


@pytest.fixture(scope="module")
def constants():
    from nxmfg import model

    return model.constants()


def write_priors(path, parameters: dict) -> None:
    import yaml

    errors = {"variance_shape": 3, "rho": [-0.5, 0.9], "rho_points": 10, "level": {"scale": 0.05, "judgement": "x"},
              "rate": {"scale": 2.0, "judgement": "x"}}
    path.write_text(yaml.safe_dump({"seed": 1, "search": {}, "sampler": {}, "errors": errors,
                                    "parameters": parameters}), encoding="utf-8")


def prior(**entry) -> Prior:
    return Prior.model_validate({"role": "assumed", "judgement": "test", **entry})


def test_every_uncertain_constant_of_the_model_has_a_prior(constants):
    from nxmfg.scenarios import POLICY_LEVERS

    shipped = priors.load(constants=constants, levers=POLICY_LEVERS)
    assert shipped.missing(constants, POLICY_LEVERS) == []
    assert shipped.fitted and shipped.assumed
    assert not set(shipped.fitted) & set(shipped.assumed)


@pytest.mark.parametrize("entry", KINDS, ids=[k["distribution"] for k in KINDS])
def test_each_prior_is_a_density_on_its_range(entry):
    """The restricted density integrates to 1 over the range, and ppf inverts its integral."""
    p = prior(**entry)
    low, high = p.range
    total, _ = integrate.quad(lambda x: np.exp(p.logpdf(np.array([x]))[0]), low, high, limit=200)
    assert total == pytest.approx(1.0, abs=1e-6)
    for u in (0.05, 0.5, 0.9):
        x = p.ppf(np.array([u]))[0]
        below, _ = integrate.quad(lambda t: np.exp(p.logpdf(np.array([t]))[0]), low, x, limit=200)
        assert below == pytest.approx(u, abs=1e-6)
    assert p.logpdf(np.array([low - 1e-9, high + 1e-9])).tolist() == [-np.inf, -np.inf]


def test_samples_follow_the_prior_and_are_reproducible():
    file = priors.load()
    names = file.assumed[:5]
    first = file.sample(names, 20000, np.random.default_rng(3))
    again = file.sample(names, 20000, np.random.default_rng(3))
    assert all(np.array_equal(first[n], again[n]) for n in names)
    triangular = file.entries[names[0]]
    low, high = triangular.range
    assert triangular.distribution == "triangular"
    assert first[names[0]].mean() == pytest.approx((low + triangular.mode + high) / 3, rel=0.01)
    assert all(((file.entries[n].range[0] <= first[n]) & (first[n] <= file.entries[n].range[1])).all() for n in names)


def test_joint_logpdf_is_the_sum_of_the_marginals():
    file = priors.load()
    names = file.fitted[:4]
    X = file.ppf(names, np.full((1, 4), 0.3))
    expected = sum(file.entries[n].logpdf(X[:, j])[0] for j, n in enumerate(names))
    assert file.logpdf(names, X)[0] == pytest.approx(expected)


@pytest.mark.parametrize(("entry", "message"), [
    ({"distribution": "normal", "mean": 0.0, "sd": 1.0, "range": [0.0, 1.0]}, "write truncated_normal"),
    ({"distribution": "triangular", "mode": 2.0, "range": [0.0, 1.0]}, "mode 2 lies outside"),
    ({"distribution": "uniform", "mean": 1.0, "range": [0.0, 1.0]}, "takes only its range; got mean"),
    ({"distribution": "uniform", "range": [1.0, 0.0]}, "needs low < high"),
    ({"distribution": "cauchy", "range": [0.0, 1.0]}, "allowed"),
])
def test_a_bad_prior_is_refused_with_the_reason(tmp_path, entry, message):
    path = tmp_path / "priors.yaml"
    write_priors(path, {"loan_rate": {"role": "assumed", "judgement": "test", **entry}})
    with pytest.raises(PriorError) as error:
        priors.load(path)
    assert str(error.value).startswith(f"{path}: parameters.loan_rate")
    assert message in str(error.value)


def test_a_prior_needs_a_source_or_a_reason(tmp_path):
    path = tmp_path / "priors.yaml"
    write_priors(path, {"loan_rate": {"role": "assumed", "distribution": "uniform", "range": [4, 6]}})
    with pytest.raises(PriorError, match="exactly one of source"):
        priors.load(path)


def test_a_prior_outside_the_model_range_or_on_a_lever_is_refused(tmp_path, constants):
    path = tmp_path / "priors.yaml"
    write_priors(path, {"loan_rate": {"role": "assumed", "distribution": "uniform", "range": [1, 6], "judgement": "x"}})
    with pytest.raises(PriorError, match=r"parameters.loan_rate.range: \[1, 6\] leaves the .mdl's \[3, 9\]"):
        priors.load(path, constants)
    write_priors(path, {"key_projects_per_year": {"role": "assumed", "distribution": "uniform", "range": [0, 100],
                                                  "judgement": "x"}})
    with pytest.raises(PriorError, match="a policy lever"):
        priors.load(path, constants, levers=("key_projects_per_year",))
