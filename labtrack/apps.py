from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LabtrackConfig(AppConfig):
    name = "labtrack"
    verbose_name = "LabTrack"

    def ready(self) -> None:
        from labtrack import owner

        # After every migrate (and flush): the guards re-asserted, the application role's
        # rights granted on whatever the migrations made.
        post_migrate.connect(owner.after_migrate, sender=self, dispatch_uid="labtrack.guards")
