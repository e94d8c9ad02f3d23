"""What reviewers use: the test runner (`testing`), journeys (`journeys`), the semantic diff of
two models (`diff`), its impact on a history (`impact`), git revisions as sides of a diff
(`gitrev`), `score diff` as a library (`compare`), and the reports (`reports/`: text, Markdown,
HTML, JUnit, laid out by Jinja templates).

May import `runtime`, `dsl`, the compiler proper (`pipeline`) and `compiler.run` (readers);
never `compiler.cli`.
"""
