# Two commands do all the set-up on a machine with Python 3 and make:
#   make run    serve the API on http://127.0.0.1:8000 against an embedded S3 + DynamoDB
#   make test   lint, then run every test (container tests skip without a Docker engine)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cat requirements-checkov.txt | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: venv run test pytest lint format terraform-check sweep create-resources bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	rm -f $(CHECKOV_VENV)/.installed-* && touch $@

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m service run-local

test: lint pytest

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP) terraform-check
	$(BIN)/ruff check service tests bench scripts
	$(BIN)/ruff format --check service tests bench scripts
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format service tests bench scripts
	$(BIN)/ruff check --fix service tests bench scripts

# Terraform's providers cannot be downloaded on the build machines, so no `terraform validate`:
# the HCL is parsed by tests (python-hcl2), formatted with `terraform fmt` when a terraform
# binary is installed, and scanned by checkov (in its own environment: it pins many packages).
terraform-check: $(CHECKOV_STAMP)
	if command -v terraform >/dev/null; then terraform fmt -check -recursive terraform; fi
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --framework terraform -d terraform

create-resources: $(STAMP)
	$(BIN)/python -m service create-resources

# Ratios against a baseline measured in the same run; never timing assertions in tests.
bench: $(STAMP)
	$(BIN)/python bench/bench_images.py

sweep: $(STAMP)
	$(BIN)/python -m service sweep

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .mypy_cache .ruff_cache .coverage coverage.xml
