"""Loaded by pytest before Django (`-p tests.environment` in pyproject.toml).

Every test run gets its own data dir, so tests never touch ./var; the database, broker and cache are
SQLite, the file-system broker and the file cache inside it unless APPLIANCE_TEST_DATABASE_URL /
APPLIANCE_TEST_BROKER_URL / APPLIANCE_TEST_CACHE_URL point at the production services (bin/run-tests does that).
"""
import os
import tempfile

DATA_DIR = tempfile.mkdtemp(prefix="appliance-test-")
os.environ["APPLIANCE_DATA_DIR"] = DATA_DIR
os.environ["DEBUG"] = "1"
os.environ["DATABASE_URL"] = os.environ.get("APPLIANCE_TEST_DATABASE_URL", f"sqlite:///{DATA_DIR}/appliance.sqlite3")
os.environ["CELERY_BROKER_URL"] = os.environ.get("APPLIANCE_TEST_BROKER_URL", "filesystem://localhost/")
os.environ["CACHE_URL"] = os.environ.get("APPLIANCE_TEST_CACHE_URL", "")
os.environ.pop("QDRANT_URL", None)
for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ[name] = "1"
