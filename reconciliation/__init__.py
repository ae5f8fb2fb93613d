"""Cross-system reconciliation: orders against billing, provisioning tasks against the network,
the installed base against billing; each disagreement found is a Mismatch until it is fixed."""
