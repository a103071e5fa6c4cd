"""The GitHub Action's one step of work (action.yml runs it with the polar-meters venv's
Python): run the command, set the outputs, write the job summary and, on pull requests,
keep ONE sticky comment with the plan, or with the errors when there is none to show.

Inputs arrive as environment variables (PM_COMMAND, PM_PATHS…, set by action.yml from its
inputs); the Polar token only as POLAR_ACCESS_TOKEN, never an input or an argument. Exit
code: polar-meters' own, except that plan's 2 (changes) is 0 unless detailed-exitcode.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from github_api import MARKER, GitHub, GitHubError, reviewed, reviewed_line
from targets import plan_documents, plan_out, token_variables

COMMANDS = ("validate", "test", "plan", "apply")


@dataclass
class Inputs:
    command: str
    paths: list[str]
    extra: list[str]
    global_args: list[str]
    detailed: bool
    comment: bool
    require_reviewed: bool
    workdir: Path
    strict: bool = False
    environments: list[str] = field(default_factory=list)  # of polar-meters.yaml
    project: str | None = None

    @classmethod
    def read(cls, env: dict[str, str]) -> Inputs:
        command = env.get("PM_COMMAND", "plan").strip()
        if command not in COMMANDS:
            raise SystemExit(f"::error::polar-meters action: command {command!r} is not one of "
                             f"{', '.join(COMMANDS)}")
        globals_ = []
        if env.get("PM_SERVER"):
            globals_ += ["--server", env["PM_SERVER"]]
        if env.get("PM_ORGANIZATION_ID"):
            globals_ += ["--organization-id", env["PM_ORGANIZATION_ID"]]
        project = env.get("PM_PROJECT") or None
        if project:
            globals_ += ["--project", project]
        environments = list(dict.fromkeys(shlex.split(env.get("PM_ENVIRONMENTS", ""))))
        for name in environments:
            globals_ += ["--env", name]
        temp = Path(env.get("RUNNER_TEMP") or "/tmp") / "polar-meters"
        temp.mkdir(parents=True, exist_ok=True)
        return cls(command, shlex.split(env.get("PM_PATHS", "") or "meters/"),
                   shlex.split(env.get("PM_EXTRA_ARGS", "")), globals_,
                   _yes(env.get("PM_DETAILED_EXITCODE")), _yes(env.get("PM_COMMENT", "true")),
                   _yes(env.get("PM_REQUIRE_REVIEWED_PLAN", "true")), temp,
                   _yes(env.get("PM_STRICT")), environments, project)


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "yes", "1")


@dataclass
class Context:
    """What GitHub tells the job: the event, the commit, where the run is."""

    event_name: str
    event: dict
    sha: str
    run_url: str
    github: GitHub | None
    secrets: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, env: dict[str, str]) -> Context:
        path = env.get("GITHUB_EVENT_PATH")
        event = json.loads(Path(path).read_text()) if path and Path(path).is_file() else {}
        repo = env.get("GITHUB_REPOSITORY", "")
        run_url = (f"{env.get('GITHUB_SERVER_URL', 'https://github.com')}/{repo}/actions/runs/"
                   f"{env.get('GITHUB_RUN_ID', '')}")
        token = env.get("PM_GITHUB_TOKEN", "")
        api = GitHub(env.get("GITHUB_API_URL", "https://api.github.com"), repo, token)
        polar = [v for k, v in env.items() if k.startswith("POLAR_") and k.endswith("_TOKEN")]
        secrets = [s for s in (token, *polar) if s]
        return cls(env.get("GITHUB_EVENT_NAME", ""), event, env.get("GITHUB_SHA", ""), run_url,
                   api if token and repo else None, secrets)

    @property
    def pull(self) -> dict | None:
        if self.event_name.startswith("pull_request"):
            return self.event.get("pull_request")
        return None

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[REDACTED]")
        return text


def polar_meters(inputs: Inputs, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    """Run polar-meters with this Python; output streams to the log unless captured. ARGS
    start with the command (validate, test, plan, apply: each takes --strict)."""
    strict = ["--strict"] if inputs.strict else []
    cmd = [sys.executable, "-m", "reconciler", *inputs.global_args, args[0], *strict, *args[1:]]
    print("::group::" + shlex.join(["polar-meters", *cmd[3:]]), flush=True)
    try:
        done = subprocess.run(cmd, capture_output=capture, text=True, check=False)
    finally:
        print("::endgroup::", flush=True)
    if capture and done.stderr:
        sys.stderr.write(done.stderr)
    return done


def output(**values: str) -> None:
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as f:
        f.writelines(f"{name}={value}\n" for name, value in values.items())


def summary(text: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text.rstrip("\n") + "\n")


def footer(ctx: Context, what: str) -> str:
    head = str(((ctx.pull or {}).get("head") or {}).get("sha") or ctx.sha)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"\n---\n<sub>{what} `{head[:7]}` at {when} · [workflow run]({ctx.run_url}) · "
            f"polar-meters {version('polar-meters')}</sub>\n")


def errors_body(ctx: Context, title: str, text: str) -> str:
    shown = ctx.redact(text).strip()[-20_000:] or "(no output)"
    return (f"{MARKER}\n### {title}\n\nNo plan is shown, so nothing here can be applied as it "
            f"stands. Fix these and push again:\n\n```text\n{shown}\n```\n" + footer(ctx, "Checked"))


def tell(ctx: Context, inputs: Inputs, body: str, create: bool) -> None:
    """Summary always; the sticky comment on pull requests (a failed comment is a warning)."""
    summary(body)
    pull = ctx.pull
    if not (pull and inputs.comment and ctx.github):
        return
    try:
        done = ctx.github.sticky(int(pull["number"]), body, create)
        print(f"polar-meters: sticky comment {done}", flush=True)
    except GitHubError as exc:
        print(f"::warning::polar-meters could not write the pull request comment: {exc}")


def checks(ctx: Context, inputs: Inputs) -> int:
    """validate, then the meter tests: what runs without Polar. 0, or the failure's code."""
    for command in (["validate", "--format", "github"], ["test"]):
        done = polar_meters(inputs, *command, *inputs.paths, capture=True)
        print(done.stdout, end="")
        if done.returncode != 0:
            if command[0] == "validate":  # the annotations went to the log; people read lines
                done = polar_meters(inputs, "validate", *inputs.paths, capture=True)
            title = f"polar-meters {command[0]} failed"
            tell(ctx, inputs, errors_body(ctx, title, done.stdout + done.stderr), create=True)
            output(exitcode=str(done.returncode), **{"has-changes": ""})
            return done.returncode
    return 0


def needs_maintainer(ctx: Context, inputs: Inputs, variables: list[str]) -> int:
    names = " or ".join(f"`{v}`" for v in variables)
    body = (f"{MARKER}\n### polar-meters plan needs a maintainer\n\nThis pull request's "
            f"workflow run has no {names} (GitHub gives no secrets to pull requests "
            "from forks), so the plan against Polar was not made. The meter files are valid and "
            "their meter tests pass. A maintainer must plan these changes (for example from a "
            "branch of this repository) before they are merged.\n" + footer(ctx, "Checked"))
    print(f"::notice::polar-meters: no {names.replace('`', '')} (a fork?): validated and tested; "
          "the plan needs a maintainer")
    tell(ctx, inputs, body, create=True)
    output(exitcode="0", **{"has-changes": ""})
    return 0


def plan(ctx: Context, inputs: Inputs) -> int:
    code = checks(ctx, inputs)
    if code:
        return code
    local = any(a == "local" for a in inputs.global_args) or (
        os.environ.get("POLAR_SERVER") == "local" and not inputs.environments)
    variables = token_variables(inputs.environments, inputs.project)
    if variables and not local and not any(os.environ.get(v) for v in variables):
        return needs_maintainer(ctx, inputs, variables)
    plan_file, md_file = plan_out(inputs.workdir, inputs.environments), inputs.workdir / "plan.md"
    if plan_file.is_dir():  # the last run's plans: never mistaken for this run's
        shutil.rmtree(plan_file)
    plan_file.unlink(missing_ok=True)
    done = polar_meters(inputs, "plan", "--detailed-exitcode", "--out", str(plan_file),
                        "--format", "markdown", *inputs.extra, *inputs.paths, capture=True)
    md_file.write_text(done.stdout, encoding="utf-8")
    if done.returncode not in (0, 2):
        output(exitcode=str(done.returncode), **{"has-changes": ""},
               **{"plan-file": "", "markdown-file": str(md_file)})
        if done.stdout.startswith(MARKER):  # a plan Polar would refuse (locked meters)
            body = (f"{done.stdout.rstrip()}\n\n**This plan cannot be applied:** "
                    f"{ctx.redact(done.stderr).strip()}\n" + footer(ctx, "Planned"))
        else:
            body = errors_body(ctx, "polar-meters plan failed", done.stderr)
        tell(ctx, inputs, body, create=True)
        return done.returncode
    documents = plan_documents(plan_file, inputs.environments)
    changes = done.returncode == 2
    changed = " ".join(str(env) for env, doc in documents.items() if env and doc["has_changes"])
    output(exitcode=str(done.returncode), **{"has-changes": str(changes).lower()},
           **{"plan-file": str(plan_file), "markdown-file": str(md_file)},
           **{"changed-environments": changed})
    head = str(((ctx.pull or {}).get("head") or {}).get("sha") or ctx.sha)
    shown = done.stdout.removeprefix(MARKER).lstrip("\n")
    body = (f"{MARKER}\n{shown.rstrip()}\n" + footer(ctx, "Planned") + "".join(
        reviewed_line(head, doc["actions_digest"], env) + "\n" for env, doc in documents.items()))
    tell(ctx, inputs, body, create=changes)
    return 2 if changes and inputs.detailed else 0


def reviewed_digest(ctx: Context, environment: str | None) -> tuple[str | None, str]:
    """The actions digest of the plan (for ENVIRONMENT) reviewed on the pull request this
    commit came from, or None and why not."""
    if ctx.github is None:
        return None, "no github-token to find the pull request this commit came from"
    try:
        pull = ctx.github.merged_from(ctx.sha)
        if pull is None:
            return None, f"commit {ctx.sha[:7]} was not merged from a pull request: nothing was reviewed"
        mine = ctx.github.our_comment(int(pull["number"]))
    except GitHubError as exc:
        return None, f"cannot read the reviewed plan: {exc}"
    if mine is None:
        return None, f"pull request #{pull['number']} has no polar-meters plan comment"
    found = reviewed(str(mine.get("body")), environment)
    last = str((pull.get("head") or {}).get("sha") or "")
    if found is None and environment:
        return None, (f"the plan of pull request #{pull['number']} holds no plan for environment "
                      f"{environment} (not planned, failed or needs a maintainer)")
    if found is None:
        return None, f"the plan of pull request #{pull['number']} was never shown (it failed or needs a maintainer)"
    if found[0] != last:
        return None, (f"pull request #{pull['number']}'s plan was made for {found[0][:7]}, not "
                      f"for its last commit {last[:7]}")
    return found[1], f"pull request #{pull['number']} at {last[:7]}"


def apply(ctx: Context, inputs: Inputs) -> int:
    if len(inputs.environments) > 1:
        print("::error::polar-meters apply works on one environment per job (environments: "
              "NAME; a job each, production behind a GitHub Environment approval)")
        output(exitcode="1", **{"has-changes": ""})
        return 1
    code = checks(ctx, inputs)
    if code:
        return code
    policy: list[str] = []
    if inputs.require_reviewed:
        environment = inputs.environments[0] if inputs.environments else None
        digest, why = reviewed_digest(ctx, environment)
        if digest is None:
            print(f"::error::polar-meters apply refused: {why}; nothing was sent (set "
                  "require-reviewed-plan: false to apply without the reviewed plan)")
            summary(f"### polar-meters apply refused\n\n{why}; nothing was sent.")
            output(exitcode="1", **{"has-changes": ""})
            return 1
        print(f"polar-meters: the reviewed plan{' of ' + environment if environment else ''} "
              f"is that of {why} ({digest})")
        policy = ["--expect-digest", digest]
    done = polar_meters(inputs, "apply", "--auto-approve", *policy, *inputs.extra,
                        *inputs.paths, capture=True)
    print(done.stdout, end="")
    output(exitcode=str(done.returncode), **{"has-changes": ""})
    text = ctx.redact(done.stdout + done.stderr).strip()[-20_000:]
    summary(f"### polar-meters apply (exit {done.returncode})\n\n```text\n{text}\n```")
    return done.returncode


def simple(inputs: Inputs) -> int:
    done = polar_meters(inputs, inputs.command, *inputs.extra, *inputs.paths)
    output(exitcode=str(done.returncode), **{"has-changes": ""})
    return done.returncode


def main() -> int:
    env = dict(os.environ)
    inputs, ctx = Inputs.read(env), Context.read(env)
    if inputs.command == "plan":
        return plan(ctx, inputs)
    if inputs.command == "apply":
        return apply(ctx, inputs)
    if inputs.command == "validate":
        inputs.extra = ["--format", "github", *inputs.extra]
    return simple(inputs)


if __name__ == "__main__":
    sys.exit(main())
