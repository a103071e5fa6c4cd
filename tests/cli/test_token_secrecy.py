"""The access token is never shown: every command, with --debug, on success and on server
errors (500, 401, 422 from the emulator; a server that echoes the token back in its error
bodies), leaves it out of stdout, stderr and every file it writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.emulator.core import ALL_SCOPES, Emulator
from reconciler.emulator.faults import FaultPolicy
from reconciler.emulator.server import RunningServer, start_background
from reconciler.polar.retry import BACKOFF_ENV
from reconciler.polar.servers import resolve_target
from tests.support.e2e import Run
from tests.support.fake_polar import Canned, Seen, fake_polar
from tests.support.inproc import invoke

SECRET = "polar_oat_S3cretT0kenNobodyMayEverSee"
PERSONAL = "polar_pat_An0therS3cretPersonalT0ken"
UNKNOWN = "polar_oat_Unkn0wnS3cretT0kenForA401"
OTHER_ORG = "0b7a6c3e-5d4f-4e2a-9b1c-8d7e6f5a4b3c"
SECRETS = (SECRET, PERSONAL, UNKNOWN)
CONFIG = """\
version: 1
meters:
  api-calls:
    name: API calls
    filter:
      conjunction: and
      clauses: [{property: name, operator: eq, value: api_call}]
    aggregation: {func: sum, property: tokens}
    metadata: {team: ai}
"""


class Session:
    """Runs commands and keeps everything they said and wrote, to search for the token."""

    def __init__(self, tmp: Path, url: str) -> None:
        self.tmp = tmp
        self.url = url
        self.runs: list[tuple[tuple[str, ...], Run]] = []
        self.config = tmp / "meters.yaml"
        self.config.write_text(CONFIG)

    def run(self, *args: str, token: str = SECRET, expect: int | None = 0) -> Run:
        """`expect=None`: any exit code, any output (only the secret is looked for)."""
        env = {"POLAR_SERVER": self.url, "POLAR_ACCESS_TOKEN": token, BACKOFF_ENV: "0:0.01"}
        result = invoke("--debug", *args, env=env)
        self.runs.append((args, result))
        if expect is not None:
            assert "Traceback" not in result.text, result.text
        if expect is not None:
            assert result.code == expect, (args, result.text)
        return result

    def assert_no_secret_anywhere(self) -> None:
        files = [p for p in self.tmp.rglob("*") if p.is_file()]
        for args, result in self.runs:
            for secret in SECRETS:
                assert secret not in result.out, (args, "stdout")
                assert secret not in result.err, (args, "stderr")
                # not even a good part of it
                assert secret[10:30] not in result.text, args
        for path in files:
            data = path.read_bytes()
            for secret in SECRETS:
                assert secret.encode() not in data, path


@pytest.fixture
def server() -> Iterator[RunningServer]:
    core = Emulator(token=SECRET)
    core.add_token(PERSONAL, ALL_SCOPES)
    with start_background(core, faults=FaultPolicy(seed=1)) as running:
        yield running


def test_no_command_shows_the_token(
    server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # --server local keeps its state in ./.polar-meters/
    s = Session(tmp_path, server.url)
    s.run("validate", str(s.config))
    s.run("schema")
    for fmt in ("text", "json", "markdown", "github"):
        s.run("plan", "--format", fmt, "--out", str(tmp_path / f"plan-{fmt}.json"), str(s.config))
    applied = s.run("apply", "--auto-approve", str(s.config))
    assert "debug: POST /v1/meters/ → 201" in applied.err  # --debug did log the requests
    assert "Authorization" not in applied.err
    s.config.write_text(CONFIG.replace("team: ai", "team: ml"))
    s.run("plan", "--out", str(tmp_path / "saved.json"), str(s.config))
    s.run("apply", "--plan", str(tmp_path / "saved.json"))
    s.run("import")
    s.run("import", "--out", str(tmp_path / "imported.yaml"))
    s.run("--token", SECRET, "plan", str(s.config))
    s.run("--server", "local", "--token", SECRET, "plan", str(s.config))
    s.run("--help")
    s.run("test", str(s.config), expect=None)
    usage = s.run("quantities", "api-calls", "--start", "2026-01-01", "--end", "2026-01-02",
                  "--format", "json", expect=None)
    customers = s.run("customer-meters", "--format", "csv", expect=None)
    assert "debug: GET /v1/" in usage.err and "debug: GET /v1/" in customers.err
    s.assert_no_secret_anywhere()
    assert (tmp_path / "imported.yaml").exists() and (tmp_path / "plan-json.json").exists()
    assert (tmp_path / ".polar-meters" / "local.json").exists()


def test_server_errors_do_not_show_the_token(server: RunningServer, tmp_path: Path) -> None:
    s = Session(tmp_path, server.url)
    refused = s.run("plan", str(s.config), token=UNKNOWN, expect=1)  # 401
    assert "Polar refused the access token (401" in refused.err
    s.run("apply", "--auto-approve", str(s.config), token=UNKNOWN, expect=1)
    # 422: a personal token naming an organization it cannot reach
    wrong_org = s.run("--organization-id", OTHER_ORG, "apply", "--auto-approve", str(s.config),
                      token=PERSONAL, expect=1)
    assert "Polar rejected the request (422): organization_id: Organization not found." in (
        wrong_org.out)
    server.faults.fail_rate = 1.0  # 500, 502, 503
    failed = s.run("plan", "--out", str(tmp_path / "plan.json"), str(s.config), expect=1)
    assert "Polar answered 50" in failed.err and "debug: GET /v1/meters/" in failed.err
    s.run("apply", "--auto-approve", str(s.config), expect=1)
    s.run("import", "--out", str(tmp_path / "imported.yaml"), expect=1)
    s.run("quantities", "api-calls", "--start", "2026-01-01", "--end", "2026-01-02",
          expect=None)
    s.run("customer-meters", expect=None)
    s.assert_no_secret_anywhere()


def echoing(status: int) -> Callable[[Seen], Canned]:
    """A server answering `status` with the caller's token in every field it can."""

    def answer(seen: Seen) -> Canned:
        token = seen.headers.get("Authorization", "").removeprefix("Bearer ")
        if status >= 502:
            return Canned(status, f"<html><body>Bad request from {token}</body></html>")
        if status == 422:
            return Canned(status, {"detail": [{"type": "value_error", "loc": ["header", token],
                                               "msg": f"{token} is not allowed", "input": token}]})
        return Canned(status, {"error": "invalid_token", "error_description": f"{token}?",
                               "detail": f"who is {token}?"})

    return answer


@pytest.mark.parametrize("status", [401, 403, 404, 422, 500, 502])
def test_a_server_echoing_the_token_does_not_get_it_printed(status: int, tmp_path: Path) -> None:
    with fake_polar({"GET /v1/meters/": echoing(status)}) as fake:
        s = Session(tmp_path, fake.url)
        result = s.run("plan", str(s.config), expect=1)
    assert SECRET in fake.seen[0].headers["Authorization"]
    if status in (401, 403, 422, 500):  # the answer's text is quoted: with the token blanked out
        assert "[REDACTED]" in result.err, result.err
    s.assert_no_secret_anywhere()


def test_a_token_with_surrounding_whitespace_is_used_without_it(
    server: RunningServer, tmp_path: Path
) -> None:
    s = Session(tmp_path, server.url)
    result = s.run("plan", str(s.config), token=f"  {SECRET}\n")  # as `$(cat token.txt)` leaves it
    assert "1 to create" in result.out
    s.assert_no_secret_anywhere()


@pytest.mark.parametrize("token, kind", [
    (SECRET[:20] + "\n" + SECRET[20:], "a control character (a line break, a tab…)"),
    (SECRET + "\x07", "a control character (a line break, a tab…)"),
    (SECRET[:20] + "é" + SECRET[20:], "a non-ASCII character"),
    (SECRET[:20] + " " + SECRET[20:], "a space"),
])
def test_a_token_that_cannot_be_a_header_is_refused_without_being_quoted(
    token: str, kind: str, tmp_path: Path
) -> None:
    with fake_polar({}) as fake:
        s = Session(tmp_path, fake.url)
        result = s.run("plan", str(s.config), token=token, expect=1)
    [line] = result.err.splitlines()
    assert line == (f"Error: the access token holds {kind}: set POLAR_ACCESS_TOKEN to the token "
                    "alone, as Polar shows it (polar_oat_… or polar_pat_…)")
    assert fake.seen == []  # never sent, never retried
    s.assert_no_secret_anywhere()


def test_no_message_suggests_the_token_on_the_command_line(tmp_path: Path) -> None:
    config = tmp_path / "meters.yaml"
    config.write_text(CONFIG)
    result = invoke("--server", "production", "plan", str(config))
    assert result.code == 1 and "POLAR_ACCESS_TOKEN" in result.err
    assert "--token" not in result.err


@pytest.mark.parametrize("url, warned", [
    ("http://polar.example.com", True), ("http://10.0.0.7:8000", True),
    ("http://127.0.0.1:8000", False), ("http://localhost:8000", False),
    ("http://[::1]:8000", False), ("https://polar.example.com", False),
])
def test_plain_http_to_another_machine_is_warned_about_before_the_token_goes(
    url: str, warned: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    target = resolve_target(url, SECRET, None)
    said = capsys.readouterr().err
    assert target.base_url == url
    host = url.split("//")[1].split(":")[0]
    assert (said == f"Warning: the access token will be sent over plain http:// to {host}, "
            "where anyone on the way can read it: use https://\n") is warned, said
    assert warned or said == ""
    assert SECRET not in said
