"""NeMo Guardrails as the rails engine of screening and of the answer checks: guardrails/config/
decides which checks run, in which order, and when to stop; our detectors are its registered actions.

InputRails runs the input rail "screen question" over a question (generation option
rails=["input"]); OutputRails runs the output rail "check answer" over an answer that a model
wrote (rails=["output"], the answer given as the assistant message). No LLM is configured, so
NeMo never calls a model here. Four things NeMo would otherwise do are turned off:

- usage statistics: NeMo reports usage to NVIDIA over the network unless
  NEMO_GUARDRAILS_NO_USAGE_STATS is set; nothing may leave the perimeter.
- its history cache: without a state object, LLMRails keeps the events of every conversation in
  a dict keyed by the messages, forever; that is every question's text (PII included) held in
  memory. Passing an empty state per call bypasses the cache.
- its logs: NeMo logs events, which carry the question, at INFO (settings.LOGGING keeps
  "nemoguardrails" at WARNING).
- the flows of its library: LLMRails loads ~80 flows for third-party services (ActiveFence,
  Llama Guard, ...) that this configuration never starts, and Colang 1.0 re-evaluates every
  loaded flow on every event. Only NeMo's system flows (llm_flows.co) and ours are kept, which
  takes NeMo's own cost per question from 5.4 ms to ~2 ms (benchmarks/screening_latency.py).

Context variables must be JSON-serialisable (NeMo hashes them), so a call passes the id of a
request object; the actions look the request up in this process's table of requests in flight.
"""
import itertools
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

os.environ["NEMO_GUARDRAILS_NO_USAGE_STATS"] = "1"

logger = logging.getLogger(__name__)

CONFIG_DIR = Path(__file__).resolve().parent / "config"

# Context variable that holds each input rail's result, by action name.
RESULT_VARIABLES = {
    "check_question_length": "length_result",
    "check_hidden_instructions": "injection_result",
    "check_denied_topics": "topic_result",
    "check_personal_data": "personal_data_result",
}

REFUSAL_MARKER = "QUESTION_REFUSED_BY_SCREENING"

# The output rail's checks, in the order guardrails/config/output.co runs them.
OUTPUT_ACTIONS = ("withhold_outside_links", "withhold_personal_data", "check_grounding", "check_prompt_echo")


class Rails:
    """Runs one kind of rails of CONFIG_DIR, with ACTIONS as the checks: {action name: function(request)}.
    Requests are Python objects; each action receives the request the call is about."""

    kind = ""                            # "input" or "output"
    flow = ""                            # the flow of guardrails/config/ this kind runs
    action_names: tuple[str, ...] = ()

    def __init__(self, actions: dict[str, Callable[[object], dict | None]], config_dir: Path = CONFIG_DIR):
        missing = set(self.action_names) - set(actions)
        if missing:
            raise ValueError(f"{self.kind} rails need the actions {sorted(missing)}")
        from nemoguardrails import LLMRails, RailsConfig

        self._rails = LLMRails(RailsConfig.from_path(str(config_dir)))
        # Each instance keeps only its own rail's flow: Colang 1.0 re-evaluates every loaded flow on
        # every event, so neither kind should carry the other's.
        keep_only_flows(self._rails, system_flow_ids() | {self.flow})
        self._requests: dict[str, object] = {}
        self._ids = itertools.count()
        # One LLMRails runs one call at a time: its runtime keeps per-call state on the instance.
        # The checks are CPU-bound and hold the GIL, so little is lost.
        self._lock = threading.Lock()
        for name, action in actions.items():
            self._rails.register_action(self._as_action(name, action), name)

    def _generate(self, request, messages: list[dict], output_vars: list[str]):
        request_id = str(next(self._ids))
        with self._lock:
            self._requests[request_id] = request
            try:
                return self._rails.generate(
                    messages=[{"role": "context", "content": {"rails_request": request_id}}, *messages],
                    state={},
                    options={"rails": [self.kind], "output_vars": output_vars},
                )
            finally:
                del self._requests[request_id]

    def _as_action(self, name: str, action: Callable[[object], dict | None]):
        async def run_check(context: dict | None = None) -> dict:
            request = self._requests[(context or {})["rails_request"]]
            return action(request) or {}

        run_check.__name__ = name
        return run_check


class InputRails(Rails):
    """The input rail "screen question": each detector returns {"action": ..., "findings": [...]}."""

    kind = "input"
    flow = "screen question"
    action_names = tuple(RESULT_VARIABLES)

    def run(self, request) -> tuple[dict[str, dict], bool]:
        """Each rail's result by action name (rails after a block are absent), and whether NeMo
        refused the question."""
        response = self._generate(
            request, [{"role": "user", "content": request.question}], list(RESULT_VARIABLES.values()),
        )
        data = response.output_data or {}
        results = {name: data[variable] for name, variable in RESULT_VARIABLES.items() if data.get(variable)}
        refused = any(message.get("content") == REFUSAL_MARKER for message in response.response)
        return results, refused


class OutputRails(Rails):
    """The output rail "check answer": each check reads the answer's current text from the request
    and records its result on it (the answering step owns the request type)."""

    kind = "output"
    flow = "check answer"
    action_names = OUTPUT_ACTIONS

    def run(self, request) -> None:
        """Run every output check over REQUEST.text; raises RuntimeError if NeMo skipped one."""
        response = self._generate(
            request,
            [{"role": "user", "content": request.question}, {"role": "assistant", "content": request.text}],
            ["output_checks_done"],
        )
        if not (response.output_data or {}).get("output_checks_done"):
            raise RuntimeError("NeMo Guardrails did not run the output rail 'check answer'")


def flow_ids(paths) -> set[str]:
    from nemoguardrails.colang import parse_colang_file

    return {flow["id"] for path in paths for flow in parse_colang_file(path.name, path.read_text())["flows"]}


def system_flow_ids() -> set[str]:
    """The flows NeMo itself needs to run rails (it marks them system flows)."""
    import nemoguardrails.rails.llm as llm

    return flow_ids([Path(llm.__file__).parent / "llm_flows.co"])


def keep_only_flows(rails, ids: set[str]) -> None:
    """Drop every loaded flow but IDS from the runtime. Raises RuntimeError if one of IDS is not
    loaded (a NeMo upgrade renamed its system flows: the rails would silently do nothing)."""
    flows = rails.runtime.flow_configs
    missing = ids - set(flows)
    if missing:
        raise RuntimeError(f"NeMo Guardrails did not load the flows {sorted(missing)}")
    for flow_id in set(flows) - ids:
        del flows[flow_id]
