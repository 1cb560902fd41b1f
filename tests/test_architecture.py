"""The package's layout, as docs/architecture.rst states it, checked from the source.

- no module imports one that imports it back (at module level or inside a
  function);
- dask is imported by the dask kernel module only;
- the engine, the initialisation, the family contract and the kernels name
  no model;
- every model is one file.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skcoinmix"

#: The modules that must not know any model.
MODEL_FREE = [
    "_em",
    "_em_state",
    "_restarts",
    "_online",
    "_init",
    "_family",
    "_validation",
    "_backends",
]
#: The model files and the names that would give a model away.
MODELS = {
    "_bernoulli": "Bernoulli",
    "_binomial": "Binomial",
    "_categorical": "Categorical",
}


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules():
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name, path):
    """The skcoinmix modules ``name`` imports, and every top-level package it imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    internal, external = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                (internal if alias.name.startswith("skcoinmix") else external).add(
                    alias.name
                )
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module
            if module.startswith("skcoinmix"):
                # "from . import dask" imports the submodule; "from ._em import
                # BaseMixtureEM" the module.
                for alias in node.names:
                    submodule = f"{module}.{alias.name}"
                    internal.add(submodule if submodule in _modules() else module)
            else:
                external.add(module)
    modules = _modules()
    return {module for module in internal if module in modules}, external


def _graph():
    return {name: _imports(name, path)[0] - {name} for name, path in _modules().items()}


def test_no_module_imports_one_that_imports_it_back():
    graph = _graph()
    # Each strongly connected component must be a single module.
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in graph[node]:
            # A package imports its own submodules (its __init__ is their
            # parent, not an import cycle): only cycles through real imports.
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []


def test_dask_is_imported_by_the_dask_kernels_only():
    importers = {
        name
        for name, path in _modules().items()
        if any(module.split(".")[0] == "dask" for module in _imports(name, path)[1])
    }
    assert importers == {"skcoinmix._backends.dask"}


@pytest.mark.parametrize("module", MODEL_FREE)
def test_engine_initialisation_and_kernels_name_no_model(module):
    paths = [
        path
        for name, path in _modules().items()
        if name == f"skcoinmix.{module}" or name.startswith(f"skcoinmix.{module}.")
    ]
    assert paths
    for path in paths:
        name = _module_name(path)
        imported = _imports(name, path)[0]
        assert not imported & {f"skcoinmix.{model}" for model in MODELS}, name
        code = "\n".join(
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("#")
        )
        for model_name in MODELS.values():
            # Docstrings may give a model as an example; code may not use one.
            tree = ast.parse(code)
            names = {
                node.id for node in ast.walk(tree) if isinstance(node, ast.Name)
            } | {
                node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            }
            assert not any(model_name in used for used in names), (name, model_name)


def test_every_model_is_one_file_on_the_engine():
    import skcoinmix
    from skcoinmix._em import BaseMixtureEM

    for module, model_name in MODELS.items():
        estimator = getattr(skcoinmix, f"{model_name}MixtureEM")
        assert issubclass(estimator, BaseMixtureEM)
        assert estimator.__module__ == f"skcoinmix.{module}"
