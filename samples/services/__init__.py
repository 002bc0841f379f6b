"""The one door for writes in the lab domain. Views, APIs, workflow steps and management
commands call these functions; nothing else writes lab records.

- ``setup``: instruments and the demo data.
- ``specimens``: registering samples and what happens to them at the bench (receive, reject,
  add to a batch), and what the lifecycle records for them.
- ``batches``: batches, their runs and plate positions.
- ``results``: results (from instruments or by hand), retests, verification with e-signature
  (one sample, or several in one signing act), and the report.
- ``signer``: the signer's password at signing time, and the account lockout it counts toward.
"""

from samples.demo.samples import demo_samples_seed
from samples.services.amendments import (
    amendments,
    first_condition,
    result_amend,
    sample_amend_condition,
    signatures_checked,
)
from samples.services.batches import (
    batch_close,
    batch_join,
    batch_mark_completed,
    batch_start_run,
)
from samples.services.jobs import job_request
from samples.services.recording import result_record
from samples.services.results import (
    SignOutcome,
    report_render,
    result_evaluate,
    result_flag_critical,
    retest_open,
    sample_send_to_retest,
    sample_verify,
    samples_verify,
)
from samples.services.setup import SeedReport, demo_seed, instrument_register
from samples.services.specimens import (
    Done,
    sample_get,
    sample_mark,
    sample_receive,
    sample_record_receipt,
    sample_record_rejection,
    sample_register,
    sample_reject,
    sample_request_batch,
)

__all__ = [
    "Done",
    "SeedReport",
    "SignOutcome",
    "amendments",
    "batch_close",
    "batch_join",
    "batch_mark_completed",
    "batch_start_run",
    "demo_samples_seed",
    "demo_seed",
    "first_condition",
    "instrument_register",
    "job_request",
    "report_render",
    "result_amend",
    "result_evaluate",
    "result_flag_critical",
    "result_record",
    "retest_open",
    "sample_amend_condition",
    "sample_get",
    "sample_mark",
    "sample_receive",
    "sample_record_receipt",
    "sample_record_rejection",
    "sample_register",
    "sample_reject",
    "sample_request_batch",
    "sample_send_to_retest",
    "sample_verify",
    "samples_verify",
    "signatures_checked",
]
