from django.db import models
from django.utils import timezone


class Perimeter(models.TextChoices):
    INTERNAL = "internal", "Inside the perimeter"
    EXTERNAL = "external", "Outside the perimeter"


class RegisteredModel(models.Model):
    """A model the answer path may route to: a GGUF file run here, by llama.cpp.

    The sha256 and quantization are read from the file when it is registered (by the worker) and
    the sha256 again before it is used; a trace names them, so a regulator can tell exactly which weights produced an answer.
    Registry changes go through appliance.routing.registry (audited), never .save() elsewhere.
    """

    name = models.CharField(max_length=100, unique=True)
    gguf_path = models.CharField(max_length=1000)
    sha256 = models.CharField(max_length=64)
    quantization = models.CharField(max_length=20)
    context_size = models.PositiveIntegerField(default=2048)
    domain = models.TextField(help_text="What this model is good at, in a sentence or two; routing compares questions with it.")
    perimeter = models.CharField(max_length=10, choices=Perimeter.choices, default=Perimeter.INTERNAL)
    enabled = models.BooleanField(default=True)
    registered_at = models.DateTimeField(default=timezone.now)
    # Hashing a model file takes seconds: the worker does it (routing.tasks.hash_model_file). Until
    # it has, sha256 is empty (a new registration) or the previous file's (an accepted replacement).
    hashing = models.BooleanField(default=False)
    # The file's size and modification time when it was hashed ("size:mtime_ns"): the web tier
    # tells a changed file by these, without reading gigabytes; the worker checks the sha256.
    file_stamp = models.CharField(max_length=60, blank=True, default="")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
