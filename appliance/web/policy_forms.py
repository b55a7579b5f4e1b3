"""The screening policy as a form a compliance officer fills in.

Entity types are a table of choices. Denied topics and organisation patterns are text areas with
one item per line, because officers paste them from documents and spreadsheets:

    Denied topics:   Topic name: an example question
    Patterns:        Name | block or sensitive | regular expression

Any error names its line. The rules assembled from the form go through Policy.from_rules, the
same validation a stored version passes.
"""
from django import forms

from appliance.plain_words import entity_words, score_words
from guardrails.pii import PiiScanner
from guardrails.policy import MAX_QUESTION_CHARS_LIMIT, Policy, PolicyInvalid
from guardrails.topics import REPORT_FRACTION, report_from

ENTITY_CHOICES = [("", "report only: recorded for officers"), ("sensitive", "sensitive: perimeter only"), ("block", "block")]
LABEL_CHOICES = [
    ("public", "does not raise it"), ("internal", "internal"), ("confidential", "confidential"),
    ("restricted", "restricted"),
]


def score_field(label: str, help_text: str, required: bool = True) -> forms.FloatField:
    return forms.FloatField(label=label, min_value=0, max_value=1, required=required, help_text=help_text,
                            widget=forms.NumberInput(attrs={"step": "0.01"}))


TOPIC_HELP = ("Similarity to a topic's example from which a question is blocked. At {block}, a question from "
              "{report} up to {block} is only reported: recorded for officers in its trace, and still answered.")


def topic_help(threshold) -> str:
    """The denied-topic similarity's help, with the numbers for THRESHOLD (as entered; the general
    rule when it is not a number)."""
    try:
        block = float(threshold)
    except (TypeError, ValueError):
        return ("Similarity to a topic's example from which a question is blocked. A question a little below it "
                f"(from {REPORT_FRACTION:.0%} of it) is only reported: recorded for officers, and still answered.")
    return TOPIC_HELP.format(block=score_words(block), report=score_words(report_from(block)))


class PolicyForm(forms.Form):
    pii_min_score = score_field("Minimum PII score", "Personal-data findings scoring lower are ignored.")
    injection_min_score = score_field(
        "Injection classifier threshold", "The classifier's probability from which a question is blocked as an attack.")
    topic_min_similarity = score_field(
        "Denied-topic similarity", "Similarity to a topic's example from which a question is blocked.")
    max_question_chars = forms.IntegerField(
        label="Longest question (characters)", min_value=1, max_value=MAX_QUESTION_CHARS_LIMIT,
        help_text="Longer questions are blocked before any other check.")
    refusal_text = forms.CharField(label="Refusal text", max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
                                   help_text="What an analyst reads when a question is blocked.")
    denied_topics = forms.CharField(
        label="Denied topics", required=False, widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="One example per line: “Topic name: example question”. Several lines with the same name make one topic.")
    patterns = forms.CharField(
        label="Organisation patterns", required=False, widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="One per line: “Name | block or sensitive | regular expression”, e.g. “Employee number | sensitive | EMP-\\d{6}”.")
    change_note = forms.CharField(label="What changed and why", max_length=500,
                                  help_text="Kept with the version in the audit trail.")

    def __init__(self, *args, policy: Policy, **kwargs):
        entities = sorted(
            set(PiiScanner.supported_entities()) | set(policy.entity_actions) | set(policy.entity_min_scores)
            | set(policy.entity_labels)
        )
        kwargs.setdefault("initial", initial_values(policy, entities))
        super().__init__(*args, **kwargs)
        self.entities = entities
        similarity = self.fields["topic_min_similarity"]
        similarity.help_text = topic_help(self.data.get("topic_min_similarity") if self.is_bound
                                          else self.get_initial_for_field(similarity, "topic_min_similarity"))
        for entity in entities:
            words = entity_words(entity)
            self.fields[f"action_{entity}"] = forms.ChoiceField(choices=ENTITY_CHOICES, required=False, label=words)
            self.fields[f"min_score_{entity}"] = score_field(f"Minimum score for {words}", "", required=False)
            self.fields[f"label_{entity}"] = forms.ChoiceField(
                choices=LABEL_CHOICES, label=f"Label a document containing {words} at least")
            self.fields[f"reveal_{entity}"] = forms.BooleanField(
                required=False, label=f"Analysts may reveal {words} in a source passage")

    def entity_rows(self):
        """(entity type in words, its code, action field, min-score field, document label field, passage
        reveal field) for the table in the template, in the order of the words."""
        rows = [(entity_words(entity), entity, self[f"action_{entity}"], self[f"min_score_{entity}"],
                 self[f"label_{entity}"], self[f"reveal_{entity}"]) for entity in self.entities]
        return sorted(rows, key=lambda row: (row[0].casefold(), row[1]))

    def clean_denied_topics(self):
        topics: dict[str, list[str]] = {}
        for number, line in numbered_lines(self.cleaned_data["denied_topics"]):
            name, separator, example = line.partition(":")
            if not separator or not name.strip() or not example.strip():
                raise forms.ValidationError(f"Line {number}: write “Topic name: example question”.")
            topics.setdefault(name.strip(), []).append(example.strip())
        return [{"name": name, "examples": examples} for name, examples in topics.items()]

    def clean_patterns(self):
        patterns = []
        for number, line in numbered_lines(self.cleaned_data["patterns"]):
            parts = line.split("|", 2)
            if len(parts) != 3:
                raise forms.ValidationError(f"Line {number}: write “Name | block or sensitive | regular expression”.")
            name, action, regex = (part.strip() for part in parts)
            patterns.append({"name": name, "regex": regex, "action": action.lower()})
        return patterns

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.policy = Policy.from_rules(self.rules())
        except PolicyInvalid as error:
            raise forms.ValidationError(error.message) from None
        return cleaned

    def rules(self) -> dict:
        data = self.cleaned_data
        return {
            "entity_actions": {e: data[f"action_{e}"] for e in self.entities if data.get(f"action_{e}")},
            "entity_min_scores": {e: data[f"min_score_{e}"] for e in self.entities if data.get(f"min_score_{e}") is not None},
            "pii_min_score": data["pii_min_score"],
            "injection_min_score": data["injection_min_score"],
            "topic_min_similarity": data["topic_min_similarity"],
            "denied_topics": data["denied_topics"],
            "patterns": data["patterns"],
            "refusal_text": data["refusal_text"],
            "max_question_chars": data["max_question_chars"],
            "entity_labels": {e: data[f"label_{e}"] for e in self.entities},
            "passage_reveal": passage_reveal([e for e in self.entities if data.get(f"reveal_{e}")]),
        }


def numbered_lines(text: str):
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line.strip()


def initial_values(policy: Policy, entities: list[str]) -> dict:
    values = {
        "pii_min_score": policy.pii_min_score,
        "injection_min_score": policy.injection_min_score,
        "topic_min_similarity": policy.topic_min_similarity,
        "max_question_chars": policy.max_question_chars,
        "refusal_text": policy.refusal_text,
        "denied_topics": "\n".join(f"{topic.name}: {example}" for topic in policy.denied_topics for example in topic.examples),
        "patterns": "\n".join(f"{p.name} | {p.action} | {p.regex}" for p in policy.patterns),
    }
    for entity in entities:
        values[f"action_{entity}"] = policy.entity_actions.get(entity, "")
        values[f"min_score_{entity}"] = policy.entity_min_scores.get(entity)
        values[f"label_{entity}"] = policy.label_for_entity(entity)
        values[f"reveal_{entity}"] = policy.may_reveal([ANALYST], entity)
    return values


ANALYST = "analyst"  # the one role that opens source passages


def passage_reveal(entities: list[str]) -> dict:
    return {ANALYST: entities} if entities else {}
