"""docs/ci.md: the pre-commit configuration and the workflows it shows work as written."""
from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from compiler.cli import main

ROOT = Path(__file__).resolve().parent.parent
CI = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
BLOCKS = [yaml.safe_load(b) for b in re.findall(r"^```yaml\n(.*?)^```", CI, re.S | re.M)]


def pre_commit_config() -> dict:
    return next(b for b in BLOCKS if isinstance(b, dict) and "repos" in b)


def workflows() -> dict[str, dict]:
    return {b["name"]: b for b in BLOCKS if isinstance(b, dict) and "jobs" in b}


def steps(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def git(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


needs_history = pytest.mark.skipif(
    git("rev-parse", "--git-dir").returncode != 0 or
    git("rev-parse", "--is-shallow-repository").stdout.strip() == "true",
    reason="needs the repository's full git history (a clone, not an export or a shallow "
           "clone) to look the pinned commit up")


def test_the_hooks_the_docs_use_exist():
    ids = {hook["id"] for hook in HOOKS}
    used = [hook["id"] for repo in pre_commit_config()["repos"] for hook in repo["hooks"]]
    assert "score-check-strict" in used and set(used) <= ids


@needs_history
def test_the_pinned_commit_exists_and_has_those_hooks():
    pinned = {repo["rev"] for repo in pre_commit_config()["repos"]}
    pinned |= set(re.findall(r"scorelang@([0-9a-f]{40})", CI))
    assert len(pinned) == 1, pinned
    rev = pinned.pop()
    assert re.fullmatch(r"[0-9a-f]{40}", rev), "pin a full commit id or a tag"
    hooks = git("show", f"{rev}:.pre-commit-hooks.yaml")
    assert hooks.returncode == 0, hooks.stderr
    at_rev = {hook["id"] for hook in yaml.safe_load(hooks.stdout)}
    used = {hook["id"] for repo in pre_commit_config()["repos"] for hook in repo["hooks"]}
    assert used <= at_rev


@pytest.mark.parametrize("hook, exit_code", [("score-check-strict", 1), ("score-check", 0)])
def test_the_strict_hook_fails_on_a_misspelled_score_in_a_stage(tmp_path, hook, exit_code):
    model = tmp_path / "m.score"
    model.write_text("score engagement 0..100\nvisit pricing +15\n"
                     "stage MQL when engagment >= 50\n", encoding="utf-8")
    entry = shlex.split(next(h["entry"] for h in HOOKS if h["id"] == hook))
    assert entry[0] == "score"
    result = CliRunner().invoke(main, [*entry[1:], str(model)])  # pre-commit appends the files
    assert result.exit_code == exit_code and "W110" in result.output


def test_installs_come_from_the_repository_not_an_index():
    installs = re.findall(r"pip install ([^\n]+)", CI)
    assert installs
    for install in installs:
        assert "git+https://" in install or install.startswith("./"), install


def test_the_workflow_publishes_the_junit_file_of_score_test():
    workflow = workflows()["scoring model"]
    junit = next(re.search(r"--junit (\S+)", step["run"]).group(1) for step in steps(workflow)
                 if "score test" in step.get("run", ""))
    report = next(step for step in steps(workflow)
                  if step.get("uses", "").startswith("mikepenz/action-junit-report@"))
    assert report["with"]["report_paths"] == junit
    permissions = workflow["jobs"]["review"]["permissions"]
    assert permissions["checks"] == "write" and permissions["pull-requests"] == "write"


def test_forks_get_the_report_and_comment_from_a_workflow_run_workflow():
    first = workflows()["scoring model"]
    upload = next(step for step in steps(first)
                  if step.get("uses", "").startswith("actions/upload-artifact@"))
    uploaded = set(upload["with"]["path"].split())
    # PyYAML reads the key `on` as YAML 1.1 does: as the boolean true
    second = next(w for w in workflows().values() if "workflow_run" in w[True])
    assert second[True]["workflow_run"]["workflows"] == [first["name"]]
    download = next(step for step in steps(second)
                    if step.get("uses", "").startswith("actions/download-artifact@"))
    assert download["with"]["name"] == upload["with"]["name"]
    assert "run-id" in download["with"]
    second_text = yaml.safe_dump(second)
    read = set(re.findall(r"[\w-]+\.(?:xml|md|txt)", second_text))
    assert read and read <= uploaded
    assert "pull_request_target" not in second_text and "checkout" not in second_text
    # the first workflow leaves commenting and reporting on forks to the second
    for step in steps(first):
        if step.get("name") in ("comment on the pull request", "test report"):
            assert "head.repo.fork" in step["if"]
