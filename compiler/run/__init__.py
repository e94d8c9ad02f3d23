"""What `score run`, `score explain` and `score compile` need: the engines (`engines/`), the
readers of event and contact files (`readers`, Parquet on top of `runtime.io`), the writers of
results and rejects (`writers`), and the commands as library functions (`scoring`).

May import `runtime`, `dsl` (rendering diagnostics) and the compiler proper (`pipeline`,
`sql`); never `compiler.review` or `compiler.cli`.
"""
