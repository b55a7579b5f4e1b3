"""The audit ledger from the command line.

    manage.py audit checkpoint                       sign the ledger's size and root now; exit 1 if the chain is broken
    manage.py audit verify [--deep]                  exit 0 when intact; 1 naming the first bad entry
    manage.py audit export --format jsonl|csv [--since DATE] [--output FILE] [--without-sealed]
    manage.py audit evidence TRACE_ID [--output FILE]  one answer's evidence bundle (tools/verify_evidence.py)
    manage.py audit public-key                       the key that checkpoints are signed with (hex)
    manage.py audit destroy-expired                  apply the retention period now (the worker does it daily)

Every export and evidence bundle is itself recorded in the ledger. An export is the console's: each
answer carries its review state, reviewer and review notes.
"""
import json
import sys
from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError

from appliance.audit.checkpoints import public_key_bytes, write_checkpoint
from appliance.audit.models import LedgerEntry
from appliance.audit.retention import destroy_expired_payloads
from appliance.audit.review import evidence_of, export_entries
from appliance.audit.sealing import ledger_key
from appliance.audit.watching import CheckpointRefused, watch_chain


class Command(BaseCommand):
    help = "Checkpoint, verify and export the audit ledger."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        commands.add_parser("checkpoint", help="write a signed checkpoint now")
        verify = commands.add_parser("verify", help="verify the chain, payloads and checkpoints")
        verify.add_argument("--deep", action="store_true", help="also open every sealed field with the ledger key")
        export = commands.add_parser("export", help="write entries as JSON lines or CSV")
        export.add_argument("--format", choices=["jsonl", "csv"], required=True)
        export.add_argument("--since", type=parse_date, help="only entries from this UTC date (YYYY-MM-DD) on")
        export.add_argument("--output", help="file to write (default: standard output)")
        export.add_argument("--without-sealed", action="store_true", help="leave the sealed fields out")
        evidence = commands.add_parser("evidence", help="the evidence bundle of one answer")
        evidence.add_argument("trace_id")
        evidence.add_argument("--output", help="file to write (default: standard output)")
        commands.add_parser("public-key", help="print the checkpoint signing key's public half (hex)")
        commands.add_parser("destroy-expired", help="destroy sealed fields past the retention period")

    def handle(self, *args, command, **options):
        getattr(self, "handle_" + command.replace("-", "_"))(**options)

    def handle_checkpoint(self, **_options):
        try:
            checkpoint = write_checkpoint()
        except CheckpointRefused as refused:
            self.stderr.write(refused.message)
            sys.exit(1)
        self.stdout.write(json.dumps(checkpoint.as_dict(), sort_keys=True))

    def handle_verify(self, *, deep, **_options):
        report = watch_chain(whole=True, key=ledger_key() if deep else None)
        if report.is_intact:
            self.stdout.write(report.summary)
            return
        for problem in report.problems:
            self.stderr.write(problem.message)
        sys.exit(1)

    def handle_export(self, *, format, since, output, without_sealed, **_options):
        # The console's export (review.export_entries): the same rows, each answer with its review
        # state, reviewer and notes (notes are sealed: left out --without-sealed).
        filters = {"date_from": since} if since is not None else {}
        lines = export_entries(None, filters, format, channel="command", with_sealed=not without_sealed)
        with open_output(output, self.stdout) as out:
            for line in lines:
                out.write(line)

    def handle_evidence(self, *, trace_id, output, **_options):
        entry = LedgerEntry.objects.filter(target_type="trace", target_id=trace_id).first()
        if entry is None:
            raise CommandError(f"No answer trace has the id {trace_id}.")
        try:
            bundle = evidence_of(None, entry, channel="command")
        except CheckpointRefused as refused:
            raise CommandError(refused.message) from None
        with open_output(output, self.stdout) as out:
            out.write(json.dumps(bundle, ensure_ascii=False, indent=2, sort_keys=True) + "\n")

    def handle_public_key(self, **_options):
        self.stdout.write(public_key_bytes().hex())

    def handle_destroy_expired(self, **_options):
        self.stdout.write(f"Destroyed {destroy_expired_payloads()} sealed payload(s) past the retention period.")


def parse_date(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise CommandError(f"--since {value!r} is not a date: write it as YYYY-MM-DD.") from None


class open_output:
    """A file named PATH to write, or STDOUT when PATH is None."""

    def __init__(self, path: str | None, stdout):
        self.path, self.stdout, self.file = path, stdout, None

    def __enter__(self):
        if self.path is None:
            return self.stdout
        try:
            self.file = open(self.path, "w", encoding="utf-8", newline="")
        except OSError as error:
            raise CommandError(f"Cannot write {self.path}: {error.strerror}.") from None
        return self.file

    def __exit__(self, *exc):
        if self.file is not None:
            self.file.close()
