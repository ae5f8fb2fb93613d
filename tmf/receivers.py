"""Order events become hub notifications (filled in by tmf.hub)."""
