"""Template filters that name a code in words (appliance/plain_words.py): `{{ entity|entity_words }}`."""
from django import template

from appliance import plain_words

register = template.Library()
register.filter("entity_words", plain_words.entity_words)
register.filter("route_words", plain_words.route_name_words)
register.filter("action_words", plain_words.action_words)
register.filter("target_words", plain_words.target_words)
register.filter("read_words", plain_words.read_words)


@register.filter
def characters(finding: dict) -> str:
    """`{{ finding|characters }}`: its span, 1-based and inclusive ("19-37"; plain_words.character_range)."""
    return plain_words.character_range(finding.get("start"), finding.get("end"))
