"""A throwaway PostgreSQL 15 cluster for tests, with Supabase's roles and auth.jwt().

`PgCluster` runs `initdb` in a temp dir and `pg_ctl` on 127.0.0.1 with a free
port and a socket dir inside the temp dir. Authentication:

- local socket: `trust` for the cluster superuser only (`supabase_admin`, the
  name Supabase gives its real superuser), `scram-sha-256` for everyone else;
- TCP (127.0.0.1): `scram-sha-256` for everyone.

SSL is off: the cluster only listens on loopback. Real Supabase requires SSL,
which is why the Pulumi provider uses sslmode=require; libpq's default
`sslmode=prefer` falls back to plain TCP here.

fsync is off as well: the cluster is thrown away, and durability would only
measure the disk of the machine running the tests.

When pg_cron is installed (Debian `postgresql-15-cron`) the server preloads it
with `cron.database_name = 'postgres'`, the database pg_cron lives in on
Supabase too; the extension itself is only created by `enable_pg_cron(conn)`,
as Supabase's dashboard does. Jobs run in background workers, because a job's
libpq login to 127.0.0.1 would need a password here.

PostgreSQL refuses to run as root. As root the server runs as the `postgres`
OS user (created by Debian's postgresql-15 package) through `runuser`, and the
temp dir is chowned to it; otherwise it runs as the current user.

`install_supabase(conn)` reproduces what Supabase provides before any project
migration runs (supabase/postgres init scripts): the roles `anon`,
`authenticated` (NOLOGIN NOINHERIT), `service_role` (NOLOGIN NOINHERIT
BYPASSRLS), `authenticator` (LOGIN NOINHERIT, member of all three), the
non-superuser admin `postgres`, and schema `auth` with `auth.jwt()`,
`auth.uid()` and `auth.role()`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import psycopg

SUPERUSER = "supabase_admin"
ADMIN_USER = "postgres"
ADMIN_PASSWORD = "postgres-admin-pw"
AUTHENTICATOR_PASSWORD = "authenticator-pw"
SERVER_OS_USER = "postgres"
START_ATTEMPTS = 3
CRON_DATABASE = "postgres"  # pg_cron's database: the only one its extension can be created in


class PgClusterError(RuntimeError):
    """The throwaway cluster could not be created or started."""


def find_bindir() -> Path:
    """The directory holding initdb/pg_ctl: `pg_config --bindir`, else Debian's path."""
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    candidates.append(Path("/usr/lib/postgresql/15/bin"))
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    raise PgClusterError(f"initdb/pg_ctl not found in {', '.join(map(str, candidates))}; install postgresql-15")


def has_pg_cron(bindir: Path) -> bool:
    """True when pg_cron's library is installed beside this server (bindir/../lib)."""
    return (bindir.parent / "lib" / "pg_cron.so").exists()


def pg_cron_settings(bindir: Path) -> dict[str, str]:
    """Server settings that preload pg_cron, or none when it is not installed."""
    if not has_pg_cron(bindir):
        return {}
    return {
        "shared_preload_libraries": "'pg_cron'",
        "cron.database_name": f"'{CRON_DATABASE}'",
        "cron.use_background_workers": "on",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_user() -> pwd.struct_passwd | None:
    """The OS user the server must run as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_OS_USER)
    except KeyError as exc:
        raise PgClusterError(
            f"running as root needs the '{SERVER_OS_USER}' OS user (created by the postgresql-15 package)"
        ) from exc


class PgCluster:
    """A PostgreSQL cluster in a temp dir; `start()` then `stop()` (always, in a finally)."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.bindir = find_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="opshub-pg-"))
        self.datadir = self.root / "data"
        self.sockdir = self.root / "sock"
        self.logfile = self.root / "server.log"
        self.port = 0
        self.host = "127.0.0.1"
        self.settings = {**pg_cron_settings(self.bindir), **(settings or {})}
        self._os_user = _server_user()
        self._running = False

    # -- lifecycle -------------------------------------------------------
    def start(self) -> PgCluster:
        self.sockdir.mkdir()
        if self._os_user:
            # The server user must own the temp dir; root can still read the log and socket.
            for path in (self.root, self.sockdir):
                os.chown(path, self._os_user.pw_uid, self._os_user.pw_gid)
        self._run("initdb", "-D", str(self.datadir), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        (self.datadir / "pg_hba.conf").write_text(
            f"local all {SUPERUSER} trust\n"
            "local all all scram-sha-256\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        last_error = ""
        for _ in range(START_ATTEMPTS):  # the free port can be taken between probe and bind
            self.port = free_port()
            self._write_conf()
            result = self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.datadir),
                               "-l", str(self.logfile), check=False)
            if result.returncode == 0:
                self._running = True
                return self
            last_error = self.log_tail()
        raise PgClusterError(f"pg_ctl start failed {START_ATTEMPTS} times:\n{last_error}")

    def stop(self) -> None:
        """Stop the server (fast mode) and remove the temp dir. Safe to call twice."""
        try:
            if self._running:
                self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.datadir), check=False)
                self._running = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- connections -----------------------------------------------------
    def dsn(self, user: str, password: str | None = None, dbname: str = "postgres") -> str:
        """A libpq URI: over TCP with a password, else over the socket (superuser trust)."""
        if password is None:
            return f"postgresql://{quote(user, safe='')}@/{dbname}?host={quote(str(self.sockdir), safe='')}&port={self.port}"
        return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{self.host}:{self.port}/{dbname}"

    def superuser_dsn(self, dbname: str = "postgres") -> str:
        return self.dsn(SUPERUSER, dbname=dbname)

    def connect(self, dbname: str = "postgres", **kwargs: object) -> psycopg.Connection:
        """An autocommit superuser connection over the socket."""
        return psycopg.connect(self.superuser_dsn(dbname), autocommit=True, **kwargs)

    def create_database(self, name: str) -> str:
        """A fresh database with Supabase's roles and auth schema; returns its name."""
        with self.connect() as conn:
            conn.execute(f'create database "{name}"')
        with self.connect(name) as conn:
            install_supabase(conn)
        return name

    def log_tail(self, lines: int = 40) -> str:
        if not self.logfile.exists():
            return "(no server log)"
        return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])

    # -- internals -------------------------------------------------------
    def _write_conf(self) -> None:
        settings = {
            "listen_addresses": f"'{self.host}'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.sockdir}'",
            "ssl": "off",  # loopback only; see the module docstring
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "timezone": "'UTC'",
            "password_encryption": "'scram-sha-256'",
            **self.settings,
        }
        body = "".join(f"{key} = {value}\n" for key, value in settings.items())
        (self.datadir / "postgresql.auto.conf").write_text(body)

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / tool), *args]
        if self._os_user:
            cmd = ["runuser", "-u", self._os_user.pw_name, "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=self.root)
        if check and result.returncode != 0:
            raise PgClusterError(f"{tool} failed ({result.returncode}): {result.stderr.strip()}")
        return result


# Supabase's roles and auth functions, as supabase/postgres defines them
# (migrations/db/init-scripts/00000000000000-initial-schema.sql and
# 00000000000001-auth-schema.sql). Roles are cluster-wide, so they are created
# once; the auth schema is per database.
SUPABASE_ROLES_SQL = f"""
do $$
begin
    if not exists (select from pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
        create role authenticated nologin noinherit;
        create role service_role nologin noinherit bypassrls;
        create role authenticator login noinherit password '{AUTHENTICATOR_PASSWORD}';
        grant anon, authenticated, service_role to authenticator;
        -- Supabase's dashboard/admin user: not a superuser since Supabase PG 15.
        create role {ADMIN_USER} login createrole createdb replication bypassrls
            password '{ADMIN_PASSWORD}';
    end if;
end
$$;
"""

SUPABASE_AUTH_SQL = f"""
grant create, connect, temporary on database current_database() to {ADMIN_USER};
grant usage, create on schema public to {ADMIN_USER};
grant usage on schema public to anon, authenticated, service_role;
create schema if not exists auth authorization {SUPERUSER};
grant usage on schema auth to anon, authenticated, service_role, {ADMIN_USER};

create or replace function auth.jwt() returns jsonb language sql stable as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

create or replace function auth.uid() returns uuid language sql stable as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;

create or replace function auth.role() returns text language sql stable as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;
"""


# What enabling pg_cron in Supabase's dashboard does, as the superuser
# (supabase/postgres ansible/files/postgresql_extension_custom_scripts/pg_cron/
# after-create.sql): the extension, and the admin's rights on its schema, with
# cron.job itself only readable (its RLS shows each user their own jobs).
PG_CRON_SQL = f"""
create extension if not exists pg_cron schema pg_catalog;
grant usage on schema cron to {ADMIN_USER} with grant option;
grant all on all functions in schema cron to {ADMIN_USER} with grant option;
grant all privileges on all tables in schema cron to {ADMIN_USER} with grant option;
revoke all on table cron.job from {ADMIN_USER};
grant select on table cron.job to {ADMIN_USER} with grant option;
"""


def enable_pg_cron(conn: psycopg.Connection) -> None:
    """Enable pg_cron as Supabase's dashboard does (superuser, in CRON_DATABASE only)."""
    conn.execute(PG_CRON_SQL)


def install_supabase(conn: psycopg.Connection) -> None:
    """Create Supabase's roles (once per cluster) and auth schema (per database) as superuser."""
    conn.execute(SUPABASE_ROLES_SQL)
    # `current_database()` is not allowed in GRANT ... ON DATABASE; substitute the name.
    dbname = conn.info.dbname
    conn.execute(SUPABASE_AUTH_SQL.replace("current_database()", f'"{dbname}"'))
