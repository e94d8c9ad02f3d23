"""JUnit XML for `score test --junit FILE`, built with xml.etree (CI systems read it)."""
from __future__ import annotations

import xml.etree.ElementTree as ET


def junit_xml(run) -> str:
    """`run` is a `compiler.review.testing.TestRun`; one <testsuite> per model file, in run order."""
    root = ET.Element("testsuites", name="score test", tests=str(len(run.outcomes)),
                      failures=str(_count(run.outcomes, "failure")),
                      errors=str(_count(run.outcomes, "error")))
    suites: dict[str, ET.Element] = {}
    for outcome in run.outcomes:
        suite = suites.get(outcome.file)
        if suite is None:
            suite = suites[outcome.file] = ET.SubElement(root, "testsuite", name=outcome.file)
        _testcase(suite, outcome)
    for name, suite in suites.items():
        cases = [o for o in run.outcomes if o.file == name]
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(_count(cases, "failure")))
        suite.set("errors", str(_count(cases, "error")))
        suite.set("time", f"{sum(o.seconds for o in cases):.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _kind(outcome) -> str | None:
    if outcome.errors:
        return "error"
    return None if outcome.passed else "failure"


def _count(outcomes, kind: str) -> int:
    return sum(1 for o in outcomes if _kind(o) == kind)


def _testcase(suite: ET.Element, outcome) -> None:
    case = ET.SubElement(suite, "testcase", classname=outcome.file, name=outcome.name,
                         file=outcome.file, line=str(outcome.line), time=f"{outcome.seconds:.3f}")
    kind = _kind(outcome)
    if kind == "error":
        node = ET.SubElement(case, "error", message=outcome.errors[0].splitlines()[0])
        node.text = "\n\n".join(outcome.errors)
    elif kind == "failure":
        first = outcome.failures[0]
        node = ET.SubElement(case, "failure",
                             message=f"{first.at}: expected {first.expected}, actual {first.actual}")
        node.text = "\n".join(_failure_lines(outcome))


def _failure_lines(outcome):
    for expect in outcome.failures:
        yield f"{expect.at}: {expect.text}"
        yield f"    expected: {expect.expected}"
        yield f"    actual:   {expect.actual}"
        for line in expect.because:
            yield f"      {line}"
