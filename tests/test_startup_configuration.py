"""A mistake in the environment stops start-up with one clear line, never a traceback."""
import base64
import secrets

import pytest

from tests.conftest import run_manage


@pytest.fixture
def fresh_env(tmp_path):
    return {"APPLIANCE_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}


def assert_one_line_error(result, exit_code, line):
    assert result.returncode == exit_code
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == line


KEY = base64.b64encode(b"k" * 32).decode()


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"DATABASE_URL": "mysql://root@127.0.0.1/test"},
            "appliance: configuration error: DATABASE_URL uses mysql, which the appliance does not support: "
            "use sqlite:// or postgres://",
        ),
        (
            {"DEBUG": "maybe"},
            "appliance: configuration error: DEBUG='maybe' is not a boolean: use 1 or 0",
        ),
        (
            {"AUDIT_SIGNING_KEY": "c2hvcnQ="},
            "appliance: configuration error: AUDIT_SIGNING_KEY must be 32 random bytes in base64 (44 characters); "
            "generate one with: python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'",
        ),
        (
            {"QDRANT_URL": "qdrant:6333"},
            "appliance: configuration error: QDRANT_URL='qdrant:6333' is not an http(s) URL: use e.g. http://qdrant:6333",
        ),
        (
            {"SECRET_KEY_FILE": "/nonexistent/secret"},
            "appliance: configuration error: SECRET_KEY_FILE=/nonexistent/secret cannot be read (No such file or "
            "directory): point it at a readable file",
        ),
        (
            {"API_ASK_RATE": "lots"},
            "appliance: configuration error: API_ASK_RATE='lots' is not a rate: use a count per s, min, hour or day, "
            "e.g. 30/min",
        ),
        (
            {"CACHE_URL": "memcached://127.0.0.1:11211"},
            "appliance: configuration error: CACHE_URL='memcached://127.0.0.1:11211' is not a redis:// URL: use e.g. "
            "redis://redis:6379/1, or unset it",
        ),
    ],
    # A secret left unset is generated in the data dir (tests/test_safe_defaults.py), not an error.
    ids=["unsupported-database", "bad-boolean", "short-ledger-key", "bad-qdrant-url", "unreadable-secret-file",
         "bad-ask-rate", "bad-cache-url"],
)
def test_it_names_the_variable_and_the_fix(fresh_env, env, line):
    assert_one_line_error(run_manage("check", env={**fresh_env, **env}), 2, line)


def test_it_explains_an_unknown_database_url_scheme(fresh_env):
    result = run_manage("check", env={**fresh_env, "DATABASE_URL": "postgress://db/appliance"})

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("appliance: configuration error: DATABASE_URL is not a database URL the appliance supports")
    assert result.stderr.strip().endswith("use sqlite:////absolute/path.sqlite3 or postgres://user:password@host:5432/name")


def test_it_refuses_a_data_dir_it_cannot_write(tmp_path, fresh_env):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    result = run_manage("check", env={**fresh_env, "APPLIANCE_DATA_DIR": str(blocker / "data")})

    assert_one_line_error(
        result,
        2,
        f"appliance: configuration error: APPLIANCE_DATA_DIR={blocker / 'data'} is not a writable directory "
        "(Not a directory): set APPLIANCE_DATA_DIR to a directory this user can write",
    )


def test_it_stops_on_a_missing_embedding_model(fresh_env):
    result = run_manage("check", env={**fresh_env, "RETRIEVAL_EMBEDDING_MODEL_DIR": "/nonexistent/minilm"})

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "(retrieval.E001) embedding model (all-MiniLM-L6-v2) not found at /nonexistent/minilm" in result.stderr
    assert "HINT: set RETRIEVAL_EMBEDDING_MODEL_DIR to a sentence-transformers model directory" in result.stderr


def test_it_stops_on_a_missing_int8_passage_model_and_says_how_to_make_it(fresh_env):
    result = run_manage("check", env={**fresh_env, "RETRIEVAL_PASSAGE_EMBEDDING_ONNX": "/nonexistent/passages.onnx"})

    assert result.returncode == 1
    assert "(retrieval.E003) int8 embedding model for passages not found at /nonexistent/passages.onnx" in result.stderr
    assert "HINT: run `python manage.py install_models`" in result.stderr


def test_an_empty_passage_model_setting_embeds_passages_with_the_fp32_model(fresh_env):
    result = run_manage("check", env={**fresh_env, "RETRIEVAL_PASSAGE_EMBEDDING_ONNX": ""})

    assert result.returncode == 0, result.stderr


def test_it_stops_on_a_missing_gguf_file(fresh_env):
    result = run_manage("check", env={**fresh_env, "ROUTING_GEMMA3_GGUF": "/nonexistent/gemma.gguf"})

    assert result.returncode == 1
    assert "(routing.E001) Gemma 3 270M Q4_K_M model file not found at /nonexistent/gemma.gguf" in result.stderr
    assert "HINT: set ROUTING_GEMMA3_GGUF to an existing GGUF file, or run `python manage.py install_models`" in result.stderr


def test_it_stops_migrate_when_the_database_is_unreachable(fresh_env):
    # Nothing listens on port 9 of the loopback address.
    result = run_manage("migrate", env={**fresh_env, "DATABASE_URL": "postgres://appliance@127.0.0.1:9/appliance"})

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "(health.E001) cannot connect to the database at 127.0.0.1 (connection failed:" in result.stderr
    assert "HINT: check DATABASE_URL and that the database server is running" in result.stderr


def test_it_passes_the_deployment_checklist_in_production_mode(fresh_env):
    production = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "rag.example.org",
                  "AUDIT_ENCRYPTION_KEY": KEY, "AUDIT_SIGNING_KEY": KEY}

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env={**fresh_env, **production})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."
