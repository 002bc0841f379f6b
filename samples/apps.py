"""App configuration: role groups are kept in step with the code after every migrate, an
account created as a superuser is made an administrator, and sign-ins, failures, lockouts and
sign-outs are kept in the audit trail (``samples.signins``)."""

from django.apps import AppConfig
from django.contrib.auth import get_user_model, user_logged_in
from django.db.models.signals import post_migrate, post_save


class SamplesConfig(AppConfig):
    name = "samples"
    verbose_name = "Samples"

    def ready(self) -> None:
        from samples.lifecycle import corrections, flows, jobs, quality  # noqa: F401 (registers them)
        from samples.roles import ensure_role_groups, make_new_superuser_an_administrator
        from samples.services.runs import follow_restarted_run
        from samples.services.signer import forget_signing_identity
        from workflows.ops import run_restarted

        # After migrate (and after a test flush) permissions exist, so groups can be granted them.
        # Once per migrate: samples is the last installed app, so every app's permissions exist
        # by its turn.
        post_migrate.connect(
            ensure_role_groups, sender=self, dispatch_uid="samples.ensure_role_groups"
        )
        # The first administrator comes from `manage.py createsuperuser` (README, deployment).
        post_save.connect(
            make_new_superuser_an_administrator,
            sender=get_user_model(),
            dispatch_uid="samples.make_new_superuser_an_administrator",
        )
        run_restarted.connect(follow_restarted_run, dispatch_uid="samples.follow_restarted_run")
        # Each sign-in starts a new continuous session: its first e-signature asks for the user
        # id again (21 CFR 11.200(a)(1)(i)).
        user_logged_in.connect(
            forget_signing_identity, dispatch_uid="samples.forget_signing_identity"
        )
        self._keep_sign_ins()

    @staticmethod
    def _keep_sign_ins() -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from samples import signins

        # After django-axes' own receivers (its app is listed first): a failure is then known
        # to have locked the account.
        user_logged_in.connect(signins.signed_in, dispatch_uid="samples.signed_in")
        user_logged_out.connect(signins.signed_out, dispatch_uid="samples.signed_out")
        user_login_failed.connect(signins.sign_in_failed, dispatch_uid="samples.sign_in_failed")
        user_locked_out.connect(signins.locked_out, dispatch_uid="samples.locked_out")
