"""Reads only: what pages, the API, documents and the audit trail show. Nothing here writes.

``specimens``, ``batches``, ``review``, ``setup``, ``dashboard``, ``runs`` serve the pages;
``audit`` reads the trail as one list, ``chains`` checks its hash chains and holds the one list
of event tables, ``words`` says every history event and record change for a person: the one
vocabulary the trail, the sample's ``timeline``, the runs console and the dossier speak."""
