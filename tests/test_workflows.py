"""GitHub workflows: valid YAML, pinned actions, least privilege, PR previews, up from main."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.synth import load_stack_file

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
PULUMI_ACTION = "pulumi/actions@"
STACKS = sorted(
    p.name[len("Pulumi.") : -len(".yaml")] for p in (REPO_ROOT / "stacks").glob("Pulumi.*.yaml")
)


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path.name
    return document


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    found = workflow.get("on", workflow.get(True))
    assert isinstance(found, dict), "triggers must be a mapping"
    return found


def jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return workflow["jobs"]


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(action)]


def pulumi_steps() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(file, job, step) for every pulumi/actions step of every workflow."""
    return [
        (path.name, job, step)
        for path in WORKFLOWS
        for job in jobs(load(path)).values()
        for step in steps_using(job, PULUMI_ACTION)
    ]


def jobs_running(command: str) -> list[dict[str, Any]]:
    return [job for _, job, step in pulumi_steps() if step["with"]["command"] == command]


def condition(job: dict[str, Any]) -> str:
    return " ".join(str(job.get("if", "")).split())


def test_there_are_workflows_and_each_parses_as_a_workflow() -> None:
    assert WORKFLOWS, "no .github/workflows/*.yml"
    for path in WORKFLOWS:
        workflow = load(path)
        assert triggers(workflow), path.name
        assert jobs(workflow), path.name
        for name, job in jobs(workflow).items():
            assert "runs-on" in job or "uses" in job, f"{path.name}: {name}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_sha_with_its_tag_noted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    references = [
        value
        for job in jobs(load(path)).values()
        for value in [job.get("uses"), *(s.get("uses") for s in job.get("steps", []))]
        if value
    ]
    for reference in references:
        if reference.startswith("./"):
            continue  # an action or workflow in this repository
        assert PINNED.match(reference), f"{path.name}: {reference} is not pinned to a commit SHA"
        line = next(line for line in text.splitlines() if reference in line)
        assert re.search(r"#\s*v\d", line), f"{path.name}: say which release {reference} is"


def test_the_workflows_use_actions() -> None:
    # So that the pinning test above cannot pass on nothing.
    assert any(
        s.get("uses") for path in WORKFLOWS for j in jobs(load(path)).values() for s in j["steps"]
    )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_workflow_runs_untrusted_code_with_repository_secrets(path: Path) -> None:
    workflow = load(path)
    assert "pull_request_target" not in triggers(workflow)
    if "workflow_run" in triggers(workflow):
        # It runs from the default branch with a token that can write, after a run of the
        # pull request's code: it must never check that code out or run what it produced, and
        # must not expand event data into a script (script injection).
        text = path.read_text(encoding="utf-8")
        assert "secrets." not in text
        for job in jobs(workflow).values():
            for step in job["steps"]:
                assert "uses" not in step, f"{path.name}: no actions, above all no checkout"
                assert "${{" not in step.get("run", ""), f"{path.name}: pass event data via env"


def comments_on_pull_requests(job: dict[str, Any]) -> bool:
    pulumi = any(s["with"].get("comment-on-pr") for s in steps_using(job, PULUMI_ACTION))
    api = any("/comments" in str(s.get("run", "")) for s in job.get("steps", []))
    return pulumi or api


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_read_only_except_the_pr_comment(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("permissions") in ({"contents": "read"}, {})
    for name, job in jobs(workflow).items():
        granted = job.get("permissions", {})
        assert isinstance(granted, dict), f"{name}: spell out each permission"
        writes = {scope for scope, level in granted.items() if level == "write"}
        assert writes == ({"pull-requests"} if comments_on_pull_requests(job) else set()), name
        reads = {scope for scope, level in granted.items() if level == "read"}
        downloads = any("gh run download" in str(s.get("run", "")) for s in job["steps"])
        assert reads <= ({"contents", "actions"} if downloads else {"contents"}), name
    for job in jobs(workflow).values():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                # The job token is not left in .git/config for later steps to read.
                assert step.get("with", {}).get("persist-credentials") is False


def test_pull_requests_preview_every_stack_with_a_diff_commented_on_the_pr() -> None:
    previews = [
        (f, job, step) for f, job, step in pulumi_steps() if step["with"]["command"] == "preview"
    ]
    assert previews
    for _, job, step in previews:
        assert step["with"]["diff"] is True
        assert step["with"]["comment-on-pr"] is True
        assert step["with"]["stack-name"] == "${{ matrix.stack }}"
        assert "github.event_name == 'pull_request'" in condition(job)
    previewed = {s for _, job, _ in previews for s in job["strategy"]["matrix"]["stack"]}
    assert previewed == set(STACKS)


def test_pulumi_up_runs_only_on_push_to_main_after_the_checks() -> None:
    ups = jobs_running("up")
    assert ups
    for job in ups:
        assert "github.event_name == 'push'" in condition(job)
        assert "github.ref == 'refs/heads/main'" in condition(job)
        assert {"lint", "test"} <= set(job["needs"])
    for path in WORKFLOWS:
        push = triggers(load(path)).get("push")
        if push is not None and any(
            step["with"]["command"] == "up"
            for job in jobs(load(path)).values()
            for step in steps_using(job, PULUMI_ACTION)
        ):
            assert push.get("branches") == ["main"]
    for command in ("destroy", "refresh"):
        assert jobs_running(command) == []


def test_up_deploys_exactly_the_cloud_stacks() -> None:
    cloud = {s for s in STACKS if load_stack_file(s)["config"].get("llm-o11y:target") == "cloud"}
    deployed = {s for job in jobs_running("up") for s in job["strategy"]["matrix"]["stack"]}
    assert cloud and deployed == cloud


def test_python_dependencies_are_installed_before_pulumi_runs_the_program() -> None:
    for name, job, pulumi_step in pulumi_steps():
        steps = job["steps"]
        before = steps[: steps.index(pulumi_step)]
        installs = [s for s in before if "pip install" in str(s.get("run", ""))]
        assert installs, f"{name}: pulumi/actions does not install the program's dependencies"
        command = installs[-1]["run"]
        assert ".venv/bin/pip install" in command and "-r requirements.txt" in command


def test_the_pulumi_cli_matches_the_pinned_sdk() -> None:
    requirements = (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8")
    sdk = re.search(r"^pulumi==(\S+)$", requirements, re.MULTILINE)
    assert sdk is not None
    for path in WORKFLOWS:
        workflow_env = load(path).get("env", {})
        for job in jobs(load(path)).values():
            for step in steps_using(job, PULUMI_ACTION):
                version = step["with"]["pulumi-version"]
                if version.startswith("${{ env."):
                    version = workflow_env[version.removeprefix("${{ env.").removesuffix(" }}")]
                assert version == sdk.group(1), path.name


def test_the_checks_run_lint_and_the_full_test_suite() -> None:
    runs = [
        str(step.get("run", ""))
        for path in WORKFLOWS
        for job in jobs(load(path)).values()
        for step in job.get("steps", [])
    ]
    assert any("make lint" in r for r in runs)
    # The same script CI runs here, with root for its apt installs.
    assert any(r.strip().endswith("bash .ci/run") for r in runs)


# --- the semantic diff: computed for every pull request, forks included, posted as one comment --

CI = REPO_ROOT / ".github" / "workflows" / "ci.yml"
COMMENTER = REPO_ROOT / ".github" / "workflows" / "semantic-diff-comment.yml"


def run_scripts(job: dict[str, Any]) -> str:
    """The job's shell, continuation lines joined."""
    return "\n".join(str(s.get("run", "")) for s in job["steps"]).replace("\\\n", " ")


def test_the_semantic_diff_runs_on_fork_pull_requests_without_secrets_or_write_access() -> None:
    workflow = load(CI)
    assert "pull_request" in triggers(workflow)
    job = jobs(workflow)["semantic-diff"]
    # No condition on the head repository: fork pull requests run it too.
    assert condition(job) == "github.event_name == 'pull_request'"
    assert job["permissions"] == {"contents": "read"}
    assert "secrets." not in yaml.safe_dump(job)
    assert "environment" not in job
    [checkout] = steps_using(job, "actions/checkout@")
    assert checkout["with"] == {
        "ref": "${{ github.event.pull_request.head.sha }}",
        "fetch-depth": 0,
        "persist-credentials": False,
    }
    script = " ".join(run_scripts(job).split())
    assert "pip install --quiet -r requirements.txt" in script
    assert (
        '.venv/bin/python -m tools.diff "$(git merge-base "$BASE_SHA" "$HEAD_SHA")" "$HEAD_SHA"'
        " --out semantic-diff/comment.md" in script
    )
    # Event data reaches the script through env, never expanded into it.
    assert all("${{" not in str(s.get("run", "")) for s in job["steps"])
    assert '>> "$GITHUB_STEP_SUMMARY"' in script
    [upload] = steps_using(job, "actions/upload-artifact@")
    assert upload["with"]["name"] == "semantic-diff"


def test_the_comment_is_posted_from_the_base_branch_and_kept_up_to_date() -> None:
    from tools.diff.report import MARKER

    workflow = load(COMMENTER)
    assert triggers(workflow) == {"workflow_run": {"workflows": ["ci"], "types": ["completed"]}}
    assert load(CI)["name"] == "ci"
    assert workflow["permissions"] == {}
    [job] = jobs(workflow).values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert "github.event.workflow_run.event == 'pull_request'" in condition(job)
    script = run_scripts(job)
    assert 'gh run download "$RUN_ID"' in script and "--name semantic-diff" in script
    # The artifact is data from the pull request: its PR number must be a number, and that pull
    # request's head must be the commit the ci run planned.
    assert '[[ "$number" =~ ^[0-9]+$ ]]' in script
    assert 'gh api "repos/$REPO/pulls/$number" --jq .head.sha' in script
    assert '"$pr_head" != "$HEAD_SHA"' in script
    # One comment, found by its marker and edited in place; a new one only when there is none.
    assert MARKER in yaml.safe_dump(job["steps"])
    assert "--method PATCH" in script and "--method POST" in script
    assert "-F body=@body.md" in script
