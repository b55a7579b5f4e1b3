"""What a detector found in a question, and what the screening policy makes of it."""
from dataclasses import asdict, dataclass

# What a finding asks for. "report" findings are kept in the verdict and the trace but change nothing.
BLOCK, SENSITIVE, REPORT = "block", "sensitive", "report"


@dataclass(frozen=True)
class Finding:
    detector: str    # "length", "pii", "policy_pattern", "injection_rules", "injection_classifier", "obfuscation", "denied_topic", "llm_self_check", "screening"
    type: str        # entity type, rule name or topic name
    start: int       # span in the question as received
    end: int
    score: float
    action: str      # BLOCK, SENSITIVE or REPORT, under the policy version of the verdict
    reading: str = "normalised"  # the reading of the question it was found in (see normalisation.py)

    def as_dict(self) -> dict:
        return asdict(self)
