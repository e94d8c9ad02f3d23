"""A throwaway PostgreSQL server for the tests that execute the `postgres` SQL dialect.

`start()` returns a `Server` (a psycopg 3 connection string and `stop()`), in this order:

1. `SCORELANG_POSTGRES_DSN` set: that server (nothing is started; the tests work in a schema
   of their own, dropped at the end);
2. the PostgreSQL binaries bundled in the PyPI package `pgserver` (the `pg` extra), else an
   `initdb`/`pg_ctl`/`postgres` triple on PATH or under /usr/lib/postgresql/*/bin: a new
   cluster in a temporary directory (`initdb`, locale C, UTF8), listening on a Unix socket in
   that directory only (no TCP port), stopped and deleted by `stop()`.

PostgreSQL refuses to run as root. As root (CI, containers) the cluster runs as the
unprivileged `nobody` account, with a copy of the binaries inside the temporary directory
(the installed ones may sit under a directory `nobody` cannot enter, such as /root).
We do not use `pgserver.get_server()`: as root it creates a system user and widens the
permissions of every parent directory of the data and of the site-packages directory.

`Unavailable` (with the reason) when no server can be had: the caller skips, or fails in CI.
"""
from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

DSN_VARIABLE = "SCORELANG_POSTGRES_DSN"
PROGRAMS = ("initdb", "pg_ctl", "postgres")


class Unavailable(RuntimeError):
    """No PostgreSQL server can be started here (the message says why)."""


@dataclass
class Server:
    conninfo: str
    description: str
    _stop: Callable[[], None] = field(default=lambda: None, repr=False)

    def stop(self) -> None:
        self._stop()


def _bundled() -> tuple[Path, list[Path]] | None:
    """pgserver's install directory, and the directories its binaries link against."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(list(spec.submodule_search_locations)[0])
    install = package / "pginstall"
    if not all((install / "bin" / p).is_file() for p in PROGRAMS):
        return None
    # the wheel's binaries find libpq through RPATH $ORIGIN/../../../pgserver.libs
    return install, [package.parent / "pgserver.libs"]


def _system() -> Path | None:
    candidates = []
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for directory in candidates:
        if all((directory / p).is_file() for p in PROGRAMS):
            return directory
    return None


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C", LANG="C")
    return env


def start() -> Server:
    dsn = os.environ.get(DSN_VARIABLE)
    if dsn:
        return Server(dsn, f"the server of ${DSN_VARIABLE}")
    bundled = _bundled()
    if bundled is not None:
        install, libs = bundled
        bin_dir, origin = install / "bin", "pgserver"
    else:
        bin_dir = _system()
        if bin_dir is None:
            raise Unavailable("no PostgreSQL binaries: install the `pg` extra "
                              "(`pip install -e '.[pg]'`, which brings `pgserver`), or set "
                              f"${DSN_VARIABLE} to a server the tests may use")
        install, libs, origin = bin_dir.parent, [], str(bin_dir)
    base = Path(tempfile.mkdtemp(prefix="scorelang-pg-"))
    try:
        return _start_cluster(base, install, bin_dir, libs, origin)
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise


def _start_cluster(base: Path, install: Path, bin_dir: Path, libs: list[Path],
                   origin: str) -> Server:
    run_as: dict = {}
    if os.geteuid() == 0:
        import pwd

        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            raise Unavailable("running as root, and there is no `nobody` account to run "
                              "PostgreSQL as (it refuses to run as root)") from None
        run_as = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
        base.chmod(0o755)
        if libs:  # pgserver: copy the install, keeping the layout its RPATH expects
            copy = base / "pg" / "pgserver"
            shutil.copytree(install, copy / "pginstall", symlinks=True,
                            ignore=shutil.ignore_patterns("include", "*.a"))
            for lib in libs:
                shutil.copytree(lib, copy.parent / lib.name, symlinks=True)
            bin_dir = copy / "pginstall" / "bin"
    data, sockets = base / "data", base / "run"
    for directory in (data, sockets):
        directory.mkdir()
        if run_as:
            os.chown(directory, run_as["user"], run_as["group"])
    env = _clean_env()

    def run(*args: str, timeout: float = 60) -> None:
        done = subprocess.run([str(bin_dir / args[0]), *args[1:]], capture_output=True,
                              text=True, env=env, timeout=timeout, cwd=base, **run_as)
        if done.returncode != 0:
            log = data / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise Unavailable(f"`{args[0]}` failed ({done.returncode}): "
                              f"{(done.stderr or done.stdout).strip()[-2000:]}\n{tail}".strip())

    run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
        "--locale=C", "--no-sync")
    options = (f"-c listen_addresses='' -k {sockets} -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=20 -c shared_buffers=32MB")
    run("pg_ctl", "-D", str(data), "-l", str(data / "server.log"), "-o", options, "-w",
        "-t", "60", "start", timeout=90)

    def stop() -> None:
        try:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(base, ignore_errors=True)

    return Server(f"host={sockets} port=5432 user=postgres dbname=postgres",
                  f"a throwaway PostgreSQL ({origin}) in {base}", stop)
