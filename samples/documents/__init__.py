"""Files built from reads: reports, labels, the dossier, audit-trail exports, anchor files,
and the PDF, chart and barcode drawing they share. No database writes happen here."""
