"""The one door for writes in the lab domain (keyword-only ``<entity>_<action>`` functions).
Views, APIs, workflow steps and management commands call them; nothing else writes lab records.
Every service is re-exported here (``from samples import services``).

- ``access``: ``require_role``, the check every service makes first.
- ``accounts``: sign-ins kept in the trail, usernames and instrument names that cannot be
  confused.
- ``amendments``: corrections of a result's value or a sample's condition, with a reason; a
  result corrected after release sends the sample back to review.
- ``anchors``: the nightly check of the chains and the anchor files of their heads.
- ``audit``: the outcome of each check of the chains, and compliance reviews of the trail.
- ``batches``: batches, their runs and plate positions.
- ``controls``: control results recorded and evaluated by the Westgard rules.
- ``hl7``: HL7 v2 result messages read and answered; ``hl7_text`` makes the bytes received
  text (charsets, BOM, MLLP bytes, NUL), ``hl7_escapes`` reads escape sequences,
  ``hl7_problems`` names the ERR codes.
- ``hl7_intake``: an HL7 message in, whatever the door (HTTP, MLLP): kept, read, answered.
- ``imports``: one row of a CSV import.
- ``intake``: results received from instruments; the inbox of unmatched results.
- ``jobs``: work that may outlast a request (imports, checks, exports), a part at a time.
- ``outbox``: released results sent out as ORU^R01 messages, acknowledged, parked, re-sent.
- ``quality``: quality control of batch runs: their controls.
- ``qc_decisions``: a run's QC concluded, the hold on its results, reminders, and a
  supervisor's decision on a run rejected by QC.
- ``recording``: results recorded, one or many.
- ``reports``: the original report and the corrected ones, stored once each.
- ``results``: evaluation, retests, verification with e-signature, and the report.
- ``runs``: samples and batches following a restarted run.
- ``setup``: instruments, each with its own service identity.
- ``signer``: the signer's password at signing time, and the lockout it counts toward.
- ``specimens``: registering samples and what happens to them at the bench.
- ``tokens``: API tokens created and revoked.
"""

from samples.services.access import require_role
from samples.services.accounts import (
    DEACTIVATED,
    LOCKED,
    NO_ACCOUNT,
    WRONG_PASSWORD,
    WRONG_SIGNING_PASSWORD,
    instrument_name_check,
    signin_event_record,
    signin_failure_reason,
    username_check,
)
from samples.services.amendments import result_amend, sample_amend_condition
from samples.services.anchors import (
    CHUNK,
    HASH,
    HISTORY,
    WHERE,
    anchor_key,
    anchor_make,
    anchor_verify,
    audit_check,
)
from samples.services.audit import audit_review_record, chain_check_record
from samples.services.batches import (
    batch_close,
    batch_join,
    batch_mark_completed,
    batch_start_run,
)
from samples.services.controls import ControlRecorded, control_history, control_record
from samples.services.critical import critical_call_record, critical_hold_check
from samples.services.hl7 import (
    APPLICATION_ERROR,
    DATA_TYPE_ERROR,
    ITEM_FIELDS,
    MAX_MESSAGE_BYTES,
    MAX_OBSERVATIONS,
    RECORDED_STATUSES,
    REQUIRED_FIELD_MISSING,
    SEGMENT_SEQUENCE,
    UNKNOWN_KEY,
    UNSUPPORTED_EVENT,
    UNSUPPORTED_MESSAGE_TYPE,
    UNSUPPORTED_VERSION,
    VERSIONS,
    Hl7Rejected,
    Observation,
    OruMessage,
    Problem,
    oru_ack,
    oru_read,
)
from samples.services.hl7_intake import Hl7Answer, hl7_receive
from samples.services.imports import COLUMNS, DELIMITERS, MAX_ROWS, header_delimiter, import_row
from samples.services.intake import (
    UNMATCHED_FIELDS,
    Receipt,
    Sent,
    items_record,
    message_receive,
    message_refused,
    received_text,
    results_receive,
    unmatched_discard,
    unmatched_match,
)
from samples.services.jobs import (
    CHECK_PARTS,
    CHUNK_ROWS,
    FILE_PART_BYTES,
    ROLES,
    file_store,
    import_rows,
    job_do_part,
    job_fail,
    job_finish,
    job_plan,
    job_request,
)
from samples.services.outbox import (
    DeliveryFailed,
    outbox_attempt,
    outbox_park,
    outbox_prepare,
    outbox_resend,
)
from samples.services.qc_decisions import (
    qc_conclude,
    qc_control_plan,
    qc_control_remind,
    qc_controls,
    qc_decide,
    qc_hold_check,
    qc_remind,
)
from samples.services.quality import CONTROLLED_FROM_VERSION, controls_place
from samples.services.recording import (
    Incoming,
    Repeat,
    decimal_value,
    result_record,
    results_record,
)
from samples.services.reports import report_render, report_render_corrected
from samples.services.results import (
    CRITICAL,
    MEANING,
    RETEST_FLAGS,
    SignOutcome,
    interpretation_of,
    result_evaluate,
    result_flag_critical,
    retest_open,
    sample_send_to_retest,
    sample_verify,
    samples_verify,
)
from samples.services.runs import follow_restarted_run
from samples.services.setup import instrument_register
from samples.services.signer import (
    IDENTIFIED,
    AccountLocked,
    attempts_left,
    forget_signing_identity,
    last_attempt_warning,
    locked_message,
    lockout_minutes,
    signer_check,
    user_id_needed,
)
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
from samples.services.tokens import api_token_create, api_token_owner, api_token_revoke

__all__ = [
    "APPLICATION_ERROR",
    "CHECK_PARTS",
    "CHUNK",
    "CHUNK_ROWS",
    "COLUMNS",
    "CONTROLLED_FROM_VERSION",
    "CRITICAL",
    "DATA_TYPE_ERROR",
    "DEACTIVATED",
    "DELIMITERS",
    "FILE_PART_BYTES",
    "HASH",
    "HISTORY",
    "IDENTIFIED",
    "ITEM_FIELDS",
    "LOCKED",
    "MAX_MESSAGE_BYTES",
    "MAX_OBSERVATIONS",
    "MAX_ROWS",
    "MEANING",
    "NO_ACCOUNT",
    "RECORDED_STATUSES",
    "REQUIRED_FIELD_MISSING",
    "RETEST_FLAGS",
    "ROLES",
    "SEGMENT_SEQUENCE",
    "UNKNOWN_KEY",
    "UNMATCHED_FIELDS",
    "UNSUPPORTED_EVENT",
    "UNSUPPORTED_MESSAGE_TYPE",
    "UNSUPPORTED_VERSION",
    "VERSIONS",
    "WHERE",
    "WRONG_PASSWORD",
    "WRONG_SIGNING_PASSWORD",
    "AccountLocked",
    "ControlRecorded",
    "DeliveryFailed",
    "Done",
    "Hl7Answer",
    "Hl7Rejected",
    "Incoming",
    "Observation",
    "OruMessage",
    "Problem",
    "Receipt",
    "Repeat",
    "Sent",
    "SignOutcome",
    "anchor_key",
    "anchor_make",
    "anchor_verify",
    "api_token_create",
    "api_token_owner",
    "api_token_revoke",
    "attempts_left",
    "audit_check",
    "audit_review_record",
    "batch_close",
    "batch_join",
    "batch_mark_completed",
    "batch_start_run",
    "chain_check_record",
    "control_history",
    "control_record",
    "controls_place",
    "critical_call_record",
    "critical_hold_check",
    "decimal_value",
    "file_store",
    "follow_restarted_run",
    "forget_signing_identity",
    "header_delimiter",
    "hl7_receive",
    "import_row",
    "import_rows",
    "instrument_name_check",
    "instrument_register",
    "interpretation_of",
    "items_record",
    "job_do_part",
    "job_fail",
    "job_finish",
    "job_plan",
    "job_request",
    "last_attempt_warning",
    "locked_message",
    "lockout_minutes",
    "message_receive",
    "message_refused",
    "oru_ack",
    "oru_read",
    "outbox_attempt",
    "outbox_park",
    "outbox_prepare",
    "outbox_resend",
    "qc_conclude",
    "qc_control_plan",
    "qc_control_remind",
    "qc_controls",
    "qc_decide",
    "qc_hold_check",
    "qc_remind",
    "received_text",
    "report_render",
    "report_render_corrected",
    "require_role",
    "result_amend",
    "result_evaluate",
    "result_flag_critical",
    "result_record",
    "results_receive",
    "results_record",
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
    "signer_check",
    "signin_event_record",
    "signin_failure_reason",
    "unmatched_discard",
    "unmatched_match",
    "user_id_needed",
    "username_check",
]
