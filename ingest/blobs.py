"""Uploaded files, one per document version, under INGEST_BLOB_DIR (inside the data dir)."""
import os
import tempfile
from pathlib import Path

from django.conf import settings


def blob_path(document) -> Path:
    return Path(settings.INGEST_BLOB_DIR) / str(document.uid)


def save_blob(document, data: bytes) -> None:
    """Write atomically: a crash leaves either no file or the whole file, never half of one."""
    target = blob_path(document)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(handle.name, 0o600)
    os.replace(handle.name, target)


def read_blob(document) -> bytes:
    return blob_path(document).read_bytes()


def erase_blob(document) -> None:
    blob_path(document).unlink(missing_ok=True)
