# Common developer tasks; CI runs .ci/run.
.PHONY: test lint format ci docs

test:
	python -m pytest

lint:
	ruff check .
	ruff format --check .

format:
	ruff format .
	ruff check --fix .

ci:
	bash .ci/run

# The documentation site (needs the docs extra: python -m pip install ".[docs]").
docs:
	python -m sphinx -W --keep-going -b html docs docs/_build/html
