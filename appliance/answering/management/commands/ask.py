import json

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from appliance.accounts.roles import has_permission
from appliance.answering.pipeline import answer_question
from appliance.errors import ApplianceError
from appliance.runtime import borrowed_parts


class Command(BaseCommand):
    help = (
        "Answer a question in this process as USER; prints one JSON object: trace_id, action "
        "(answered, refused, blocked), outcome, route (model, perimeter, reason), citations, answer, evidence, "
        "related, flags, and reasons (why a blocked question was blocked, in plain words)."
    )

    def add_arguments(self, parser):
        parser.add_argument("question")
        parser.add_argument("--user", required=True, help="ask as this analyst: only collections granted to their teams")
        parser.add_argument("--collection", action="append", dest="collections", metavar="NAME",
                            help="ask about this collection (repeatable; default: every collection granted to the user)")

    def handle(self, *args, question, user, collections, **options):
        person = User.objects.filter(username=user, is_active=True).first()
        if person is None:
            raise CommandError(f"no active user named {user!r}")
        if not has_permission(person, "ask_questions"):
            raise CommandError(f"{user!r} may not ask questions (not an analyst)")
        try:
            with borrowed_parts() as parts:
                answer = answer_question(person, question, parts, collections=collections)
        except ApplianceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(json.dumps(answer.as_dict(), ensure_ascii=False))
