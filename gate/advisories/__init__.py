"""Advisory data: OSV records, CVSS severity, the CISA KEV catalog, EPSS scores, enrichment."""
