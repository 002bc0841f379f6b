"""Barcodes and assay codes as scanners and people send them: in lower case, with spaces or a
line end around. Each door reads them through ``code_clean``, so a code finds its record the
same way from a scan, a form, the API, an import or an instrument's message."""


def code_clean(text: str | None) -> str:
    """A barcode or an assay code as it is stored: upper case, nothing around it."""
    return (text or "").strip().upper()
