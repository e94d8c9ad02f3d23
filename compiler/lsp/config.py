"""Where a model's sample data is: `scorelang.toml`, else the editor's settings.

```toml
# scorelang.toml, in the model's folder or any folder above it
events = "data/events.jsonl"         # paths relative to this file
contacts = "data/contacts.jsonl"

[models."b2b_saas.score"]            # a model of its own data (path relative to this file)
events = "data/b2b_saas/events.jsonl"
contacts = "data/b2b_saas/contacts.jsonl"
```
The nearest `scorelang.toml` above the model wins; the settings (`scorelang.events`,
`scorelang.contacts`, relative to the workspace folder) apply when no file is found.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILE = "scorelang.toml"


class ConfigError(Exception):
    """A `scorelang.toml` that cannot be read; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class SampleFiles:
    events: str | None = None
    contacts: str | None = None
    origin: str = ""  # the toml file or "settings", for messages

    @property
    def any(self) -> bool:
        return bool(self.events or self.contacts)


@dataclass(frozen=True, slots=True)
class Settings:
    """What the client sends (`initializationOptions` or `workspace/didChangeConfiguration`,
    the `scorelang` section)."""
    events: str | None = None
    contacts: str | None = None
    root: str | None = None  # the workspace folder settings' paths are relative to
    docs_url: str | None = None  # where docs/diagnostics.md is; None: the checkout's copy

    @classmethod
    def from_client(cls, options, root: str | None) -> "Settings":
        if not isinstance(options, dict):
            return cls(root=root)
        options = options.get("scorelang", options)
        if not isinstance(options, dict):
            return cls(root=root)
        return cls(_text(options.get("events")), _text(options.get("contacts")), root,
                   _text(options.get("docsUrl")))


def _text(value) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def sample_files(model_path: str, settings: Settings) -> SampleFiles:
    """The sample data for the model at `model_path` (an absolute path)."""
    found = find_config(os.path.dirname(model_path), settings.root)
    if found is not None:
        return _from_config(found, model_path)
    if settings.events or settings.contacts:
        return SampleFiles(_absolute(settings.events, settings.root),
                           _absolute(settings.contacts, settings.root), "settings")
    return SampleFiles()


def find_config(folder: str, root: str | None = None) -> str | None:
    """The nearest `scorelang.toml` in `folder` or above it (not above `root`, when given)."""
    folder = os.path.abspath(folder)
    stop = os.path.abspath(root) if root else None
    while True:
        candidate = os.path.join(folder, CONFIG_FILE)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder or folder == stop:
            return None
        folder = parent


def _from_config(path: str, model_path: str) -> SampleFiles:
    try:
        with open(path, "rb") as stream:
            data = tomllib.load(stream)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    base = os.path.dirname(path)
    chosen = data
    models = data.get("models")
    if isinstance(models, dict):
        for name, section in models.items():
            if isinstance(section, dict) and _same(os.path.join(base, name), model_path):
                chosen = section
                break
    events, contacts = chosen.get("events"), chosen.get("contacts")
    for key, value in (("events", events), ("contacts", contacts)):
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{path}: `{key}` must be a path in quotes")
    return SampleFiles(_absolute(events, base), _absolute(contacts, base), path)


def _absolute(path: str | None, base: str | None) -> str | None:
    if not path:
        return None
    path = os.path.expanduser(path)
    if not os.path.isabs(path) and base:
        path = os.path.join(base, path)
    return os.path.normpath(path)


def _same(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)
