"""The command line's tests for the number of classes: ``--vlmr`` and ``--blrt B``.

The tests themselves are checked in tests/test_inference_vlmr.py and
tests/test_inference_bootstrap.py; here, that the command runs exactly them on
the models it fits, and shows their results.
"""

import json

import numpy as np
import pytest

from skcoinmix import BernoulliMixtureEM
from skcoinmix.cli import main
from skcoinmix.inference import bootstrap_lrt, vlmr_test

SEED = 3
TOL = 1e-8
N_INIT = 3


def planted(rng, n_samples=120):
    """Two well-separated classes of six binary items."""
    classes = rng.integers(2, size=n_samples)
    probs = np.where(classes[:, np.newaxis] == 0, 0.15, 0.85)
    return (rng.random((n_samples, 6)) < probs).astype(np.float64)


def write_csv(path, X, weights=None):
    header = [f"q{j}" for j in range(X.shape[1])] + ([] if weights is None else ["n"])
    lines = [",".join(header)]
    for index, row in enumerate(X):
        cells = [str(int(v)) for v in row]
        if weights is not None:
            cells.append(repr(float(weights[index])))
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def argv(path, components, *extra):
    return [
        "fit", path, "--n-components", components, "--n-init", str(N_INIT),
        "--random-state", str(SEED), "--tol", str(TOL), *extra,
    ]  # fmt: skip


def fitted(X, n_components):
    """The estimator the command builds for a file of 0/1 answers."""
    return BernoulliMixtureEM(
        n_components, n_init=N_INIT, tol=TOL, max_iter=5000, random_state=SEED
    ).fit(X)


def test_vlmr_and_blrt_are_those_of_the_fitted_models(rng, tmp_path, capsys):
    X = planted(rng)
    path = write_csv(tmp_path / "x.csv", X)
    assert main(argv(path, "1-2", "--vlmr", "--blrt", "9", "--json")) == 0
    output = json.loads(capsys.readouterr().out)
    assert output[0]["class_number_tests"] is None  # nothing to test at K = 1
    tests = output[1]["class_number_tests"]
    est = fitted(X, 2)
    vlmr = vlmr_test(est, X, random_state=SEED)
    # The same models from the same numbers: equal up to the order of sums.
    assert tests["vlmr_statistic"] == pytest.approx(vlmr.statistic, rel=1e-9)
    assert tests["vlmr_pvalue"] == pytest.approx(vlmr.pvalue, rel=1e-6, abs=1e-12)
    assert tests["lmr_adjusted_pvalue"] == pytest.approx(
        vlmr.adjusted_pvalue, rel=1e-6, abs=1e-12
    )
    blrt = bootstrap_lrt(est, X, n_bootstrap=9, random_state=SEED)
    assert tests["blrt_statistic"] == pytest.approx(blrt.statistic, rel=1e-9)
    # Planted, well-separated classes: no replicate comes near T, on either
    # side, so the discrete p-values agree exactly: the smallest, 1 / (B + 1).
    assert tests["blrt_pvalue"] == blrt.pvalue == pytest.approx(0.1)
    assert tests["blrt_replicates"] == 9


def test_the_comparison_table_shows_the_p_values(rng, tmp_path, capsys):
    path = write_csv(tmp_path / "x.csv", planted(rng))
    assert main(argv(path, "1-2", "--vlmr")) == 0
    text = capsys.readouterr().out
    header = next(line for line in text.splitlines() if line.startswith("K "))
    assert "VLMR p" in header and "adj. LMR p" in header
    assert "BLRT p" not in header  # only the tests asked for
    assert main(argv(path, "1-2")) == 0
    assert "VLMR p" not in capsys.readouterr().out


def test_a_single_model_prints_its_tests(rng, tmp_path, capsys):
    path = write_csv(tmp_path / "x.csv", planted(rng))
    assert main(argv(path, "2", "--blrt", "4")) == 0
    text = capsys.readouterr().out
    assert "Tests of 1 against 2 classes" in text
    assert "parametric bootstrap LR =" in text and "(4 replicates)" in text


def test_blrt_refuses_fractional_weights(rng, tmp_path, capsys):
    X = planted(rng, 40)
    path = write_csv(tmp_path / "x.csv", X, weights=np.full(len(X), 1.5))
    status = main(argv(path, "2", "--weights-column", "n", "--blrt", "4"))
    assert status == 2
    assert "cannot test 1 against 2 classes" in capsys.readouterr().err


def test_blrt_needs_a_positive_number_of_replicates(tmp_path, capsys):
    path = write_csv(tmp_path / "x.csv", np.eye(3))
    with pytest.raises(SystemExit):
        main(argv(path, "2", "--blrt", "0"))
    assert "--blrt" in capsys.readouterr().err
