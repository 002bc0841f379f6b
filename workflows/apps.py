"""App configuration for the workflow engine."""

from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        from importlib import import_module

        from django.conf import settings

        import workflows.tasks  # noqa: F401  (registers the Celery tasks)

        # Workflow and step definitions register themselves when their modules are imported.
        for module in getattr(settings, "WORKFLOWS_MODULES", []):
            import_module(module)
