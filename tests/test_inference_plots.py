"""The plots of skcoinmix.inference, checked on their artists (Agg backend)."""

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")  # the test extra installs it
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402

from skcoinmix import (  # noqa: E402
    BernoulliMixtureEM,
    BinomialMixtureEM,
    CategoricalMixtureEM,
    fit_report,
)
from skcoinmix.datasets import load_lca_example  # noqa: E402
from skcoinmix.inference import (  # noqa: E402
    plot_information_criteria,
    plot_profile,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def stouffer_toby():
    patterns, counts = load_lca_example("stouffer_toby", as_patterns=True)
    est = BernoulliMixtureEM(2, n_init=3, random_state=0).fit(
        patterns, sample_weight=counts
    )
    return est, patterns, counts


def bars(ax):
    """The BarContainers of ``ax`` (error bars add ErrorbarContainers)."""
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def bar_heights(container):
    return np.array([patch.get_height() for patch in container.patches])


def error_half_lengths(container):
    """Half the length of each error bar of a BarContainer drawn with yerr."""
    segments = container.errorbar.lines[2][0].get_segments()
    return np.array([(top[1] - bottom[1]) / 2 for bottom, top in segments])


def test_bernoulli_profile_bars_and_error_bars(stouffer_toby):
    est, _, _ = stouffer_toby
    se = np.array([[0.01, 0.02, 0.03, 0.04], [0.05, 0.06, 0.07, 0.08]])
    ax = plot_profile(est, se=se)
    assert len(bars(ax)) == 2  # one per class
    for k, container in enumerate(bars(ax)):
        assert len(container.patches) == 4  # one bar per item
        np.testing.assert_allclose(bar_heights(container), est.means_[k])
        np.testing.assert_allclose(error_half_lengths(container), se[k])
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        f"item {j}" for j in range(4)
    ]
    labels = ax.get_legend_handles_labels()[1]
    assert labels == [f"class {k + 1} ({w:.0%})" for k, w in enumerate(est.weights_)]
    assert ax.get_ylabel() == "Pr(item = 1 | class)"


def test_standard_errors_object_with_probs(stouffer_toby):
    est, _, _ = stouffer_toby
    se = SimpleNamespace(probs=np.full((2, 4), 0.05), weights=np.zeros(2))
    ax = plot_profile(est, se=se)
    np.testing.assert_allclose(error_half_lengths(bars(ax)[1]), 0.05)


def test_no_error_bars_without_se(stouffer_toby):
    est, _, _ = stouffer_toby
    ax = plot_profile(est)
    assert all(container.errorbar is None for container in bars(ax))


def test_class_order_by_size(stouffer_toby):
    est, _, _ = stouffer_toby
    order = np.argsort(-est.weights_)
    ax = plot_profile(est, class_order="size")
    for rank, k in enumerate(order):
        np.testing.assert_allclose(bar_heights(bars(ax)[rank]), est.means_[k])
    assert ax.get_legend_handles_labels()[1][0].startswith(
        f"class 1 ({est.weights_.max():.0%})"
    )


def test_categorical_profile_one_bar_per_category_and_class(rng):
    X = np.column_stack(
        [rng.choice(["a", "b", "c"], 80), rng.choice(["x", "y"], 80)]
    ).astype(object)
    est = CategoricalMixtureEM(3, random_state=0).fit(X)
    se = [np.full((3, 3), 0.02), np.full((3, 2), 0.03)]
    _, given = plt.subplots()
    ax = plot_profile(est, se=se, ax=given)
    assert ax is given
    assert len(bars(ax)) == 3
    for k, container in enumerate(bars(ax)):
        assert len(container.patches) == 5  # 3 + 2 categories
        np.testing.assert_allclose(
            bar_heights(container), np.concatenate([p[k] for p in est.probs_])
        )
        np.testing.assert_allclose(
            error_half_lengths(container), [0.02] * 3 + [0.03] * 2
        )
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "x", "y"]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["item 0", "item 1"]
    assert ax.get_ylabel() == "Pr(item = category | class)"


def test_binomial_profile_plots_success_probabilities(rng):
    X = rng.integers(0, 4, size=(40, 3))
    est = BinomialMixtureEM(2, n_trials=3, random_state=0).fit(X)
    ax = plot_profile(est)
    np.testing.assert_allclose(bar_heights(bars(ax)[0]), est.means_[0])
    assert ax.get_ylabel() == "success probability per trial"


@pytest.mark.parametrize(
    "se",
    [
        np.zeros((2, 3)),
        np.zeros(4),
        [np.zeros((2, 4))],
        -np.ones((2, 4)),
        np.full((2, 4), np.nan),
    ],
)
def test_profile_refuses_misshapen_se(stouffer_toby, se):
    est, _, _ = stouffer_toby
    with pytest.raises(ValueError, match="se must"):
        plot_profile(est, se=se)


def test_categorical_profile_refuses_misshapen_se(rng):
    X = rng.integers(0, 3, size=(30, 2))
    est = CategoricalMixtureEM(2, random_state=0).fit(X)
    for se in (
        np.zeros((2, 2)),
        [np.zeros((2, 3))],
        [np.zeros((2, 3)), np.zeros((2, 2))],
    ):
        with pytest.raises(ValueError, match="se must be shaped"):
            plot_profile(est, se=se)


def test_information_criteria_from_fitted_estimators(stouffer_toby):
    _, patterns, counts = stouffer_toby
    fits = [
        BernoulliMixtureEM(K, n_init=3, random_state=0).fit(
            patterns, sample_weight=counts
        )
        for K in (3, 1, 2)
    ]
    criteria = ("aic", "bic", "sabic", "caic", "icl_bic")
    ax = plot_information_criteria(
        fits, patterns, sample_weight=counts, criteria=criteria
    )
    reports = {
        est.n_components: fit_report(est, patterns, sample_weight=counts)
        for est in fits
    }
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert [line.get_label() for line in lines] == [
        "AIC",
        "BIC",
        "SABIC",
        "CAIC",
        "ICL-BIC",
    ]
    for name, line in zip(criteria, lines, strict=True):
        assert line.get_xdata().tolist() == [1, 2, 3]
        expected = [getattr(reports[K], name) for K in (1, 2, 3)]
        np.testing.assert_allclose(line.get_ydata(), expected)
    # The smallest of each criterion is circled, in its colour.
    circles = [line for line in ax.get_lines() if line.get_label() == "_nolegend_"]
    for line, circle in zip(lines, circles, strict=True):
        best = np.argmin(line.get_ydata())
        assert circle.get_xdata()[0] == line.get_xdata()[best]
        assert circle.get_color() == line.get_color()
    assert ax.get_xlabel() == "number of classes"


def test_information_criteria_refit_one_estimator(stouffer_toby):
    _, patterns, counts = stouffer_toby
    template = BernoulliMixtureEM(n_init=2, random_state=0)
    ax = plot_information_criteria(
        template, patterns, sample_weight=counts, n_components=[1, 2], criteria=["bic"]
    )
    line = ax.get_lines()[0]
    # Each clone is fitted as the template would be with that n_components.
    reports = [
        fit_report(
            BernoulliMixtureEM(K, n_init=2, random_state=0).fit(
                patterns, sample_weight=counts
            ),
            patterns,
            sample_weight=counts,
        ).bic
        for K in (1, 2)
    ]
    np.testing.assert_allclose(line.get_ydata(), reports)
    assert template.get_params()["n_components"] == 1  # not changed
    assert not hasattr(template, "weights_")


def test_information_criteria_single_fitted_estimator(stouffer_toby):
    est, patterns, counts = stouffer_toby
    ax = plot_information_criteria(est, patterns, sample_weight=counts)
    assert ax.get_lines()[0].get_xdata().tolist() == [2]


def test_information_criteria_refuses_bad_input(stouffer_toby):
    est, patterns, _ = stouffer_toby
    with pytest.raises(ValueError, match="criteria must be"):
        plot_information_criteria(est, patterns, criteria=["bic", "dic"])
    with pytest.raises(ValueError, match="criteria must be"):
        plot_information_criteria(est, patterns, criteria=[])
    with pytest.raises(ValueError, match="single estimator"):
        plot_information_criteria([est], patterns, n_components=[1, 2])
    with pytest.raises(ValueError, match="at least one"):
        plot_information_criteria([], patterns)
    with pytest.raises(TypeError, match="skcoinmix mixture"):
        plot_information_criteria(object(), patterns, n_components=[1])
    with pytest.raises(TypeError, match="skcoinmix mixture"):
        plot_profile(object())


def test_clear_import_error_without_matplotlib(stouffer_toby, monkeypatch):
    est, patterns, _ = stouffer_toby
    # None in sys.modules makes "import matplotlib.pyplot" raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'skcoinmix\[plots\]'"):
        plot_profile(est)
    with pytest.raises(ImportError, match="optional dependency"):
        plot_information_criteria(est, patterns)


def test_importing_skcoinmix_does_not_import_matplotlib():
    code = (
        "import sys, skcoinmix, skcoinmix.inference; "
        "assert 'matplotlib' not in sys.modules, 'imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)
