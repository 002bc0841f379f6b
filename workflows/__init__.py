"""The durable workflow engine: a reusable Django app that knows nothing about samples.

``workflows.api`` will be its only public module; everything else here is internal.
"""
