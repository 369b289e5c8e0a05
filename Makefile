# The two commands of the project: `make run` and `make test`. Everything else is set up on
# demand: the virtual environment, the pinned dependencies, and (when DATABASE_URL / REDIS_URL
# are not set) the embedded PostgreSQL and Redis with their data under var/.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
SERVICES := $(BIN)/python -m helpdesk.devservices

.PHONY: run test lint format check-deploy messages shell clean

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	DEBUG=$${DEBUG:-1} $(SERVICES) -- $(BIN)/python -m helpdesk.launch

test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	HELPDESK_TESTING=1 $(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py makemessages -l es -l en --ignore=.venv --ignore=var
	DEBUG=1 $(BIN)/python manage.py compilemessages --ignore=.venv

check-deploy: $(STAMP)
	SECRET_KEY=check-deploy-$$(date +%s)-a-long-random-value-for-the-check ALLOWED_HOSTS=helpdesk.example.com \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

shell: $(STAMP)
	DEBUG=1 $(SERVICES) -- $(BIN)/python manage.py shell

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache
