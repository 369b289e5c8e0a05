"""The production topology file: services, their commands and the environment contract."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_docker_compose_declares_the_production_topology():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    app = compose["x-app"]
    for name in ("migrate", "web", "worker", "beat"):
        merged = app | services[name]
        env = merged["environment"]
        for var in (
            "DATABASE_URL",
            "DATABASE_OWNER_URL",
            "REDIS_URL",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "EMAIL_URL",
            "FIELD_ENCRYPTION_KEY",
            "GRAPH_API_BASE_URL",
            "TWITTER_API_BASE_URL",
        ):
            assert var in env, f"{name} lacks {var}"
        assert env["DATABASE_URL"].startswith("postgresql://helpdesk_app:")
        assert env["DATABASE_OWNER_URL"].startswith("postgresql://helpdesk_owner:")
    assert "daphne" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "helpdesk", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "helpdesk", "beat"]
    assert services["migrate"]["command"][-2:] == ["migrate", "--no-input"]
    init = ROOT / "docker" / "postgres-init.sh"
    assert init.exists() and "NOBYPASSRLS" in init.read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.lock" in dockerfile and "python:3.11" in dockerfile
