from django import forms

from ingest.models import Classification, Collection


class CollectionForm(forms.Form):
    name = forms.CharField(max_length=100, validators=Collection._meta.get_field("name").validators)
    classification = forms.ChoiceField(
        choices=Classification.choices, initial=Classification.INTERNAL,
        help_text="Public: an outside model may answer questions about it, when one is configured. Internal, "
        "Confidential and Restricted: only models inside the perimeter answer, and every answer is listed for "
        "the compliance officers' review. A passage is labelled higher than its collection when the personal "
        "data in it calls for that.",
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Collection.team_groups(), required=False, widget=forms.CheckboxSelectMultiple,
        label="Teams that may ask about it",
    )
    redact_pii = forms.BooleanField(required=False, label="Redact personal data before indexing")

    def __init__(self, *args, instance: Collection | None = None, **kwargs):
        if instance is not None:
            kwargs.setdefault("initial", {
                "name": instance.name, "classification": instance.classification,
                "groups": list(instance.groups.all()), "redact_pii": instance.redact_pii,
            })
        super().__init__(*args, **kwargs)
        self.instance = instance
        if instance is not None:
            self.fields["name"].disabled = True  # the name is how people and scripts refer to it

    def clean_name(self):
        name = self.cleaned_data["name"]
        if self.instance is None and Collection.objects.filter(name=name).exists():
            raise forms.ValidationError(f"A collection named “{name}” already exists.")
        return name


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern). Empty files pass the form so
    that ingestion can reject each with its own reason while the others go ahead."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(label="Files")


class ReplaceForm(forms.Form):
    file = forms.FileField(label="New version", allow_empty_file=True)
