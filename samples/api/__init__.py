"""The REST API (``/api/v1/``) for instruments and integration clients: DRF views over the same
services as the pages, which they call for every change; refusals become JSON in ``errors``.
Authentication: one knox token per client (``manage.py api_tokens``)."""
