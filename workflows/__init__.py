"""The durable workflow engine: a reusable Django app that knows nothing about samples.

Two public modules, by audience: ``workflows.api`` for workflow code and the code that starts,
signals, cancels and reads runs; ``workflows.ops`` for operators and the audit trail (the runs
console, interventions, the deploy check, the history as SQL, chain checks and anchors,
running in-process). Every other module here is internal; ``workflows.testing`` serves tests.
"""
