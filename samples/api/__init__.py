"""The REST API (``/api/v1/``) for instruments and integration clients: DRF views over the same
services as the pages. Authentication: one knox token per client (``manage.py api_tokens``)."""
