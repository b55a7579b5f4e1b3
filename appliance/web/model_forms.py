"""The model registry's forms: registering a GGUF file already on the server, and changing what
routing reads from an entry. Each error is one sentence naming the bad value."""
from pathlib import Path

from django import forms

from appliance.routing.generation import MAX_CONTEXT_SIZE, MIN_CONTEXT_SIZE
from appliance.routing.models import RegisteredModel
from appliance.routing.registry import ModelFileRejected, model_file, read_quantization

# The model loader's own bounds (generation.LocalModel): a size it refuses must not get into the registry.
CONTEXT_SIZES = f"{MIN_CONTEXT_SIZE} to {MAX_CONTEXT_SIZE} tokens"


class ModelSettingsForm(forms.Form):
    context_size = forms.IntegerField(
        label="Context size (tokens)", initial=2048, help_text=f"How much the model reads at once: {CONTEXT_SIZES}.",
        error_messages={"required": "Give the context size in tokens.", "invalid": "Give the context size as a whole number of tokens."},
    )
    domain = forms.CharField(
        label="Domain", widget=forms.Textarea(attrs={"rows": 2, "cols": 80}),
        help_text=RegisteredModel._meta.get_field("domain").help_text,
        error_messages={"required": "Describe what the model is good at: routing compares each question with this description."},
    )

    def clean_context_size(self):
        size = self.cleaned_data["context_size"]
        if not MIN_CONTEXT_SIZE <= size <= MAX_CONTEXT_SIZE:
            raise forms.ValidationError(f"A context size of {size} tokens is out of range; use {CONTEXT_SIZES}.")
        return size


class RegisterModelForm(ModelSettingsForm):
    name = forms.CharField(
        label="Name", max_length=RegisteredModel._meta.get_field("name").max_length,
        help_text="How traces and the registry name it, e.g. “Llama 3.2 1B Q4_K_M”.",
        error_messages={"required": "Give the model a name."},
    )
    gguf_path = forms.CharField(
        label="GGUF file on the server", max_length=RegisteredModel._meta.get_field("gguf_path").max_length,
        help_text="The full path of a .gguf file inside a model directory (ROUTING_MODEL_DIRS), e.g. "
                  "/srv/models/llama-3.2-1b.Q4_K_M.gguf.",
        error_messages={"required": "Give the full path of the GGUF file on the server."},
    )

    field_order = ["name", "gguf_path", "context_size", "domain"]

    def clean_name(self):
        name = self.cleaned_data["name"]
        if RegisteredModel.objects.filter(name=name).exists():
            raise forms.ValidationError(duplicate_name(name))
        return name

    def clean_gguf_path(self) -> Path:
        """The path, symlinks resolved, once it names a GGUF file inside a model directory. Checked
        here, in the web tier: it runs from the same image and data volume as the worker, so it sees
        the files the worker will load. Reading the header is cheap; the sha256 is the worker's job."""
        try:
            path = model_file(self.cleaned_data["gguf_path"])
            read_quantization(path)
        except ModelFileRejected as rejection:
            raise forms.ValidationError(rejection.message) from None
        return path


def duplicate_name(name: str) -> str:
    return f"A model named “{name}” is already registered."
