"""The README's promises: its example runs, and CI runs its two commands."""

import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

pytestmark = pytest.mark.skipif(
    not README.exists(), reason="README.md is not shipped with the installed package"
)


def test_readme_starts_with_the_two_setup_commands():
    text = README.read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block is not None and text.index("```bash") < text.index("## ")
    commands = block.group(1).strip().splitlines()
    assert commands == [
        "python -m pip install . && python -m skcoinmix",
        'python -m pip install ".[test]" && python -m pytest',
    ]
    ci_script = (ROOT / ".ci" / "run").read_text()
    for command in commands:
        assert command in ci_script


def test_readme_example_runs(capsys):
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    assert namespace["resp"].shape == (1797, 10)
    assert np.allclose(namespace["resp"].sum(axis=1), 1.0)
    assert namespace["search"].best_params_["n_components"] in (5, 10, 20)
    assert "(10, 64)" in capsys.readouterr().out


def test_readme_binomial_example_runs():
    # The second Python block: the paper's coins as counts of heads.
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[1]
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    np.testing.assert_allclose(namespace["est"].means_[:, 0], [0.80, 0.52], atol=0.005)


def test_readme_categorical_example_runs(monkeypatch):
    # The third Python block: gss82 read from the working directory, where a
    # user keeps it; tests/data holds poLCA's copy. Its maximum is the one
    # poLCA's gss82 help page gives for three classes.
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[2]
    monkeypatch.chdir(ROOT / "tests" / "data")
    namespace = {}
    exec(compile(code, str(README), "exec"), namespace)
    X, est = namespace["X"], namespace["est"]
    assert est.score(X) * len(X) == pytest.approx(-2754.545, abs=1e-3)
    assert [p.shape for p in est.probs_] == [(3, 3), (3, 2), (3, 2), (3, 3)]
