"""The two sides of `score diff`: files, folders, or git revisions.

    score diff OLD.score NEW.score        two files
    score diff old/ new/                  two folders: files paired by relative path
    score diff main                       revision `main` against the working tree
    score diff main -- models/b2b.score   the same, limited to PATHs
    score diff v1 v2 -- models/           two revisions
    score diff main models/               = score diff main -- models/

A spec is a path when it exists on disk, else a revision when `git rev-parse` knows it as a
commit; anything else is a user error. A revision's `.score` files are copied (`git ls-tree`,
`git show REV:PATH`) into a temporary folder with the repository's layout, so that `include`
resolves at that revision too. git is always run with an argument list, never through a
shell, and revisions are passed after `--end-of-options`, so a name like `--output=x` cannot
become an option.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

SUFFIX = ".score"


class RevisionError(Exception):
    """A side that cannot be read: no such file or revision, git missing, not a repository."""


@dataclass
class Side:
    """One side of a diff: model files by display name, read from `root` on disk."""
    label: str  # what the user named: `main`, `working tree`, `old.score`
    root: Path  # display names are relative to this folder
    files: dict[str, Path] = field(default_factory=dict)
    prefix: str = ""  # shown before file names in locations: `main:`
    temporary: bool = False

    def location(self, span_file: str, line: int) -> str:
        path = Path(span_file)
        try:
            name = path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            name = span_file
        return f"{self.prefix}{name}:{line}"

    def cleanup(self) -> None:
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------- git


def git(args: list[str], cwd: str | Path, binary: bool = False) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, check=False,
                              text=not binary)
    except FileNotFoundError:
        raise RevisionError("git is not installed (needed to read revisions)") from None


def repo_root(cwd: str | Path) -> Path | None:
    done = git(["rev-parse", "--show-toplevel"], cwd)
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def is_revision(spec: str, cwd: str | Path) -> bool:
    if not spec or spec.startswith("-"):
        return False
    if repo_root(cwd) is None:
        return False
    done = git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{spec}^{{commit}}"], cwd)
    return done.returncode == 0


def revision_files(rev: str, repo: Path) -> list[str]:
    """Every `.score` file of the revision, repository-relative, sorted."""
    done = git(["ls-tree", "-r", "-z", "--name-only", "--full-tree", "--end-of-options", rev],
               repo)
    if done.returncode != 0:
        raise RevisionError(f"{rev}: cannot list files: {done.stderr.strip()}")
    return sorted(name for name in done.stdout.split("\0") if name.endswith(SUFFIX))


def show_file(rev: str, path: str, repo: Path) -> bytes:
    done = git(["show", "--end-of-options", f"{rev}:{path}"], repo, binary=True)
    if done.returncode != 0:
        raise RevisionError(f"{rev}:{path}: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def materialize(rev: str, repo: Path) -> Path:
    """A temporary folder holding every `.score` file of `rev` at its repository path."""
    root = Path(tempfile.mkdtemp(prefix="score-diff-"))
    for name in revision_files(rev, repo):
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(show_file(rev, name, repo))
    return root


# --------------------------------------------------------------------------- sides


def resolve(old: str, new: str | None, paths: tuple[str, ...] = (),
            cwd: str | Path = ".") -> tuple[Side, Side]:
    """The two sides named on the command line (see the module documentation)."""
    cwd = Path(cwd)
    old_kind = _kind(old, cwd)
    new_kind = "worktree" if new is None else _kind(new, cwd)
    if new is None and old_kind == "path":
        raise RevisionError(f"{old}: a file or folder needs a second side to compare with "
                            "(score diff OLD NEW), or name a git revision")
    if old_kind == "path" and new_kind == "path" and not paths:
        return _path_sides(cwd / old, cwd / new, old, new)
    selection = list(paths)
    for spec, kind in ((old, old_kind), (new, new_kind)):
        if kind == "path":
            selection.append(spec)  # `score diff main models/` = `score diff main -- models/`
    return _repo_sides(old if old_kind == "rev" else None,
                       new if new_kind == "rev" else None, selection or ["."], cwd)


def _kind(spec: str, cwd: Path) -> str:
    if (cwd / spec).exists():
        return "path"
    if is_revision(spec, cwd):
        return "rev"
    raise RevisionError(f"`{spec}` is neither a file, a folder nor a git revision")


def _path_sides(old: Path, new: Path, old_label: str, new_label: str) -> tuple[Side, Side]:
    if old.is_file() and new.is_file():
        name = new.name if old.name == new.name else f"{old.name} -> {new.name}"
        return (Side(old_label, old.parent, {name: old}),
                Side(new_label, new.parent, {name: new}))
    if old.is_dir() and new.is_dir():
        return (Side(old_label, old, _folder_files(old)), Side(new_label, new, _folder_files(new)))
    raise RevisionError(f"cannot compare a file with a folder: {old_label}, {new_label}")


def _folder_files(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob(f"*{SUFFIX}"))
            if p.is_file()}


def _repo_sides(old_rev: str | None, new_rev: str | None, selection: list[str],
                cwd: Path) -> tuple[Side, Side]:
    repo = repo_root(cwd)
    if repo is None:
        raise RevisionError(f"{cwd}: not inside a git repository")
    prefixes = [_repo_relative(cwd / path, repo) for path in selection]
    sides = []
    for rev in (old_rev, new_rev):
        sides.append(_revision_side(rev, repo, prefixes) if rev else
                     _worktree_side(repo, prefixes, cwd))
    for path, prefix in zip(selection, prefixes):
        if not any(_selected(name, [prefix]) for side in sides for name in side.files):
            for side in sides:
                side.cleanup()
            raise RevisionError(f"{path}: no .score file there on either side")
    return sides[0], sides[1]


def _repo_relative(path: Path, repo: Path) -> str:
    try:
        relative = Path(os.path.abspath(path)).relative_to(repo.resolve())
    except ValueError:
        raise RevisionError(f"{path}: outside the repository {repo}") from None
    text = relative.as_posix()
    return "" if text == "." else text


def _selected(name: str, prefixes: list[str]) -> bool:
    return any(p == "" or name == p or name.startswith(p.rstrip("/") + "/") for p in prefixes)


def _revision_side(rev: str, repo: Path, prefixes: list[str]) -> Side:
    root = materialize(rev, repo)
    files = {name: root / name for name in revision_files(rev, repo) if _selected(name, prefixes)}
    return Side(rev, root, files, prefix=f"{rev}:", temporary=True)


def _worktree_side(repo: Path, prefixes: list[str], cwd: Path) -> Side:
    """Working-tree files, opened by their path from `cwd` so diagnostics cite it."""
    files: dict[str, Path] = {}
    for prefix in prefixes:
        start = repo / prefix if prefix else repo
        found = [start] if start.is_file() else sorted(start.rglob(f"*{SUFFIX}"))
        for path in found:
            if path.is_file() and ".git" not in path.relative_to(repo).parts:
                files[path.relative_to(repo).as_posix()] = Path(os.path.relpath(path, cwd))
    return Side("working tree", repo, dict(sorted(files.items())))


def pairs(old: Side, new: Side) -> list[tuple[str, Path | None, Path | None]]:
    """(display name, old file or None, new file or None) for every file of either side."""
    names = sorted(set(old.files) | set(new.files))
    return [(name, old.files.get(name), new.files.get(name)) for name in names]
