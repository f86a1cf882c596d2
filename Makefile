check:  ## format, lint, types, tests (the import contract is a test)
	ruff format --check .
	ruff check .
	mypy
	python -m pytest -q

.PHONY: check
