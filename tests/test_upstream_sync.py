"""tests/conformance is the project's copy of the upstream conformance suite. When the upstream
folder sits beside the repository (the developers' layout: ../shared/conformance), every case
there must be here too, byte for byte, so that new upstream cases are pulled in. A clone on its
own has no upstream folder: the check is skipped, saying so."""
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "conformance"
UPSTREAM = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance"

pytestmark = pytest.mark.skipif(
    not UPSTREAM.is_dir(),
    reason=f"no upstream conformance suite at {UPSTREAM} (a clone on its own): nothing to sync")


def files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


def test_every_upstream_case_is_in_tests_conformance():
    missing = sorted({p.name for p in UPSTREAM.iterdir() if p.is_dir()}
                     - {p.name for p in HERE.iterdir() if p.is_dir()})
    assert missing == [], f"copy these cases from {UPSTREAM} into {HERE}"


def test_the_copied_cases_equal_upstream():
    upstream, here = files(UPSTREAM), files(HERE)
    changed = sorted(name for name in upstream if name in here and here[name] != upstream[name])
    absent = sorted(name for name in upstream if name not in here)
    assert (changed, absent) == ([], [])
