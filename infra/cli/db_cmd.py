"""`opshub db migrate --dsn URI`: apply the ops_audit SQL migrations (infra/migrations) to a database."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.config import REPO_ROOT, load_stack_config, stack_file
from infra.derive.audit import audit_settings
from infra.migrations.runner import migrate
from infra.model.access import load_model


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="database tools for the Supabase ops_audit schema")
    db_sub = parser.add_subparsers(dest="db_command", required=True, parser_class=type(parser))
    migrate_parser = db_sub.add_parser(
        "migrate", help="apply pending migrations in one transaction (a no-op when nothing is pending)"
    )
    migrate_parser.add_argument("--dsn", required=True, help="libpq URI, e.g. postgresql://user@host:5432/postgres?sslmode=require")
    migrate_parser.add_argument("--stack", default="prod", help="stack whose claims namespace the policies use (default: prod)")
    migrate_parser.add_argument("--cwd", type=Path, default=REPO_ROOT, help="project directory holding Pulumi.<stack>.yaml")
    migrate_parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = load_stack_config(stack_file(args.stack, args.cwd))
    settings = audit_settings(load_model(), config.roles_claim)
    result = migrate(args.dsn, settings)
    for created in result.created:
        print(f"created {created} (Pulumi declares it in a stack)")
    for name in result.applied:
        print(f"applied {name}")
    for notice in result.notices:
        print(f"notice: {notice}")
    if result.settings_changed:
        print(f"ops_audit.settings and action catalogue: roles claim {config.roles_claim!r}, {len(settings.actions)} actions")
    if not result.changed:
        print("nothing to apply: the database is up to date")
    return 0
