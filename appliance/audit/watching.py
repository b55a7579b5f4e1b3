"""Watching the chain: the worker verifies it every AUDIT_VERIFY_MINUTES, not only when someone asks.

- watch_chain() verifies what was added since the last signed checkpoint it verified: the
  entries after it (re-read on every run until a checkpoint covers them, so an entry rewritten
  after a first look is still caught) and the checkpoint lines written since. It resumes from
  the whole ledger when asked to (daily, and for `audit verify` and "Verify now"), when the
  last run found the chain broken, or when its own record does not hold.
- Its result is kept in one ChainCheck row: the console's badge, the banner every compliance
  officer sees on every page, and /healthz read it. The row carries a MAC under the ledger's MAC
  key, so a database writer can neither mark a broken chain intact nor move the resume point
  past entries they rewrote. Replaying an older row only makes the next run re-read more.
- Each intact run also writes how many entries it verified to a file beside the checkpoint file
  (verified.json, outside the database). A later run that finds fewer entries reports the cut
  tail. This narrows the one thing a database writer can still do unseen, cutting entries off the
  end, to those written since the last run (docs/audit.md).
- The first run that finds the chain broken writes one "ledger.chain_broken" entry. Later runs
  that find it still broken do not repeat it; a run that finds it intact again re-arms it.
"""
import hmac
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

from django.conf import settings

from django.db import DatabaseError, transaction
from django.utils import timezone

from appliance.accounts.roles import Role, roles_of
from appliance.audit.chain import canonical_json
from appliance.audit.checkpoints import now_utc
from appliance.audit.models import ChainCheck
from appliance.audit.recording import mac_key, record_event
from appliance.audit.sealing import LedgerKey
from appliance.audit.verification import Position, VerificationReport, verify_ledger
from appliance.errors import ApplianceError

logger = logging.getLogger(__name__)

ALERT = "ledger.chain_broken"
RECORD_CHANGED = "The record of the chain's last verification was changed outside the appliance."


class CheckpointRefused(ApplianceError):
    code = "checkpoint_refused"
    status = 409


@dataclass(frozen=True)
class ChainState:
    """The last verification, as the badge, the banner and /healthz show it."""

    checked_at: datetime
    entries: int
    checkpoints: int
    is_intact: bool
    first_problem: str
    before_macs: int = 0


def watch_chain(*, whole: bool = False, checkpoint_file=None, key: LedgerKey | None = None) -> VerificationReport:
    """Verify the chain incrementally (everything when WHOLE; with the ledger KEY, open every
    sealed field of what is read), keep the result, and on a newly broken chain write one alert
    entry. Returns the report."""
    with transaction.atomic():
        # Locked, so two runs at once (the beat and a checkpoint) cannot both write the alert.
        check = ChainCheck.objects.select_for_update().filter(pk=1).first()
        holds = check is None or record_holds(check)
        start = None if whole or check is None or not holds or not check.is_intact else position_of(check)
        report = verify_ledger(checkpoint_file=checkpoint_file, start=start, key=key)
        if not holds:
            report.add(None, RECORD_CHANGED)
        compare_with_watermark(report, checkpoint_file)
        keep_result(check if holds else None, report)
    return report


def watermark_path(checkpoint_file=None) -> Path:
    return Path(checkpoint_file or settings.AUDIT_CHECKPOINT_FILE).with_name("verified.json")


def compare_with_watermark(report: VerificationReport, checkpoint_file=None) -> None:
    """Report entries verified by an earlier run that are gone; raise the mark after an intact run."""
    path = watermark_path(checkpoint_file)
    try:
        mark = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        mark = {"entries": 0, "at": ""}
    if report.entries < mark["entries"]:
        report.add(report.entries + 1, f"The ledger ends at entry #{report.entries}, but entry #{mark['entries']} was "
                                       f"verified at {mark['at']}: entries #{report.entries + 1} to #{mark['entries']} "
                                       "were removed.", span=True)
    elif report.is_intact and report.entries > mark["entries"]:
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".verified.{os.getpid()}.json")
        draft.write_text(json.dumps({"entries": report.entries, "at": now_utc()}), encoding="utf-8")
        draft.replace(path)  # atomic: a reader sees the old mark or the new one


def raise_alarm(problem: str) -> None:
    """Record PROBLEM (found outside verify_ledger, e.g. by a checkpoint's consistency proof) as
    the chain's state, with its alert if none is out yet."""
    with transaction.atomic():
        check = ChainCheck.objects.select_for_update().filter(pk=1).first()
        report = VerificationReport()
        if check is not None:
            report.entries, report.checkpoints = check.entries, check.checkpoints
        report.add(None, problem)
        keep_result(check if check is not None and record_holds(check) else None, report)


def keep_result(check: ChainCheck | None, report: VerificationReport) -> None:
    check = check or ChainCheck(pk=1)
    check.checked_at = timezone.now()
    check.entries, check.checkpoints, check.before_macs = report.entries, report.checkpoints, report.before_macs
    check.is_intact = report.is_intact
    check.first_problem = "" if report.is_intact else report.problems[0].message
    if report.is_intact:
        resume = report.resume
        check.resume_size, check.resume_hash, check.resume_line = resume.size, resume.last_hash, resume.line
        check.resume_frontier, check.alerted_seq = list(resume.frontier), None
        check.resume_before_macs = resume.before_macs
    elif check.alerted_seq is None:
        logger.error("The audit ledger's chain is broken: %s", check.first_problem)
        check.alerted_seq = record_alert(check.first_problem, report)
    check.mac = record_mac(check)
    check.save()


def record_alert(first_problem: str, report: VerificationReport) -> int | None:
    """Append the alert entry; its number, or None when the ledger cannot be appended to (a head
    row tampered with as well): then the next run tries again, and the state says broken anyway."""
    try:
        alert = record_event(ALERT, None, None, first_problem=first_problem, problems=len(report.problems),
                             entries=report.entries)
    except (ValueError, DatabaseError):
        logger.exception("Could not record the broken chain in the audit ledger")
        return None
    return alert.seq


def position_of(check: ChainCheck) -> Position:
    return Position(check.resume_size, check.resume_hash, tuple(check.resume_frontier), check.resume_line,
                    check.resume_before_macs)


def record_mac(check: ChainCheck) -> str:
    fields = {
        "checked_at": check.checked_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "entries": check.entries, "checkpoints": check.checkpoints, "is_intact": check.is_intact,
        "first_problem": check.first_problem, "before_macs": check.before_macs, "alerted_seq": check.alerted_seq,
        "resume": [check.resume_size, check.resume_hash, list(check.resume_frontier), check.resume_line,
                   check.resume_before_macs],
    }
    return hmac.new(mac_key(), b"appliance-chain-check:" + canonical_json(fields), sha256).hexdigest()


def record_holds(check: ChainCheck) -> bool:
    return hmac.compare_digest(record_mac(check), check.mac)


def latest_chain_state() -> ChainState | None:
    """The last verification (None: the chain was never verified). A record changed outside the
    appliance shows as a broken chain."""
    check = ChainCheck.objects.filter(pk=1).first()
    if check is None:
        return None
    if not record_holds(check):
        return ChainState(check.checked_at, check.entries, check.checkpoints, False, RECORD_CHANGED)
    return ChainState(check.checked_at, check.entries, check.checkpoints, check.is_intact, check.first_problem,
                      check.before_macs)


def shown_chain_state() -> ChainState:
    """The last verification; if the chain was never verified (a fresh install, before the
    worker's first run), it is verified now, so the console never shows "not verified"."""
    state = latest_chain_state()
    if state is None:
        watch_chain()
        state = latest_chain_state()
    return state


def chain_alarm(request) -> dict:
    """Template context: the broken chain's state for compliance officers, on every page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or Role.COMPLIANCE not in roles_of(user):
        return {}
    state = latest_chain_state()
    return {"chain_alarm": state} if state is not None and not state.is_intact else {}
