# Common developer tasks; CI runs .ci/run.
.PHONY: test lint format ci

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
