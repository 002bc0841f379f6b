"""The names of the lab's workflows, for the code that defines them (``flows``, ``jobs``) and
the services that start them. A name is in every run's history: it never changes."""

LIFECYCLE = "sample_lifecycle"  # one run per sample
BATCH_RUN = "batch_run"  # one run per batch
JOB_WORKFLOW = "background_job"  # one run per job (samples.services.jobs)
CRITICAL_NOTIFICATION = "critical_notification"  # one run per notification (critical)
RESULTS_OUT = "results_out"  # one run per re-send (samples.services.outbox)
CORRECTION = "sample_correction"  # one run per re-release after a correction (corrections)
# The kinds of result message sent out (``samples.models.OutboundKind``), as workflows pass them.
ORIGINAL, CORRECTED = "original", "corrected"
