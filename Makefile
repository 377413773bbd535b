# Tasks for working on uba (each needs the development environment:
#   pip install -c .ci/constraints.txt -e ".[dev]").
# pre-commit runs `make lint`'s checks on each commit:
#   pip install pre-commit && pre-commit install
#
#   make test          the quick tier of the Python suite, with every docstring
#                      example, on every core (python -m pytest -n auto; about
#                      a minute on two)
#   make test-all      both tiers: the quick one and the tests marked slow
#                      (python -m pytest -n auto --slow)
#   make test-c        the C core's tests, plain and under ASan + UBSan
#   make test-aarch64  the C tests cross-compiled for aarch64, run under qemu-user
#   make lint          ruff check and ruff format --check
#   make format        ruff format
#   make typecheck     mypy --strict and stubtest of the compiled module
#   make bench         benchmarks/run.py (writes benchmarks/RESULTS.md)
#   make docs          the documentation site into docs/_build/html, warnings as errors
#   make sdist         dist/uba-VERSION.tar.gz
#   make wheel         a wheel in dist/, repaired by auditwheel into wheelhouse/
#   make ci            everything CI runs (.ci/run)
PYTHON ?= python3

.PHONY: test test-all test-c test-aarch64 lint format typecheck bench docs sdist wheel ci clean

test:
	$(PYTHON) -m pytest -n auto

test-all:
	$(PYTHON) -m pytest -n auto --slow

test-c:
	$(MAKE) -C csrc test sanitize

test-aarch64:
	$(MAKE) -C csrc test-aarch64

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

format:
	$(PYTHON) -m ruff format .

typecheck:
	$(PYTHON) -m mypy
	$(PYTHON) -m mypy.stubtest uba._core

bench:
	$(PYTHON) benchmarks/run.py

docs:
	$(PYTHON) -m sphinx -W --keep-going -b html docs docs/_build/html

sdist:
	$(PYTHON) -m build --sdist

wheel:
	$(PYTHON) -m build --wheel
	$(PYTHON) -m auditwheel repair -w wheelhouse dist/uba-*.whl

ci:
	.ci/run

clean:
	$(MAKE) -C csrc clean
	rm -rf build dist wheelhouse uba/_core*.so docs/_build docs/notebooks
