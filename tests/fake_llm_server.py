"""A stand-in for an LLM endpoint outside the perimeter: a real HTTP server on 127.0.0.1 that speaks
OpenAI's streaming chat-completions protocol and records everything it receives.

    with FakeLLMServer() as server:
        server.pieces = ["Paris", " is the capital", "."]
        model = ExternalModel(url=server.url, model="general")
        ...
    assert server.requests[0].body["messages"] == [...]
    assert server.bytes_received == 0        # e.g. a sensitive question never left the appliance

Set what it does before the request: `pieces` (streamed as chunk events, then [DONE]), `status`
(anything but 200 answers with a JSON error body), `stall_seconds` (before answering),
`piece_delay_seconds` (between events) and `events` (raw `data:` payloads sent instead of pieces).
"""
import json
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: object  # the parsed JSON body, or None when it is not JSON
    raw_body: bytes


class FakeLLMServer:
    def __init__(self):
        self.pieces = ["The capital", " of France", " is Paris", "."]
        self.status = 200
        self.stall_seconds = 0.0
        self.piece_delay_seconds = 0.0
        self.events = None
        self.requests: list[RecordedRequest] = []
        self.bytes_received = 0  # every byte read from any connection: request lines, headers and bodies
        self._lock = threading.Lock()
        self._released = threading.Event()  # set on stop(), so that a stalled answer ends at once
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-llm", daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "FakeLLMServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "FakeLLMServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def chunk_events(self) -> list[str]:
        """The `data:` payloads of a whole streamed answer of self.pieces, as OpenAI sends them."""
        def chunk(delta, finish_reason=None):
            return json.dumps({
                "id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": "fake",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            })

        return [
            chunk({"role": "assistant", "content": ""}),
            *(chunk({"content": piece}) for piece in self.pieces),
            chunk({}, "stop"),
            "[DONE]",
        ]

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _count(self, received: bytes) -> bytes:
        with self._lock:
            self.bytes_received += len(received)
        return received

    def _pause(self, seconds: float) -> bool:
        """Waits SECONDS; True if the server is stopping and the answer should end."""
        return seconds > 0 and self._released.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (a timeout test) leaves a broken pipe behind; that is not an error here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _CountingReader:
    """The handler's rfile, counting what it reads into FakeLLMServer.bytes_received."""

    def __init__(self, file, fake: FakeLLMServer):
        self._file = file
        self._fake = fake

    def readline(self, size=-1) -> bytes:
        return self._fake._count(self._file.readline(size))

    def read(self, size=-1) -> bytes:
        return self._fake._count(self._file.read(size))

    def __getattr__(self, name):
        return getattr(self._file, name)


class _Handler(BaseHTTPRequestHandler):
    def setup(self):
        super().setup()
        self.rfile = _CountingReader(self.rfile, self.server.fake)

    def do_POST(self):
        fake = self.server.fake
        raw_body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        fake._record(RecordedRequest(
            self.command, self.path, {name.lower(): value for name, value in self.headers.items()},
            _json_or_none(raw_body), raw_body,
        ))
        if fake._pause(fake.stall_seconds):
            return
        if fake.status != 200:
            self._send_error_body(fake.status, raw_body)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for payload in fake.chunk_events() if fake.events is None else fake.events:
            self.wfile.write(f"data: {payload}\n\n".encode())
            self.wfile.flush()
            if fake._pause(fake.piece_delay_seconds):
                return

    do_GET = do_POST

    def _send_error_body(self, status: int, raw_body: bytes) -> None:
        # Like some real servers, the error echoes the request: clients must not show the body.
        body = json.dumps({"error": {"message": f"rejected {raw_body.decode(errors='replace')}"}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass  # keep test output clean


def _json_or_none(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None
