# Everything a fresh machine with only python3 needs: `make demo`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo check test oracle bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The main job on the embedded emulator: plan, apply, plan again (no changes); the meter
# tests beside the examples run first, offline.
demo: $(STAMP)
	rm -rf .polar-meters
	$(BIN)/polar-meters validate examples/meters/
	$(BIN)/polar-meters test examples/meters/
	$(BIN)/polar-meters --server local plan examples/meters/
	$(BIN)/polar-meters --server local apply --auto-approve examples/meters/
	$(BIN)/polar-meters --server local plan --detailed-exitcode examples/meters/

# Lint and types over the package, the tests and the benchmark (config in pyproject.toml).
check: $(STAMP)
	$(BIN)/ruff check reconciler tests bench action
	$(BIN)/mypy

# pytest exits 5 when it collected no test: that is a failure too (make fails on non-zero).
# One pytest-xdist worker per core (`-n auto`: the cores this process may use; TEST_WORKERS=1
# for one); `--dist worksteal` lets an idle worker take tests queued on a busy one, so the
# few long tests do not leave one core waiting at the end.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

# Just the differential oracle: the engine against Polar's SQL on a throwaway PostgreSQL
# (its server from Debian's `postgresql` package; .ci/run installs it).
oracle: $(STAMP)
	$(BIN)/python -m pytest -q -m oracle tests/usage/test_oracle.py

# Plan 100 to 10,000 meters against the Terraform way, apply under a rate limit, and the CPU
# of load + validate + plan as ratios to references measured in the same run; about 4
# minutes on an idle 2-core machine (10 at load average 10), not part of `make test`.
# Writes bench/results/latest.json and the README's Performance figures from it.
bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.readme

clean:
	rm -rf $(VENV) .polar-meters .pytest_cache .mypy_cache .ruff_cache
