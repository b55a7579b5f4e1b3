from django.apps import AppConfig


class RetrievalConfig(AppConfig):
    name = "appliance.retrieval"
    label = "retrieval"
    verbose_name = "Embeddings and vector store"

    def ready(self):
        from appliance.retrieval import checks  # noqa: F401 -- registers the system checks
