"""The compliance console's filters, read from the query string so a filtered list can be
bookmarked, paged and exported with the same address."""
from datetime import UTC, date, datetime
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
                 ("review.annotated", "annotated"), ("review.escalated", "escalated"),
                 ("review.resolved", "escalation resolved")]),
    ("Changes", [("document.", "documents"), ("collection.", "collections"), ("policy.", "question policy"),
                 ("model.", "model registry"), ("person.", "people created"), ("roles.", "roles"),
                 ("team.", "teams created"), ("teams.", "team membership")]),
    ("Access", [("login.failed", "failed sign-ins"), ("access.denied", "denied access"),
                ("ledger.", "ledger reads, exports and verification")]),
]
OUTCOME_CHOICES = [
    ("", "any outcome"), ("answered", "answered (model text, grounded)"), ("quoted", "quotes only (evidence only)"),
    ("not_found", "not in the documents"), ("refused", "refused"), ("blocked", "blocked"),
]
DATE_ERROR = ("Write a date as YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC), as the list shows them, "
              "for example 2026-03-04 or 2026-03-04 09:30:00.")
SHOWN_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


class MomentField(forms.Field):
    """A UTC day ("2026-03-04", a date) or a second ("2026-03-04 09:30:00", an aware datetime):
    what the list shows in its time column, so a time copied from a row filters on it. A text
    input, not the browser's date picker, which shows dates in the browser's locale."""

    default_error_messages = {"invalid": DATE_ERROR}

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        for fmt in SHOWN_FORMATS:
            try:
                return datetime.strptime(value, fmt).replace(tzinfo=UTC)
            except ValueError:
                pass
        try:
            return datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            raise forms.ValidationError(DATE_ERROR, code="invalid") from None

    def prepare_value(self, value):
        return shown(value) if isinstance(value, date) else value


def date_field(label: str) -> MomentField:
    return MomentField(label=label, required=False,
                       widget=forms.TextInput(attrs={"placeholder": "YYYY-MM-DD HH:MM:SS", "size": 19}))


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

    # Not a filter: whether the viewing officer's own reads are folded (default) or listed.
    own_reads = forms.ChoiceField(required=False, choices=[("", "folded"), ("shown", "shown")],
                                  widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and lower_bound(start) > lower_bound(end):
            raise forms.ValidationError(f"The start date {shown(start)} is after the end date {shown(end)}.")
        return cleaned

    def filters(self) -> dict:
        """The cleaned filters, as keyword arguments of review.filtered_entries()."""
        return {name: value for name, value in self.cleaned_data.items() if value and name != "own_reads"}

    def shows_own_reads(self) -> bool:
        return self.cleaned_data.get("own_reads") == "shown"

    def query_string(self, *, own_reads: bool | None = None) -> str:
        """The filters given, as a query string ("" when none) for page and export links; with
        "own_reads=shown" when OWN_READS (default: as given)."""
        if not self.is_valid():
            return ""
        own_reads = self.shows_own_reads() if own_reads is None else own_reads
        return urlencode(described(self.filters()) | ({"own_reads": "shown"} if own_reads else {}))


def lower_bound(moment: date) -> datetime:
    return moment if isinstance(moment, datetime) else datetime.combine(moment, datetime.min.time(), tzinfo=UTC)


def shown(moment: date) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}" if isinstance(moment, datetime) else moment.isoformat()
