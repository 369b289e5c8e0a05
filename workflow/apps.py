from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = _("Flujo de trabajo")

    def ready(self) -> None:
        # tickets calls the workflow through this registration, never by importing it.
        from tickets import hooks
        from workflow.hooks import DeskWorkflow

        hooks.register_workflow(DeskWorkflow())
