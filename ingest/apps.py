from django.apps import AppConfig


class IngestConfig(AppConfig):
    """Document collections: parsing, chunking, PII labelling and indexing by the worker."""

    name = "ingest"
