"""A throwaway PostgreSQL 15 cluster for tests, set up the way Supabase sets up a project.

`PgCluster` runs `initdb` in a temp dir and `pg_ctl` on 127.0.0.1 with a free
port and a socket dir inside the temp dir. Authentication:

- local socket: `trust` for the cluster superuser only (`supabase_admin`, the
  name Supabase gives its real superuser), `scram-sha-256` for everyone else;
- TCP (127.0.0.1): `scram-sha-256` for everyone.

SSL is off: the cluster only listens on loopback. Real Supabase requires SSL,
which is why the Pulumi provider uses sslmode=require; libpq's default
`sslmode=prefer` falls back to plain TCP here.

Commits are not durable by default (`fsync`, `synchronous_commit` and
`full_page_writes` off): the cluster is thrown away. `PgCluster(durable=True)`
keeps PostgreSQL's defaults, as production has them (the benchmarks use both).

safeupdate: Supabase preloads pg-safeupdate for PostgREST's login, which has no
Debian package. `start()` builds the stand-in in tests/support/safeupdate (a
C module named `safeupdate`, with PGXS: Debian `postgresql-server-dev-15` and a
C compiler) into the temp dir and points `dynamic_library_path` there, so
Supabase's own `ALTER ROLE authenticator SET session_preload_libraries =
'safeupdate'` loads it and nothing is installed system-wide. Without a
compiler or PGXS, `start()` fails and says what to install.

When pg_cron is installed (Debian `postgresql-15-cron`) the server preloads it
with `cron.database_name = 'postgres'`, the database pg_cron lives in on
Supabase too; the extension itself is only created by `enable_pg_cron(conn)`,
as Supabase's dashboard does. Jobs run in background workers, because a job's
libpq login to 127.0.0.1 would need a password here.

PostgreSQL refuses to run as root. As root the server runs as the `postgres`
OS user (created by Debian's postgresql-15 package) through `runuser`, and the
temp dir is chowned to it; otherwise it runs as the current user.

`install_supabase(conn)` reproduces Supabase's setup before any project
migration runs, from the facts of supabase/postgres (each statement names the
file it comes from): superuser `supabase_admin`; `postgres` demoted to
NOSUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS and a member of the API
and service roles; `anon`, `authenticated`, `service_role` (BYPASSRLS) and
their login `authenticator`, which preloads safeupdate; the service logins
`supabase_auth_admin` and `supabase_storage_admin` (CREATEROLE),
`supabase_read_only_user` (BYPASSRLS, pg_read_all_data) and
`supabase_replication_admin`; the `extensions`, `auth` and `storage` schemas,
with `auth.jwt()`, `auth.uid()` and `auth.role()` owned by
`supabase_auth_admin`; and the default privileges on `public`.
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
from psycopg import sql

SUPERUSER = "supabase_admin"
ADMIN_USER = "postgres"
ADMIN_PASSWORD = "postgres-admin-pw"
AUTHENTICATOR_PASSWORD = "authenticator-pw"
READ_ONLY_PASSWORD = "read-only-pw"
STORAGE_ADMIN_PASSWORD = "storage-admin-pw"
SAFEUPDATE_SOURCE = Path(__file__).with_name("safeupdate")
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


def build_safeupdate(target: Path) -> Path:
    """Build the safeupdate stand-in with PGXS into `target`; PgClusterError naming what is missing."""
    pg_config, make = shutil.which("pg_config"), shutil.which("make")
    pgxs = subprocess.run([pg_config, "--pgxs"], capture_output=True, text=True, check=False) if pg_config else None
    if pgxs is None or pgxs.returncode != 0 or not Path(pgxs.stdout.strip()).exists() or make is None:
        raise PgClusterError("cannot build the safeupdate stand-in: PGXS or make is missing; install "
                             "postgresql-server-dev-15, gcc and make (scripts/system-packages.sh)")
    shutil.copytree(SAFEUPDATE_SOURCE, target, ignore=shutil.ignore_patterns("*.o", "*.so"))
    # No LLVM bitcode: it is only used when the module is installed, which it never is.
    result = subprocess.run([make, "-s", "with_llvm=no", f"PG_CONFIG={pg_config}"], cwd=target,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PgClusterError(f"cannot build the safeupdate stand-in (make, a C compiler and "
                             f"postgresql-server-dev-15 are needed):\n{result.stderr.strip()[-2000:]}")
    library = target / "safeupdate.so"
    library.chmod(0o755)  # the server's OS user loads it
    return library


class PgCluster:
    """A PostgreSQL cluster in a temp dir; `start()` then `stop()` (always, in a finally)."""

    def __init__(self, settings: dict[str, str] | None = None, durable: bool = False) -> None:
        self.bindir = find_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="opshub-pg-"))
        self.datadir = self.root / "data"
        self.sockdir = self.root / "sock"
        self.logfile = self.root / "server.log"
        self.libdir = self.root / "lib"
        self.durable = durable
        self.port = 0
        self.host = "127.0.0.1"
        self.settings = {**pg_cron_settings(self.bindir), **(settings or {})}
        self._os_user = _server_user()
        self._running = False

    # -- lifecycle -------------------------------------------------------
    def start(self) -> PgCluster:
        self.sockdir.mkdir()
        build_safeupdate(self.libdir)
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
            **({} if self.durable else {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}),
            "dynamic_library_path": f"'$libdir:{self.libdir}'",  # the safeupdate stand-in
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


# Supabase's setup, written for these tests from the facts in supabase/postgres
# (migrations/db/init-scripts and migrations/db/migrations; the file each fact
# comes from is named beside it) and supabase/auth (auth.jwt()). Roles are
# cluster-wide, so they are created once; the schemas and grants are per database.
SUPABASE_ROLES_SQL = f"""
do $$
begin
    if exists (select from pg_roles where rolname = 'anon') then
        return;
    end if;
    -- 00000000000000-initial-schema.sql: the replication and read-only logins;
    -- the read-only one reads every table, past RLS.
    create role supabase_replication_admin login replication;
    create role supabase_read_only_user login bypassrls password '{READ_ONLY_PASSWORD}';
    grant pg_read_all_data to supabase_read_only_user;
    -- The API roles, and PostgREST's login, a member of each (it was also a
    -- member of supabase_admin until 20221103090837_revoke_admin.sql).
    create role anon nologin noinherit;
    create role authenticated nologin noinherit;
    create role service_role nologin noinherit bypassrls;
    create role authenticator login noinherit password '{AUTHENTICATOR_PASSWORD}';
    grant anon, authenticated, service_role to authenticator;
    alter role anon set statement_timeout = '3s';
    alter role authenticated set statement_timeout = '8s';
    -- 20230529180330_alter_api_roles_for_inherit.sql (its pgsodium grant is left
    -- out: pgsodium is not installed here).
    alter role anon inherit;
    alter role authenticated inherit;
    alter role service_role inherit;
    -- 20221028101028_set_authenticator_timeout.sql, 20231130133139_set_lock_timeout_to_authenticator_role.sql,
    -- and 20220118070449_enable-safeupdate-postgrest.sql: every PostgREST session loads safeupdate.
    alter role authenticator set statement_timeout = '8s';
    alter role authenticator set lock_timeout = '8s';
    alter role authenticator set session_preload_libraries = 'safeupdate';
    -- The service logins of Auth and Storage (00000000000001-auth-schema.sql,
    -- 00000000000002-storage-schema.sql), with CREATEROLE; Storage logs in as
    -- PostgREST does (20231013070755_grant_authenticator_to_supabase_storage_admin.sql).
    create role supabase_auth_admin login noinherit createrole noreplication;
    create role supabase_storage_admin login noinherit createrole noreplication password '{STORAGE_ADMIN_PASSWORD}';
    alter role supabase_auth_admin set search_path = auth;
    alter role supabase_storage_admin set search_path = storage;
    grant authenticator to supabase_storage_admin;
    -- 00000000000003-post-setup.sql: the dashboard's role.
    create role dashboard_user nosuperuser createdb createrole replication;
    -- The everyday admin: 10000000000000_demote-postgres.sql demotes it to
    -- NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS; later
    -- migrations make it a member of the service logins
    -- (20220609081115_grant-supabase-auth-admin-and-supabase-storage-admin-to-postgres.sql),
    -- of the API roles (20230201083204_grant_auth_roles_to_postgres.sql) and of
    -- predefined roles (20230306081037_grant_pg_monitor_to_postgres.sql,
    -- 20240606060239_grant_predefined_roles_to_postgres.sql).
    create role {ADMIN_USER} nosuperuser createdb createrole login replication bypassrls
        password '{ADMIN_PASSWORD}';
    alter role {ADMIN_USER} set search_path = "$user", public, extensions;
    grant supabase_auth_admin, supabase_storage_admin to {ADMIN_USER};
    grant anon, authenticated, service_role to {ADMIN_USER};
    grant pg_monitor, pg_read_all_data, pg_signal_backend to {ADMIN_USER};
end
$$;
"""

# Per database, as the superuser. `{{db}}` is the database's quoted name: the
# files grant on database `postgres`, Supabase's only project database.
SUPABASE_DATABASE_SQL = f"""
-- 00000000000000-initial-schema.sql: extensions live in their own schema;
-- public is usable by the API roles, and what the superuser creates there is
-- theirs by default.
create schema if not exists extensions;
create extension if not exists "uuid-ossp" with schema extensions;
create extension if not exists pgcrypto with schema extensions;
grant usage on schema public to {ADMIN_USER}, anon, authenticated, service_role;
grant usage on schema extensions to {ADMIN_USER}, anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to {ADMIN_USER}, anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to {ADMIN_USER}, anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to {ADMIN_USER}, anon, authenticated, service_role;
-- 00000000000001-auth-schema.sql, 20211115181400_update-auth-permissions.sql:
-- auth belongs to the superuser, Auth's login has all of it.
create schema if not exists auth authorization {SUPERUSER};
grant usage on schema auth to anon, authenticated, service_role, {ADMIN_USER};
grant all on schema auth to supabase_auth_admin, dashboard_user;
-- 00000000000002-storage-schema.sql (its tables are not needed here).
create schema if not exists storage authorization {SUPERUSER};
grant usage on schema storage to {ADMIN_USER}, anon, authenticated, service_role;
grant all on schema storage to supabase_storage_admin;
-- 10000000000000_demote-postgres.sql.
grant all on database {{db}} to {ADMIN_USER}, dashboard_user;
grant all on schema auth, extensions, storage to {ADMIN_USER};
-- Auth creates its functions as its own login (supabase/auth migrations;
-- auth.jwt() from 20220531120530_add_auth_jwt_function.up.sql), and
-- 20211124212715_update-auth-owner.sql makes it the owner of the older ones.
set role supabase_auth_admin;
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
reset role;
-- 20211115181400_update-auth-permissions.sql: the admin may use all of auth.
grant all on all routines in schema auth to {ADMIN_USER}, dashboard_user;
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
    """Supabase's roles (once per cluster) and its schemas and grants (per database), as the superuser."""
    conn.execute(SUPABASE_ROLES_SQL)
    # GRANT ... ON DATABASE takes a name, not current_database().
    conn.execute(SUPABASE_DATABASE_SQL.replace("{db}", sql.Identifier(conn.info.dbname).as_string(conn)))
