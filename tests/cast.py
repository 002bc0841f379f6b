"""Facts the tests share: the cast's password and what each role is meant to see."""

from samples.roles import Role

PASSWORD = "correct horse battery staple"

# The main navigation each role sees, in order (README.md shows the same table).
NAVIGATION = {
    Role.TECHNICIAN: [
        "Home",
        "Dashboard",
        "Scan",
        "Samples",
        "Register",
        "Batches",
        "QC",
        "Inbox",
        "Critical values",
        "Assays",
        "Instruments",
        "Jobs",
    ],
    Role.REVIEWER: [
        "Home",
        "Dashboard",
        "Scan",
        "Samples",
        "Batches",
        "QC",
        "Inbox",
        "Critical values",
        "Review",
        "Outbox",
        "Assays",
        "Instruments",
        "Runs",
    ],
    Role.COMPLIANCE: [
        "Home",
        "Dashboard",
        "Samples",
        "Batches",
        "QC",
        "Inbox",
        "Critical values",
        "Review",
        "Outbox",
        "Assays",
        "Instruments",
        "Users and roles",
        "Audit trail",
        "Jobs",
        "Runs",
    ],
    Role.ADMIN: [
        "Home",
        "Dashboard",
        "Outbox",
        "Users and roles",
        "Audit trail",
        "Jobs",
        "Runs",
        "API tokens",
        "Administration",
    ],
}
