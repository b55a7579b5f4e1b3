import json
import sys

from django.core.management.base import BaseCommand, CommandError

from appliance.errors import QuestionInvalid
from appliance.runtime import question_screener
from guardrails.models import PolicyVersion
from guardrails.publishing import current_policy


class Command(BaseCommand):
    help = (
        'Screen questions read as JSON lines {"text": ...} from stdin; writes one JSON line per input: '
        '{"action", "findings", "policy_version"}, or {"error"} for a line that is not a question.'
    )

    def add_arguments(self, parser):
        parser.add_argument("--policy-version", type=int, help="screen under this published version (default: the current one)")

    def handle(self, *args, policy_version, **options):
        policy = self.chosen_policy(policy_version)
        screener = question_screener()  # models load once, for every line
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                result = screener.run(question_text(line), policy).as_dict()
            except QuestionInvalid as error:
                result = {"error": f"line {number}: {error.message}"}
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            self.stdout.flush()

    def chosen_policy(self, number):
        if number is None:
            return current_policy()
        version = PolicyVersion.objects.filter(number=number).first()
        if version is None:
            raise CommandError(f"there is no policy version {number}")
        return version.to_policy()


def question_text(line: str) -> str:
    """The "text" of one input line. Raises QuestionInvalid saying what is wrong with the line."""
    try:
        item = json.loads(line)
    except ValueError as error:
        raise QuestionInvalid(f"not JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(item, dict) or "text" not in item:
        raise QuestionInvalid('expected an object with a "text" field')
    if not isinstance(item["text"], str):
        raise QuestionInvalid(f'"text" must be a string, not {type(item["text"]).__name__}')
    return item["text"]
