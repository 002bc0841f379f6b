"""App configuration for the workflow engine: when Django is ready, the Celery tasks are
registered and installed as the engine's backend, and the workflow definitions are loaded."""

from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        # Imported here, not at the top: they import the models, which a module Django loads
        # while it builds the app registry may not.
        from importlib import import_module

        from django.conf import settings

        from workflows import dispatch, tasks

        dispatch.install(tasks.CeleryBackend())  # registering the Celery tasks on the way

        # Workflow and step definitions register themselves when their modules are imported.
        for module in getattr(settings, "WORKFLOWS_MODULES", []):
            import_module(module)
