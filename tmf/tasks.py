"""Celery tasks of the TMF layer: hub deliveries (see tmf.hub)."""
