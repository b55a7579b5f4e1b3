"""The compliance console's filters, read from the query string so a filtered list can be
bookmarked, paged and exported with the same address."""
from urllib.parse import urlencode

from django import forms

from appliance.audit.review import REVIEW_STATES, described
from appliance.routing.models import Perimeter

# A value ending in "." selects a family of actions.
ACTION_CHOICES = [
    ("", "any action"),
    ("Answer traces", [("answer.", "every answer trace"), ("answer.answered", "answered"),
                       ("answer.refused", "refused"), ("answer.blocked", "blocked")]),
    ("Reviews", [("review.", "every review"), ("review.reviewed", "marked reviewed"),
                 ("review.annotated", "annotated"), ("review.escalated", "escalated")]),
    ("Changes", [("document.", "documents"), ("collection.", "collections"), ("policy.", "question policy"),
                 ("model.", "model registry"), ("roles.", "roles")]),
    ("Access", [("login.failed", "failed sign-ins"), ("access.denied", "denied access"),
                ("ledger.", "ledger reads, exports and verification")]),
]
OUTCOME_CHOICES = [
    ("", "any outcome"), ("answered", "answered (model text, grounded)"), ("quoted", "quoted (evidence only)"),
    ("not_found", "not in the documents"), ("refused", "refused"), ("blocked", "blocked"),
]
DATE_ERROR = "Write dates as YYYY-MM-DD, for example 2026-03-04."


def date_field(label: str) -> forms.DateField:
    return forms.DateField(label=label, required=False, input_formats=["%Y-%m-%d"],
                           error_messages={"invalid": DATE_ERROR}, widget=forms.DateInput(attrs={"type": "date"}))


def label_field(label: str, suggestions: str) -> forms.CharField:
    return forms.CharField(label=label, required=False, max_length=200,
                           widget=forms.TextInput(attrs={"list": suggestions}))


class LedgerFilterForm(forms.Form):
    user = label_field("User", "known-user")
    date_from = date_field("From (UTC)")
    date_to = date_field("To (UTC)")
    action = forms.ChoiceField(
        label="Action", required=False, choices=ACTION_CHOICES,
        error_messages={"invalid_choice": "“%(value)s” is not an action the console filters on."})
    outcome = forms.ChoiceField(label="Outcome", required=False, choices=OUTCOME_CHOICES,
                                error_messages={"invalid_choice": "“%(value)s” is not an outcome of an answer."})
    route = label_field("Route", "known-route")
    perimeter = forms.ChoiceField(label="Perimeter", required=False,
                                  choices=[("", "any perimeter"), *Perimeter.choices])
    entity = label_field("Entity type", "known-entity")
    collection = label_field("Collection", "known-collection")
    model = label_field("Model", "known-model")
    review_state = forms.ChoiceField(label="Review state", required=False,
                                     choices=[("", "any review state"), *((state, state) for state in REVIEW_STATES)])

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(f"The start date {start} is after the end date {end}.")
        return cleaned

    def filters(self) -> dict:
        """The cleaned filters, as keyword arguments of review.filtered_entries()."""
        return {name: value for name, value in self.cleaned_data.items() if value}

    def query_string(self) -> str:
        """The filters given, as a query string ("" when none) for page and export links."""
        return urlencode(described(self.filters())) if self.is_valid() else ""
