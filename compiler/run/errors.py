"""The error of an input file that cannot be read at all (shared by the readers)."""


class ReaderError(Exception):
    """A file that cannot be read at all: missing, unreadable, not Parquet, or pyarrow not
    installed."""
