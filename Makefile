# The two commands of the project: `make run` and `make test`. Everything else is set up on
# demand: the virtual environment, the pinned dependencies, and (when DATABASE_URL / REDIS_URL
# are not set) the embedded PostgreSQL and Redis with their data under var/.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
SERVICES := $(BIN)/python -m helpdesk.devservices

.PHONY: run test lint format check-deploy messages shell clean import-graph

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
	  || { echo "Python 3.11 is required (found: $(PYTHON))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	DEBUG=$${DEBUG:-1} $(SERVICES) -- $(BIN)/python -m devtools.launch

test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	HELPDESK_TESTING=1 $(BIN)/mypy .
	$(BIN)/lint-imports

# Which app imports which (the layers are enforced by lint-imports in `make lint`).
import-graph:
	$(PYTHON) -m devtools.import_graph

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py makemessages -l es -l en --ignore=.venv --ignore=var
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

check-deploy: $(STAMP)
	SECRET_KEY=check-deploy-$$(date +%s)-a-long-random-value-for-the-check \
	  ALLOWED_HOSTS=helpdesk.example.com DATABASE_URL=postgresql://helpdesk_app@db/helpdesk \
	  DATABASE_OWNER_URL=postgresql://helpdesk_owner@db/helpdesk \
	  FIELD_ENCRYPTION_KEY=$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

shell: $(STAMP)
	DEBUG=1 $(SERVICES) -- $(BIN)/python manage.py shell

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache
