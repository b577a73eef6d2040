"""``torii user ...`` and ``torii token ...``: operator accounts and API tokens, from the shell.

    torii user add NAME --role admin|operator|viewer [--buyer ID | --issuer COMPANY] [--password-stdin]
    torii user list
    torii user passwd NAME [--password-stdin]     set a new password (every session of NAME ends)
    torii user disable NAME | enable NAME | unlock NAME
    torii token create --name NAME --scope read|write|admin [--buyer ID | --issuer COMPANY]
    torii token list
    torii token revoke ID

They need only the database (DATABASE_URL, or the SQLite file under TORII_HOME), not a running gateway.
A token is printed once, when made; only its hash is kept.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflows import accounts, api_tokens
from workflows.access import ROLES, SCOPES
from workflows.config import load_settings
from workflows.db import Database
from workflows.errors import ToriiError
from workflows.models import ApiToken, Operator, OperatorSession


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        sys.exit("torii: no terminal to ask for the password on; pass it with --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        sys.exit("torii: the two passwords differ")
    return first


def _operator(session: Session, name: str) -> Operator:
    operator = session.scalars(select(Operator).where(Operator.name == name)).first()
    if operator is None:
        sys.exit(f"torii: no operator named {name!r}")
    return operator


@contextmanager
def _shell_transaction() -> Iterator[Session]:
    """One transaction on the gateway's database, its refusals said as the command's error."""
    db = Database(load_settings().database_url)
    db.upgrade_schema()
    try:
        with db.transaction() as session:
            yield session
    except ToriiError as refused:
        sys.exit(f"torii: {refused}")
    finally:
        db.dispose()


def cmd_user(args: argparse.Namespace) -> None:
    with _shell_transaction() as session:
        if args.action == "add":
            op = accounts.add_operator(session, args.name, _password(args), args.role, buyer_id=args.buyer,
                                       issuer=args.issuer)
            print(f"operator {op.name} ({op.role}) added")
        elif args.action == "list":
            for op in session.scalars(select(Operator).order_by(Operator.name)):
                scope = f"buyer {op.buyer_id}" if op.buyer_id else (f"issuer {op.issuer}" if op.issuer else "all")
                state = "disabled" if op.disabled else ("locked" if op.locked_until else "active")
                print(f"{op.name}\t{op.role}\t{scope}\t{state}")
        else:
            op = _operator(session, args.name)
            if args.action == "passwd":
                accounts.set_password(session, op, _password(args))
            elif args.action in ("disable", "enable"):
                op.disabled = args.action == "disable"
                session.execute(delete(OperatorSession).where(OperatorSession.operator_id == op.id))
            elif args.action == "unlock":
                op.locked_until, op.failed_logins = None, 0
            print(f"operator {op.name}: {args.action} done")


def cmd_token(args: argparse.Namespace) -> None:
    with _shell_transaction() as session:
        if args.action == "create":
            row, secret = api_tokens.issue_token(session, args.name, args.scope, buyer_id=args.buyer,
                                                 issuer=args.issuer)
            print(secret)
            print(f"token {row.id} ({row.scope}) made; it is shown this once", file=sys.stderr)
        elif args.action == "list":
            for row in session.scalars(select(ApiToken).order_by(ApiToken.id)):
                used = row.last_used_at.isoformat() if row.last_used_at else "never used"
                print(f"{row.id}\t{row.name}\t{row.prefix}…\t{row.scope}\t"
                      f"{'revoked' if row.revoked_at else used}")
        else:
            row = api_tokens.revoke_token(session, args.id)
            print(f"token {row.id} ({row.name}) revoked")


def add_account_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser("user", help="operator accounts: add, list, passwd, disable, enable, unlock")
    user.set_defaults(run=cmd_user)
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="a new operator")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=list(ROLES))
    _confinement(add)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    actions.add_parser("list", help="every operator, with role, scope and state")
    for action in ("passwd", "disable", "enable", "unlock"):
        p = actions.add_parser(action)
        p.add_argument("name")
        if action == "passwd":
            p.add_argument("--password-stdin", action="store_true")

    token = sub.add_parser("token", help="API tokens: create, list, revoke")
    token.set_defaults(run=cmd_token)
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a new token, printed once")
    create.add_argument("--name", required=True, help="who uses it, as the timeline shows it")
    create.add_argument("--scope", required=True, choices=list(SCOPES))
    _confinement(create)
    actions.add_parser("list", help="every token: id, name, first characters, scope, last use")
    revoke = actions.add_parser("revoke")
    revoke.add_argument("id", type=int)


def _confinement(parser: argparse.ArgumentParser) -> None:
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--buyer", type=int, metavar="ID", help="sees and acts on this buyer's objects only")
    only.add_argument("--issuer", metavar="COMPANY", help="sees and acts on this issuer's invitations only")
