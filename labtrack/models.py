"""No models: LabTrack's project app holds the database roles' wiring (``labtrack.owner``)."""
