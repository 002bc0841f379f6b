"""The lab domain: samples, assays, batches, results, retests, instruments, the UI and REST API."""
