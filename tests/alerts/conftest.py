"""Real receivers for delivery tests: an SMTP server (aiosmtpd) and HTTP webhook endpoints."""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message


class Inbox(Message):
    """Keeps every message the SMTP server accepted."""

    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on a free port; Django's mail framework is pointed at it."""
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "alerts@costline.test"
    yield inbox
    controller.stop()


class Receiver:
    """A webhook endpoint on a real HTTP server thread that fails its first ``failures`` calls."""

    def __init__(self, failures: int = 0, status_when_failing: int = 503):
        self.failures = failures
        self.status_when_failing = status_when_failing
        self.requests = []  # (status answered, headers, body bytes)
        self.times = []  # when each request came (time.monotonic())
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                failing = len(receiver.requests) < receiver.failures
                status = receiver.status_when_failing if failing else 200
                receiver.requests.append((status, dict(self.headers), body))
                receiver.times.append(time.monotonic())
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"down")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def accepted(self) -> list[dict]:
        return [json.loads(body) for status, _, body in self.requests if status == 200]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver():
    made = []

    def make(failures: int = 0, status_when_failing: int = 503) -> Receiver:
        receiver = Receiver(failures, status_when_failing)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()
