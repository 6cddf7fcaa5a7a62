"""Data quality beyond validity (issue 17): checks with rule ids, the cleaning log they write, and the filled
log applied back as a layer over the raw store (raw rows are never edited; the estimates read the layer)."""
