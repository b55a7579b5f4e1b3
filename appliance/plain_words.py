"""What a code means to the person reading it.

Traces, policies and findings store codes ("CREDIT_CARD", "injection_classifier", "local-specialist",
"not_found", "screen_ms"). Every page an officer, analyst or admin reads names them from here, in
words; where a page shows the code too, it is secondary (muted) text beside the words. Nothing here
changes what is stored: the ledger and the policies keep their codes.

    entity_name("IBAN_CODE")   -> "a bank account number (IBAN)"   (in a sentence)
    entity_words("IBAN_CODE")  -> "bank account number (IBAN)"     (a label, a column, a mask)
    detector_words("pii")      -> "personal data scanner"
    outcome_words("not_found") -> "Not in the documents"
    route_name_words("local-specialist") -> "Inside the perimeter"
    check_words("grounding")   -> "grounding: says only what its quotes say"
    timing_rows({"screen_ms": 41.2}) -> [("screening", "41 ms", "screen_ms")]
"""
import re

# Entity types with their article, as a sentence reads them: "it contains {name}". A type missing
# here is never shown by its code alone (UNNAMED_ENTITY, with the code as secondary text).
ENTITY_NAMES = {
    "PERSON": "a person's name",
    "NRP": "a nationality, religion or political group",
    "LOCATION": "a place",
    "DATE_TIME": "a date or time",
    "EMAIL_ADDRESS": "an e-mail address",
    "PHONE_NUMBER": "a phone number",
    "URL": "a web address",
    "IP_ADDRESS": "an IP address",
    "MAC_ADDRESS": "a network hardware (MAC) address",
    "CREDIT_CARD": "a payment card number",
    "IBAN_CODE": "a bank account number (IBAN)",
    "CRYPTO": "a cryptocurrency wallet address",
    "US_BANK_NUMBER": "a US bank account number",
    "US_SSN": "a US social security number",
    "US_ITIN": "a US taxpayer identification number",
    "US_PASSPORT": "a US passport number",
    "US_DRIVER_LICENSE": "a US driver's licence number",
    "MEDICAL_LICENSE": "a medical licence number",
    "UK_NHS": "a UK NHS number",
    "ES_NIF": "a Spanish tax id (NIF)",
    "ES_NIE": "a Spanish foreigner's id (NIE)",
    "IT_FISCAL_CODE": "an Italian fiscal code",
    "PL_PESEL": "a Polish national id (PESEL)",
    "FI_PERSONAL_IDENTITY_CODE": "a Finnish personal identity code",
    "SE_PERSONNUMMER": "a Swedish personal identity number",
    "NL_BSN": "a Dutch citizen service number (BSN)",
    "FR_NIR": "a French social security number (NIR)",
    "BE_NATIONAL_NUMBER": "a Belgian national register number",
    "DE_TAX_ID": "a German tax id (Steuer-ID)",
}
UNNAMED_ENTITY = "a kind of personal data the policy does not allow"
UNNAMED_ENTITY_WORDS = "another kind of personal data"

# Screening detectors (Finding.detector), as the officer reads them.
DETECTOR_WORDS = {
    "length": "question length",
    "pii": "personal data scanner",
    "policy_pattern": "organisation pattern",
    "injection_rules": "injection rules",
    "injection_classifier": "injection classifier",
    "harmful_request": "harmful-request detector",
    "obfuscation": "hidden-text check",
    "denied_topic": "denied topic",
    "llm_self_check": "model self-check",
    "screening": "a check that could not run",
}

# What a finding asks for under the policy (Finding.action), as a verb on the question. A report
# finding is kept in the trace the officers read and changes nothing (guardrails/findings.py).
FINDING_ACTION_WORDS = {
    "block": "blocks",
    "sensitive": "keeps it inside",
    "report": "recorded for officers; does not stop the question",
}

# A whole verdict (Verdict.action).
VERDICT_WORDS = {"block": "blocked", "sensitive": "kept inside: sensitive", "clean": "clean"}

# An answer trace's outcome.
OUTCOME_WORDS = {
    "answered": "Answered",
    "quoted": "Quotes only",
    "not_found": "Not in the documents",
    "refused": "Refused",
    "blocked": "Blocked",
}

# Routes (routing/decision.py) and perimeters.
ROUTE_WORDS = {
    "local-specialist": "Inside the perimeter",
    "external-general": "Outside the perimeter",
    "refuse": "No model allowed",
}
PERIMETER_WORDS = {"internal": "Inside the perimeter", "external": "Outside the perimeter"}
# Where a route's sensitivity came from (Route.sources).
SOURCE_WORDS = {
    "question": "the question",
    "collections": "the collections asked",
    "chunks": "the passages retrieved",
    "conversation": "the conversation so far",
}

# Output checks (answering/checking.py), each with what it checks.
CHECK_WORDS = {
    "grounding": "grounding: says only what its quotes say (figures, names, quotations)",
    "personal data": "personal data: none the analyst may not see",
    "outside links": "outside links: none to hosts outside",
    "prompt echo": "prompt echo: does not repeat its instructions",
}

# What a failed output check found, for the queue's flag ("Output check failed: ...").
CHECK_FAILURE_WORDS = {
    "grounding": "the answer's wording is not in its quotes",
    "personal data": "personal data the analyst may not see",
    "outside links": "links to hosts outside",
    "prompt echo": "it repeated its instructions",
}

# Timings of an answer trace (pipeline.answer_question), in the order the steps run.
TIMING_WORDS = {
    "screen_ms": "screening the question",
    "retrieve_ms": "retrieving passages",
    "evidence_ms": "choosing the quotes",
    "evidence_shown_ms": "quotes shown, from the question",
    "first_piece_ms": "first words of the answer, from the question",
    "generate_ms": "generating the answer",
    "last_piece_ms": "last words of the answer, from the question",
    "check_ms": "checking the answer",
    "pieces": "pieces the model wrote",
}


def entity_name(entity_type: str) -> str:
    """ENTITY_TYPE (e.g. "US_SSN") in plain words with its article ("a US social security number")."""
    return ENTITY_NAMES.get(entity_type, UNNAMED_ENTITY)


def entity_words(entity_type: str) -> str:
    """ENTITY_TYPE in plain words without an article, for a label or a mask: "payment card number"."""
    if entity_type not in ENTITY_NAMES:
        return UNNAMED_ENTITY_WORDS
    return re.sub(r"^(?:a|an) ", "", ENTITY_NAMES[entity_type])


def detector_words(detector: str) -> str:
    return DETECTOR_WORDS.get(detector, detector.replace("_", " "))


def finding_type_words(detector: str, finding_type: str) -> str:
    """What a finding is about, in words: the entity type for personal data, the name an officer
    gave for a pattern or a topic, the kind of hidden text; "" when its detector says it all."""
    if detector == "pii":
        return entity_words(finding_type)
    if detector in ("policy_pattern", "denied_topic", "obfuscation"):
        return finding_type
    return ""


def finding_action_words(action: str) -> str:
    return FINDING_ACTION_WORDS.get(action, action)


def verdict_words(action: str) -> str:
    return VERDICT_WORDS.get(action, action)


def outcome_words(outcome: str) -> str:
    return OUTCOME_WORDS.get(outcome, outcome.replace("_", " ").capitalize())


def route_name_words(name: str) -> str:
    return ROUTE_WORDS.get(name, name)


def perimeter_words(perimeter: str | None) -> str:
    return PERIMETER_WORDS.get(perimeter or "", "—")


def source_words(source: str) -> str:
    return SOURCE_WORDS.get(source, source)


def check_words(name: str) -> str:
    """An output check's name with what it checks; an unknown check reads as its name."""
    return CHECK_WORDS.get(name, name)


def score_words(value: float) -> str:
    """A score or similarity as an officer reads it: two decimals, three when the third counts
    (0.70, 0.63, 0.675)."""
    words = f"{round(value, 3):.3f}"
    return words[:-1] if words.endswith("0") else words


def check_failure_words(name: str) -> str:
    """What a failed output check found, in plain words; an unknown check reads as its name."""
    return CHECK_FAILURE_WORDS.get(name, name)


def check_short_words(name: str) -> str:
    """An output check's name alone, for a flag: "grounding"."""
    return check_words(name).split(":", 1)[0]


def timing_rows(timings: dict) -> list[tuple[str, str, str]]:
    """An answer trace's TIMINGS as (step in words, value with its unit, key), known steps in the
    order they run, then any other in the stored order."""
    known = [key for key in TIMING_WORDS if key in timings]
    others = [key for key in timings if key not in TIMING_WORDS]
    return [(TIMING_WORDS.get(key, key.removesuffix("_ms").replace("_", " ")), duration_words(key, timings[key]), key)
            for key in known + others]


def duration_words(key: str, value) -> str:
    """A timing's VALUE with its unit: milliseconds under a second, seconds above; a count as is."""
    if not key.endswith("_ms") or not isinstance(value, int | float):
        return str(value)
    if value < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.1f} s"


# Ledger events (LedgerEntry.action), as the ledger list's Event column reads them; the code is
# secondary text. An action missing here reads as its code in words (action_words).
ACTION_WORDS = {
    "answer.answered": "Answer",
    "answer.blocked": "Question blocked",
    "answer.refused": "Question refused",
    "access.denied": "Access refused",
    "archive.refused": "Archive refused",
    "archive.uploaded": "Archive uploaded",
    "archive.unpacked": "Archive unpacked",
    "collection.created": "Collection created",
    "collection.erased": "Collection erased",
    "collection.erasure_requested": "Collection erasure asked for",
    "collection.grants_changed": "Collection access changed",
    "collection.settings_changed": "Collection settings changed",
    "document.uploaded": "Document uploaded",
    "document.indexed": "Document indexed",
    "document.reindexed": "Document indexed again",
    "document.failed": "Document could not be indexed",
    "document.erased": "Document erased",
    "document.erasure_requested": "Document erasure asked for",
    "exchanges.destroyed": "Conversations destroyed (retention)",
    "ledger.read": "Read the ledger",
    "ledger.exported": "Exported the ledger",
    "ledger.evidence_exported": "Downloaded an evidence bundle",
    "ledger.verified": "Verified the ledger",
    "ledger.chain_broken": "Ledger chain found broken",
    "ledger.payloads_destroyed": "Sealed texts destroyed (retention)",
    "login.failed": "Sign-in failed",
    "login.locked_out": "Account locked out",
    "model.registered": "Model registered",
    "model.changed": "Model changed",
    "model.enabled": "Model enabled",
    "model.disabled": "Model disabled",
    "model.hashed": "Model file hashed",
    "model.hash_failed": "Model file hash failed",
    "model.rehash_requested": "Model file hash asked for",
    "passage.revealed": "Personal data revealed to an analyst",
    "person.created": "Person created",
    "password.changed": "Password changed by its owner",
    "password.reset": "Password reset by an administrator",
    "roles.changed": "Roles changed",
    "team.created": "Team created",
    "teams.changed": "Teams changed",
    "policy.published": "Question policy published",
    "policy.tested": "Question tried on the policy test bench",
    "policy.replayed": "Stored questions replayed under a draft policy",
    "review.reviewed": "Marked reviewed",
    "review.annotated": "Note added",
    "review.escalated": "Escalated",
    "review.resolved": "Escalation closed",
}
# What a ledger read (a "ledger.read" entry's `what`) looked at.
READ_WORDS = {"list": "the ledger list", "entry": "an entry", "queue": "the review queue", "inbox": "the inbox",
              "question": "a question as asked"}
# Target types (LedgerEntry.target_type) as words.
TARGET_WORDS = {"trace": "answer", "policytrial": "policy trial", "policyversion": "policy version"}

# Injection rules (guardrails/injection.py, Finding.type of "injection_rules") whose name alone
# does not say what the question asked for.
INJECTION_RULE_WORDS = {
    "exfiltration": "asks to send data out (exfiltration rule)",
    "reveal the system prompt": "asks for the assistant's instructions (system prompt rule)",
    "override earlier instructions": "tells the assistant to ignore its instructions (override rule)",
    "lift redaction": "asks to lift the masking of personal data (redaction rule)",
    "bulk verbatim dump": "asks for whole documents word for word (bulk dump rule)",
    "persona switch": "tells the assistant to act without rules (persona rule)",
    "fake role header": "pretends to be a system message (fake header rule)",
    "decode and follow": "asks to decode hidden instructions and follow them (decode rule)",
    "hypothetical bypass": "asks the assistant to pretend its rules do not apply (hypothetical rule)",
    "new instructions": "gives the assistant new instructions (new instructions rule)",
    "withheld content": "asks for what the assistant must withhold (withheld content rule)",
}

# The sources of a route's sensitivity (Route.sources), as the reason an answer was kept inside.
KEPT_INSIDE_WORDS = {
    "question": "personal data in the question",
    "collections": "collection asked is {level}",
    "chunks": "passages retrieved are {level}",
    "conversation": "conversation so far is {level}",
}


def action_words(action: str) -> str:
    """A ledger entry's ACTION ("review.reviewed") in words ("Marked reviewed")."""
    if action in ACTION_WORDS:
        return ACTION_WORDS[action]
    return action.replace(".", " ").replace("_", " ").capitalize()


def target_words(target_type: str) -> str:
    return TARGET_WORDS.get(target_type, target_type.replace("_", " "))


def character_range(start, end) -> str:
    """A finding's span [START, END) as an officer reads it: 1-based and inclusive, as "characters
    19-37" counts them ("19-37"; "" for no span). The bench and the entry
    page both say it this way."""
    try:
        start, end = int(start), int(end)
    except (TypeError, ValueError):
        return ""
    if end <= start or start < 0:
        return ""
    return f"{start + 1}-{end}"


def finding_words(finding: dict) -> str:
    """What one screening FINDING (a trace's verdict finding) is about, short, for a queue flag:
    "payment card number", "denied topic: Mergers", "asks to send data out (exfiltration rule)"."""
    detector, kind = finding.get("detector", ""), finding.get("type", "")
    if detector == "pii":
        return entity_words(kind)
    if detector == "injection_rules":
        return INJECTION_RULE_WORDS.get(kind, f"an instruction to the assistant ({kind} rule)")
    if detector == "injection_classifier":
        return "reads like an injection or jailbreak (injection classifier)"
    if detector == "denied_topic":
        return f"denied topic: {kind}"
    if detector == "policy_pattern":
        return f"organisation pattern: {kind}"
    if detector == "harmful_request":
        return f"asks for a way to cause harm ({kind})" if kind else "asks for a way to cause harm"
    if detector == "obfuscation":
        return f"hidden text ({kind})" if kind else "hidden text"
    if detector == "length":
        return "question too long"
    if detector == "screening":
        return "a check could not run (held back: fail closed)"
    return detector_words(detector)


def kept_inside_words(sources: dict) -> list[str]:
    """Why a route kept an answer inside the perimeter: each source of SOURCES (Route.sources,
    {source: level}) above public, in words ("collection asked is internal")."""
    return [KEPT_INSIDE_WORDS.get(source, f"{source_words(source)} is {{level}}").format(level=level)
            for source, level in (sources or {}).items() if level not in ("public", "", None)]


def read_words(what: str) -> str:
    """What a ledger read (its `what`) looked at: "the review queue"."""
    return READ_WORDS.get(what, what)
