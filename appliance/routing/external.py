"""A chat model outside the perimeter: an OpenAI-compatible endpoint reached over HTTP.

    model = ExternalModel(url="https://llm.example.com/v1", model="general", api_key=key, gate=egress_gate())
    for piece in model.stream([ChatMessage("user", question)], conversation=[earlier, question]):
        ...

It has the interface of LocalModel (generation.py), plus `conversation`. Whatever is streamed here
leaves the appliance: the router decides what may, and the egress gate (egress.py) checks the exact
messages before the first byte is sent, whatever the router decided; when it finds personal data
it raises EgressRefused and nothing is sent. The appliance always builds this class with the gate
(loaded.make_model); without one (gate=None) it sends what it is given. The request asks for
server-sent events (`stream: true`); the answer is the `choices[0].delta.content` of each event,
up to `data: [DONE]`.

Prompts and answers hold personal data: this module logs model names, token counts and timings,
never text, and error messages carry the HTTP status, never the response body.
"""
import json
import logging
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import urlsplit

import httpx

from appliance.errors import ModelUnavailable
from appliance.routing.egress import EgressGate
from appliance.routing.generation import ChatMessage, check_stream_arguments, took_too_long

logger = logging.getLogger(__name__)

CHARACTERS_PER_TOKEN = 4  # OpenAI's rule of thumb for English; we cannot run the remote tokenizer
RETRYABLE_STATUSES = {408, 429}  # client errors that a later retry can get past


class ExternalModel:
    """An OpenAI-compatible chat endpoint OUTSIDE the perimeter (e.g. a hosted general model).
    One ExternalModel may be shared by threads (httpx.Client is thread-safe)."""

    def __init__(self, *, url: str, model: str, api_key: str = "", timeout_seconds: float = 60.0, name: str = "",
                 context_size: int = 8192, gate: EgressGate | None = None):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be an http:// or https:// URL, got {url!r}")
        if not model:
            raise ValueError("model must name the endpoint's model, got ''")
        if not timeout_seconds > 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}")
        if context_size < 1:
            raise ValueError(f"context_size must be at least 1, got {context_size}")
        if gate is not None and not isinstance(gate, EgressGate):
            raise TypeError(f"gate must be an EgressGate, got {gate!r}")
        self.gate = gate
        self.url = url.rstrip("/")
        self.model = model
        self.timeout_seconds = timeout_seconds
        self.context_size = context_size
        self.name = name or model
        self._api_key = api_key  # private, and kept out of __repr__
        # Redirects are not followed: they would carry the key and the prompt somewhere not configured.
        self._client = httpx.Client(follow_redirects=False)

    def __repr__(self) -> str:
        return f"ExternalModel({self.name!r}, {self.url})"

    def warm_up(self) -> None:
        """Nothing to load; the endpoint is first reached by stream()."""

    def count_tokens(self, text: str) -> int:
        """An estimate of how many tokens TEXT is to the remote model."""
        return math.ceil(len(text) / CHARACTERS_PER_TOKEN)

    def stream(self, messages: Sequence[ChatMessage], *, max_tokens: int = 256, timeout_seconds: float | None = None,
               temperature: float = 0.0, grammar: str | None = None, conversation: Sequence[str] = ()) -> Iterator[str]:
        """The answer to MESSAGES in pieces, as the endpoint sends them. Nothing is sent until the
        first piece is asked for; then the gate checks the messages, with CONVERSATION (the
        questions of this conversation sent out before, then this one), and raises EgressRefused
        (a permanent ModelUnavailable) before anything is sent when it finds personal data.
        GRAMMAR is not sent: OpenAI-compatible endpoints have no common way to take one, so the
        output checks alone judge an external answer.

        timeout_seconds (default: the model's) bounds the whole call. Raises ModelUnavailable when the
        endpoint cannot be reached, answers with an HTTP error (permanent for 4xx but 408 and 429),
        runs past the deadline, sends an event we cannot read (permanent) or stops before [DONE].
        """
        timeout_seconds = self.timeout_seconds if timeout_seconds is None else timeout_seconds
        messages = check_stream_arguments(messages, max_tokens, timeout_seconds, temperature)
        body = {
            "model": self.model,
            "messages": [message.as_dict() for message in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        return self._stream(body, timeout_seconds, tuple(conversation))

    def close(self) -> None:
        self._client.close()

    def _stream(self, body: dict, timeout_seconds: float, conversation: tuple[str, ...]) -> Iterator[str]:
        if self.gate is not None:
            self.gate.check(self.name, body["messages"], conversation)  # raises EgressRefused; nothing sent
        started = time.monotonic()
        deadline = started + timeout_seconds
        pieces = 0
        try:
            # httpx applies the timeout to each connect, write and read; the deadline bounds the total.
            # A read that stalls can still run past the deadline by up to one timeout.
            with self._client.stream(
                "POST", f"{self.url}/chat/completions", json=body, headers=self._headers(), timeout=timeout_seconds,
            ) as response:
                self._check_status(response)
                for piece in self._pieces(response, deadline, timeout_seconds):
                    pieces += 1
                    yield piece
        except httpx.TimeoutException as error:
            logger.debug("%s timed out after %.2fs", self.name, time.monotonic() - started)
            raise took_too_long(self.name, timeout_seconds) from error
        except httpx.ConnectError as error:
            raise ModelUnavailable(
                f"{self.name} could not be reached.", "model_unreachable", permanent=False,
            ) from error
        except httpx.TransportError as error:
            raise ModelUnavailable(
                f"{self.name} broke off the connection.", "model_unreachable", permanent=False,
            ) from error
        prompt_tokens = sum(self.count_tokens(message["content"]) for message in body["messages"])
        logger.debug("%s answered: about %d prompt tokens, %d pieces in %.2fs", self.name, prompt_tokens, pieces,
                     time.monotonic() - started)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _check_status(self, response: httpx.Response) -> None:
        """Raises ModelUnavailable for any answer but 2xx. The body is never read: it may echo the prompt."""
        status = response.status_code
        if 200 <= status < 300:
            return
        logger.debug("%s answered with HTTP %d", self.name, status)
        raise ModelUnavailable(
            f"{self.name} answered with HTTP {status}.",
            "model_http_error",
            permanent=status < 500 and status not in RETRYABLE_STATUSES,
        )

    def _pieces(self, response: httpx.Response, deadline: float, timeout_seconds: float) -> Iterator[str]:
        finished = False
        for data in server_sent_events(self._lines_before(deadline, response, timeout_seconds)):
            if data == "[DONE]":
                return
            text, finish_reason = self._read_event(data)
            finished = finished or finish_reason is not None
            if text:
                yield text
        if not finished:  # a cut-off answer must not pass for a whole one
            raise ModelUnavailable(
                f"{self.name} stopped before finishing its answer.", "model_unreachable", permanent=False,
            )

    def _lines_before(self, deadline: float, response: httpx.Response, timeout_seconds: float) -> Iterator[str]:
        for line in response.iter_lines():
            if time.monotonic() > deadline:
                raise took_too_long(self.name, timeout_seconds)
            yield line

    def _read_event(self, data: str) -> tuple[str, str | None]:
        """The text and finish reason of one chunk event. Raises ModelUnavailable for an error event
        and for anything that is not an OpenAI chat completion chunk."""
        try:
            event = json.loads(data)
            if "error" in event:
                raise ModelUnavailable(
                    f"{self.name} reported an error while answering.", "model_http_error", permanent=False,
                )
            if not event["choices"]:  # usage and content-filter events carry no choice
                return "", None
            choice = event["choices"][0]
            text = (choice.get("delta") or {}).get("content") or ""
            if not isinstance(text, str):
                raise TypeError(f"content is {type(text).__name__}")
            return text, choice.get("finish_reason")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
            raise ModelUnavailable(
                f"{self.name} sent an answer we cannot read.", "model_bad_response", permanent=True,
            ) from error


def server_sent_events(lines: Iterable[str]) -> Iterator[str]:
    """The data of each event in a text/event-stream: its `data:` lines joined by newlines. Comments
    and other fields are skipped; an event cut off by the end of the stream still counts."""
    data = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
            data = []
        elif line.startswith("data:"):
            value = line.removeprefix("data:")
            data.append(value.removeprefix(" "))
    if data:
        yield "\n".join(data)
