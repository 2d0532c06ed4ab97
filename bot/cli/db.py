"""`copbot db upgrade | status | backup FILE`: the database's schema and a consistent copy."""

from __future__ import annotations

import argparse
import sys

from bot.config import Settings
from bot.ops.backup import BackupError, backup
from storage import db


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    if args.db_command == "backup":
        try:
            print(backup(settings.database_url, args.file))
        except BackupError as e:
            print(f"copbot: {e}", file=sys.stderr)
            return 1
        return 0
    if args.db_command == "upgrade":
        db.upgrade(settings.database_url)
        current, head = db.schema_status(settings.database_url)
        print(f"database schema is at revision {current} (head {head})")
        return 0
    current, head = db.schema_status(settings.database_url)
    state = "up to date" if current == head else "needs `copbot db upgrade`"
    print(f"database schema: {current or 'empty'}; code expects {head}: {state}")
    return 0 if current == head else 1


def add_commands(sub: argparse._SubParsersAction) -> None:
    dbp = sub.add_parser("db", help="database schema")
    dbsub = dbp.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dbsub.add_parser("upgrade", help="create or migrate the schema")
    dbsub.add_parser("status", help="show the schema revision")
    backupp = dbsub.add_parser(
        "backup", help="copy the SQLite database, consistently, while copbot runs"
    )
    backupp.add_argument("file", help="the new file to write the copy to")
    dbp.set_defaults(func=cmd_db)
