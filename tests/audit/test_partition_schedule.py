"""0005_partition_schedule: the pg_cron job that keeps the monthly partitions ahead.

Real PostgreSQL 15 with the real pg_cron preloaded (tests/support/pgcluster.py).
pg_cron lives in one database per cluster (CRON_DATABASE, `postgres` as on
Supabase), so the tests with pg_cron share that database, enabled the way
Supabase's dashboard enables it and then migrated by the real runner.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from infra.cli.main import main
from infra.derive.audit import OWNER_ROLE
from infra.migrations.files import load_migrations
from infra.migrations.runner import migrate
from infra.migrations.verify import verify
from tests.audit.conftest import AuditDb, claims_for
from tests.support.pgcluster import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    CRON_DATABASE,
    enable_pg_cron,
    has_pg_cron,
    install_supabase,
)

pytestmark = pytest.mark.postgres

JOB_NAME = "ops-audit-partitions"
JOB_SCHEDULE = "0 3 1 * *"  # 03:00 UTC on the 1st of every month
JOB_COMMAND = "select ops_audit.ensure_partitions()"
JOB_COLUMNS = "jobid, schedule, command, database, username, active"
NO_CRON_NOTICE = "pg_cron is not enabled"
SCHEDULER_WAIT_SECONDS = 75  # pg_cron 1.4 schedules by the minute


@pytest.fixture(scope="module")
def cron_db(pg_cluster, audit_decl) -> AuditDb:
    """CRON_DATABASE made Supabase-like, pg_cron enabled, then migrated."""
    if not has_pg_cron(pg_cluster.bindir):
        pytest.fail("pg_cron is not installed: apt-get install -y --no-install-recommends postgresql-15-cron "
                    "(scripts/system-packages.sh)")
    db = AuditDb(pg_cluster, CRON_DATABASE)
    with db.superuser() as conn:
        install_supabase(conn)
        enable_pg_cron(conn)
    migrate(db.admin_dsn, audit_decl.settings)
    return db


def jobs(db: AuditDb) -> list[tuple]:
    """Every pg_cron job named JOB_NAME, whoever scheduled it (read as the superuser, past cron.job's RLS)."""
    with db.superuser() as conn:
        return conn.execute(f"select {JOB_COLUMNS} from cron.job where jobname = %s order by jobid", (JOB_NAME,)).fetchall()


def admin(db: AuditDb) -> psycopg.Connection:
    return psycopg.connect(db.admin_dsn, autocommit=True)


def last_partition(db: AuditDb) -> str:
    """The partition 12 months ahead: the last one ensure_partitions() keeps."""
    with db.superuser() as conn:
        (name,) = conn.execute(
            "select ops_audit.partition_name((date_trunc('month', now() at time zone 'UTC') + interval '12 months')::date)"
        ).fetchone()
    return name


def test_migrate_schedules_the_job_once_as_the_admin_that_migrated(cron_db):
    found = jobs(cron_db)

    assert len(found) == 1, f"exactly one {JOB_NAME} job expected, found {found}"
    _, schedule, command, database, username, active = found[0]
    assert (schedule, command) == (JOB_SCHEDULE, JOB_COMMAND), found[0]
    assert (database, username, active) == (CRON_DATABASE, ADMIN_USER, True), \
        "the job must run, in the trail's database, as the admin that applied the migrations"


def test_second_migrate_keeps_the_single_job(cron_db, audit_decl):
    before = jobs(cron_db)

    result = migrate(cron_db.admin_dsn, audit_decl.settings)

    assert not result.changed, f"second run must do nothing, did {result}"
    assert jobs(cron_db) == before, "a second migrate must neither add nor change the job"


def test_scheduling_again_updates_the_same_job_instead_of_adding_one(cron_db):
    (jobid, *_), = jobs(cron_db)
    with cron_db.superuser() as conn:  # someone edited the job by hand
        conn.execute("update cron.job set schedule = '*/5 * * * *', command = 'select 1' where jobid = %s", (jobid,))

    with admin(cron_db) as conn:
        (returned,) = conn.execute("select ops_audit.schedule_partition_job()").fetchone()

    assert returned == jobid
    assert jobs(cron_db) == [(jobid, JOB_SCHEDULE, JOB_COMMAND, CRON_DATABASE, ADMIN_USER, True)]


def test_the_runbooks_checks_work_as_the_admin(cron_db):
    """The queries docs/runbook.md ("Keep partitions ahead") tells the admin to run."""
    with admin(cron_db) as conn:
        mine = conn.execute(
            "select jobid, schedule, command, username, active from cron.job where jobname = 'ops-audit-partitions'"
        ).fetchall()
        conn.execute(
            "select status, return_message, start_time from cron.job_run_details "
            "where jobid = (select jobid from cron.job where jobname = 'ops-audit-partitions') "
            "order by start_time desc limit 3"
        ).fetchall()

    assert [row[1:] for row in mine] == [(JOB_SCHEDULE, JOB_COMMAND, ADMIN_USER, True)], \
        "cron.job's RLS must show the admin the job it scheduled"


def test_the_jobs_command_as_the_jobs_user_recreates_a_missing_partition(cron_db):
    (_, _, command, database, username, _), = jobs(cron_db)
    missing = last_partition(cron_db)
    with cron_db.superuser() as conn:
        conn.execute(f"drop table ops_audit.{missing}")  # empty: 12 months ahead

    assert username == ADMIN_USER, "this test logs in with the admin's password"
    with psycopg.connect(cron_db.cluster.dsn(username, ADMIN_PASSWORD, database)) as conn:
        created = [name for (name,) in conn.execute(command).fetchall()]

    assert missing in created
    with cron_db.superuser() as conn:
        owner, forced = conn.execute(
            "select pg_get_userbyid(relowner), relforcerowsecurity from pg_class where oid = to_regclass(%s)",
            (f"ops_audit.{missing}",),
        ).fetchone()
    assert (owner, forced) == (OWNER_ROLE, True), "the job's partitions must be the owner's, protected like the rest"


def test_pg_cron_itself_runs_the_job_and_it_creates_a_missing_partition(cron_db):
    """The scheduler, not the test, runs the job: in its background worker, as the job's user.

    Waits for the next minute (up to SCHEDULER_WAIT_SECONDS); the job's schedule is restored afterwards.
    """
    (jobid, *_), = jobs(cron_db)
    missing = last_partition(cron_db)
    with cron_db.superuser() as conn:
        conn.execute(f"drop table ops_audit.{missing}")
        conn.execute("select cron.alter_job(%s, schedule := '* * * * *')", (jobid,))
        try:
            run = None
            deadline = time.monotonic() + SCHEDULER_WAIT_SECONDS
            while run is None and time.monotonic() < deadline:
                time.sleep(1)
                run = conn.execute(
                    "select status, username, return_message from cron.job_run_details "
                    "where jobid = %s and status in ('succeeded', 'failed')", (jobid,)
                ).fetchone()
        finally:
            conn.execute("select cron.alter_job(%s, schedule := %s)", (jobid, JOB_SCHEDULE))
        exists = conn.execute("select to_regclass(%s) is not null", (f"ops_audit.{missing}",)).fetchone()

    assert run is not None, f"pg_cron did not run the job within {SCHEDULER_WAIT_SECONDS}s:\n{cron_db.cluster.log_tail()}"
    assert run[:2] == ("succeeded", ADMIN_USER), f"the job failed: {run}"
    assert exists == (True,), f"the job ran ({run}) but {missing} is still missing"


def test_scheduling_refuses_a_caller_without_the_owners_privileges(cron_db):
    """Its job would fail every month: ensure_partitions() is owner-only."""
    with cron_db.superuser() as conn, pytest.raises(psycopg.errors.RaiseException,
                                                    match="does not have the privileges of ops_audit_owner"):
        with conn.transaction():  # rolled back: the role and its rights vanish
            conn.execute("create role scheduler_without_owner nologin")
            conn.execute("grant usage on schema ops_audit, cron to scheduler_without_owner")
            conn.execute("grant execute on function ops_audit.schedule_partition_job() to scheduler_without_owner")
            conn.execute("set local role scheduler_without_owner")
            conn.execute("select ops_audit.schedule_partition_job()")
    assert len(jobs(cron_db)) == 1, "a refused call must schedule nothing"


def test_without_pg_cron_migrate_succeeds_schedules_nothing_and_says_so(pg_cluster, pg_database, audit_decl):
    db = AuditDb(pg_cluster, pg_database)

    result = migrate(db.admin_dsn, audit_decl.settings)

    assert result.applied == tuple(m.name for m in load_migrations()), "every file, 0005 included, must apply"
    assert any(NO_CRON_NOTICE in n and "by hand" in n for n in result.notices), result.notices
    with db.superuser() as conn:
        assert conn.execute("select to_regnamespace('cron')").fetchone() == (None,), \
            "the migration must never create pg_cron"
    with pg_cluster.connect(CRON_DATABASE) as conn:
        if conn.execute("select to_regclass('cron.job')").fetchone() != (None,):
            elsewhere = conn.execute("select jobid from cron.job where database = %s", (pg_database,)).fetchall()
            assert elsewhere == [], "nothing may be scheduled for a database without pg_cron"


def test_cli_migrate_prints_the_no_cron_notice(pg_cluster, pg_database, capsys):
    code = main(["db", "migrate", "--dsn", pg_cluster.dsn(ADMIN_USER, ADMIN_PASSWORD, pg_database)])

    out = capsys.readouterr().out
    assert code == 0
    assert f"notice: ops_audit: {NO_CRON_NOTICE}" in out, out


# 0011_seal_schedule: the sealer's job. pg_cron 1.4 (Debian's, here) schedules by the
# minute; from 1.5 on (Supabase ships 1.6) the job runs every second.
SEAL_JOB = "ops-audit-seal"
SEAL_COMMAND = "select ops_audit.seal_events()"


def seal_jobs(db: AuditDb) -> list[tuple]:
    with db.superuser() as conn:
        return conn.execute(f"select {JOB_COLUMNS} from cron.job where jobname = %s", (SEAL_JOB,)).fetchall()


def test_migrate_schedules_the_sealer_as_the_admin_by_the_minute_on_pg_cron_1_4(cron_db):
    with cron_db.superuser() as conn:
        (version,) = conn.execute("select extversion from pg_extension where extname = 'pg_cron'").fetchone()
    assert version.startswith("1.4"), f"this test expects Debian's pg_cron 1.4, found {version}"

    ((_, schedule, command, database, username, active),) = seal_jobs(cron_db)

    assert (schedule, command, database, username, active) == ("* * * * *", SEAL_COMMAND, CRON_DATABASE, ADMIN_USER, True)


def test_pg_cron_itself_runs_the_sealer_and_the_chain_verifies(cron_db):
    """The scheduler runs ops_audit.seal_events() in its worker, as the admin; waits for the next minute."""
    cron_db.insert(claims_for("auth0|cron", "ops-sre"), target="INC-cron")
    ((jobid, *_),) = seal_jobs(cron_db)
    deadline = time.monotonic() + SCHEDULER_WAIT_SECONDS
    outcome = verify(cron_db.admin_dsn)
    while outcome.unsealed and time.monotonic() < deadline:
        time.sleep(1)
        outcome = verify(cron_db.admin_dsn)
    with cron_db.superuser() as conn:
        runs = conn.execute("select status, username, return_message from cron.job_run_details where jobid = %s",
                            (jobid,)).fetchall()

    assert outcome.unsealed == 0, f"pg_cron did not seal within {SCHEDULER_WAIT_SECONDS}s: {runs}\n{cron_db.cluster.log_tail()}"
    assert outcome.intact and outcome.count >= 1, outcome
    assert ("succeeded", ADMIN_USER) in [run[:2] for run in runs], runs
