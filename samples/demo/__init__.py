"""Demo data for a local trial (``manage.py seed_demo``). Only ``samples.management`` imports
it: no production path reaches demo data."""
