"""GitHub's REST API, the part the action uses, as a small local server for tests: issue
comments (list, create, edit) and the pull requests of a commit. Every request is kept, so
a test asserts the exact calls."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

BOT = "github-actions[bot]"


@dataclass
class FakeGitHub:
    repository: str = "acme/billing"
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # by PR number
    pulls_of_commit: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path without query)
    bodies: list[Any] = field(default_factory=list)
    url: str = ""
    _next_id: int = 1000

    def add_comment(self, number: int, login: str, body: str) -> dict[str, Any]:
        self._next_id += 1
        comment = {"id": self._next_id, "user": {"login": login}, "body": body}
        self.comments.setdefault(number, []).append(comment)
        return comment

    def clear(self) -> None:
        self.calls.clear()
        self.bodies.clear()

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        repo = re.escape(f"/repos/{self.repository}")
        if method == "GET" and path == "/user":  # what a workflow's GITHUB_TOKEN gets
            return 403, {"message": "Resource not accessible by integration"}
        if m := re.fullmatch(repo + r"/issues/(\d+)/comments", path):
            number = int(m.group(1))
            if method == "GET":
                return 200, self.comments.get(number, [])
            return 201, self.add_comment(number, BOT, body["body"])
        if (m := re.fullmatch(repo + r"/issues/comments/(\d+)", path)) and method == "PATCH":
            for comment in (c for cs in self.comments.values() for c in cs):
                if comment["id"] == int(m.group(1)):
                    comment["body"] = body["body"]
                    return 200, comment
        if (m := re.fullmatch(repo + r"/commits/([0-9a-f]+)/pulls", path)) and method == "GET":
            return 200, self.pulls_of_commit.get(m.group(1), [])
        return 404, {"message": "Not Found"}


@contextmanager
def serving(fake: FakeGitHub) -> Iterator[FakeGitHub]:
    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            path = urlsplit(self.path).path
            fake.calls.append((self.command, path))
            fake.bodies.append(body)
            assert self.headers["authorization"] == "Bearer ghs_test_token"
            status, answer = fake.answer(self.command, path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _any

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
