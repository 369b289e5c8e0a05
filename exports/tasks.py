"""Thin Celery wrappers around the export services."""

from __future__ import annotations

from helpdesk.celery import TenantTask, app


@app.task(base=TenantTask)
def export_build(tenant_id: int, job_id: int) -> None:
    from exports.services import export_run

    export_run(job_id=job_id)


@app.task
def delete_expired_exports() -> int:
    from exports.services import exports_expire

    return exports_expire()
