"""The default state inside a plan directory never goes through a link the repository put
there: a committed ``.restore-planner`` link (or a link in it) would move every state write
elsewhere while the plan shows ``.restore-planner/state.json``. The operator's own --state,
and links above the plan directory, are followed as ever."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.errors import UserError
from planner.state.store import default_state_path
from tests.apply.drill import DrillKit, make_drill

HINT = (
    "hint: remove the link, or pass --state explicitly with the state file you mean "
    "(a state of your choosing is never refused for a link)\n"
)
NEVER = (
    "is a symbolic link (to {to}): the default state inside a plan directory is never kept "
    "through a link (its writes would land wherever the link points)\n"
)


class Repo(DrillKit):
    """A plan directory as a pull request checks it out, a victim directory elsewhere."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path / "repo"
        super().__init__(make_drill(3, seed=2), self.dir)
        self.victim = tmp_path / "victim"
        self.victim.mkdir()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(tmp_path)
    return Repo(tmp_path)


def test_a_committed_state_directory_link_is_refused_by_plan_and_apply(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.dir / ".restore-planner").symlink_to(repo.victim)
    with repo.cloud():
        assert main(["plan", "repo", "--out", "repo.plan", "--no-color"]) == 1
        first = capsys.readouterr().err
        assert main(["apply", "repo", "--auto-approve", "--no-color"]) == 1
        second = capsys.readouterr().err
    expected = f"error: the state directory repo/.restore-planner {NEVER.format(to=repo.victim)}{HINT}"
    assert first == expected and second == expected
    assert not Path("repo.plan").exists()
    assert list(repo.victim.iterdir()) == []
    assert repo.restores() == []


@pytest.mark.parametrize(
    "name", ["state.json", "state.json.journal", "state.json.lock", "state.json.log", ".state.json.tmp-1", "runs"]
)
def test_a_link_inside_the_state_directory_is_refused(
    repo: Repo, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    state_dir = repo.dir / ".restore-planner"
    state_dir.mkdir()
    (state_dir / name).symlink_to(repo.victim / name)
    with repo.cloud():
        assert main(["apply", "repo/drill.yaml", "--auto-approve", "--no-color"]) == 1
    err = capsys.readouterr().err
    link = f"repo/.restore-planner/{name}"
    assert err == f"error: {link} {NEVER.format(to=repo.victim / name)}{HINT}"
    assert list(repo.victim.iterdir()) == []
    assert repo.restores() == []


def test_a_link_among_the_run_logs_is_refused(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    runs = repo.dir / ".restore-planner" / "runs"
    runs.mkdir(parents=True)
    (runs / "20261120T000000Z-abcd.jsonl").symlink_to(repo.victim / "log")
    with repo.cloud():
        assert main(["report", "repo", "--no-color"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: repo/.restore-planner/runs/20261120T000000Z-abcd.jsonl is a symbolic link")


def test_the_link_target_is_escaped_in_the_message(tmp_path: Path) -> None:
    (tmp_path / ".restore-planner").symlink_to("/tmp/\x1b[2Jx")
    with pytest.raises(UserError) as caught:
        default_state_path(str(tmp_path))
    assert "(to /tmp/\\x1b[2Jx)" in caught.value.message and "\x1b" not in caught.value.message


def test_the_operators_own_state_may_go_through_a_link(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    """--state is the operator's choice, not the repository's: never refused for a link."""
    (repo.dir / ".restore-planner").symlink_to(repo.victim)
    with repo.cloud():
        state = ["--state", "repo/.restore-planner/state.json"]
        assert main(["plan", "repo", *state, "--out", "repo.plan", "--no-color"]) == 0
        assert main(["apply", "repo.plan", "--no-color"]) == 0
    capsys.readouterr()
    assert (repo.victim / "state.json").is_file()
    assert len(repo.restores()) == len(repo.drill.size_gb)


def test_links_above_the_plan_directory_are_followed(
    repo: Repo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """/tmp -> /private/tmp, or a checkout reached through a link: not the repository's links."""
    alias = tmp_path / "alias"
    alias.symlink_to(tmp_path)
    with repo.cloud():
        assert main(["plan", str(alias / "repo"), "--out", "repo.plan", "--no-color"]) == 0
        assert main(["apply", "repo.plan", "--no-color"]) == 0
    capsys.readouterr()
    assert (repo.dir / ".restore-planner" / "state.json").is_file()
    assert len(repo.restores()) == len(repo.drill.size_gb)


def test_default_state_path_without_links(tmp_path: Path) -> None:
    assert default_state_path(str(tmp_path)) == tmp_path / ".restore-planner" / "state.json"
    (tmp_path / "plan.yaml").write_text("version: 1\n")
    assert default_state_path(str(tmp_path / "plan.yaml")) == tmp_path / ".restore-planner" / "state.json"
    (tmp_path / ".restore-planner" / "runs").mkdir(parents=True)
    (tmp_path / ".restore-planner" / "state.json").write_text("{}")
    os.link(tmp_path / ".restore-planner" / "state.json", tmp_path / ".restore-planner" / "state.json.backup")
    assert default_state_path(str(tmp_path)) == tmp_path / ".restore-planner" / "state.json"
