"""tests/conformance is the project's copy of the upstream conformance suite, and
benchmarks/leadbench the copy of the independent benchmark workload. When the upstream folders
sit beside the repository (the developers' layout: ../shared/conformance, ../shared/bench),
everything there must be here too, byte for byte, so that new upstream cases are pulled in. A
clone on its own has no upstream folder: the check is skipped, saying so."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM_ROOT = ROOT.parent / "shared"
HERE = ROOT / "tests" / "conformance"
UPSTREAM = UPSTREAM_ROOT / "conformance"
COPIES = [(ROOT / "tests" / "conformance", UPSTREAM_ROOT / "conformance"),
          (ROOT / "benchmarks" / "leadbench", UPSTREAM_ROOT / "bench")]


def files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


def _skip_without(upstream: Path) -> None:
    if not upstream.is_dir():
        pytest.skip(f"no upstream folder at {upstream} (a clone on its own): nothing to sync")


def test_every_upstream_case_is_in_tests_conformance():
    _skip_without(UPSTREAM)
    missing = sorted({p.name for p in UPSTREAM.iterdir() if p.is_dir()}
                     - {p.name for p in HERE.iterdir() if p.is_dir()})
    assert missing == [], f"copy these cases from {UPSTREAM} into {HERE}"


@pytest.mark.parametrize("here, upstream", COPIES, ids=[here.name for here, _ in COPIES])
def test_the_copies_equal_upstream(here: Path, upstream: Path):
    _skip_without(upstream)
    theirs, ours = files(upstream), files(here)
    changed = sorted(name for name in theirs if name in ours and ours[name] != theirs[name])
    absent = sorted(name for name in theirs if name not in ours)
    assert (changed, absent) == ([], []), f"copy these files from {upstream} into {here}"
