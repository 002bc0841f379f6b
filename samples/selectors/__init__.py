"""Reads only: what pages, the API, documents and the audit trail show. Nothing here writes.

``specimens``, ``batches``, ``review``, ``setup``, ``dashboard``, ``runs`` serve the pages;
``signatures`` says what a signature signs and whether it holds, ``corrections`` what a
correction changed; ``audit`` reads the trail as one list, ``chains`` checks its hash chains
(over the event tables ``samples.tracking`` lists); ``words`` says every history event and record
change for a person: the one vocabulary the trail, the sample's ``timeline``, the runs console
and the dossier speak. ``metrics`` serves the scraper, ``read_ahead`` the exports, ``inbox``
the unmatched inbox's list for the API."""
