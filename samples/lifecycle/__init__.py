"""The durable part of the lab: the sample lifecycle, the batch run and background jobs as
workflows (``flows``, ``jobs``), their steps (``steps``) and the workflows' names (``names``).

Built on ``workflows.api`` only. Steps are the only code here that changes records, and each
does it by calling one service."""
