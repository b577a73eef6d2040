"""Inviting a buyer's users from a CSV file (email, name, role, language), all rows or none.

The file is read like the catalog's (``workflows.catalog.csv_table``: UTF-8 or CP932, Japanese or English
headers, errors by row and column as a spreadsheet numbers them). Every row is checked first: a wrong
address, an address another user has, or one twice in the file refuses the whole file, listing each;
otherwise each row is invited by mail, as one at a time would be.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from workflows.catalog.csv_import import MAX_LISTED_ERRORS, ImportResult
from workflows.catalog.csv_table import CsvImportRefused, ImportKind, RowError, read_table
from workflows.catalog.fields import USER
from workflows.catalog.lookup import get_buyer
from workflows.config import Settings
from workflows.users.invites import email_taken, invite_clean, normalized_email

log = logging.getLogger(__name__)


def import_users(session: Session, settings: Settings, buyer_id: int, data: bytes) -> ImportResult:
    buyer = get_buyer(session, buyer_id, for_update=True)
    errors: list[RowError] = []
    table = read_table(ImportKind.USERS, data, errors)
    assert table.rows is not None
    seen: dict[str, int] = {}
    planned = []
    for row, values in table.rows:
        clean, problems = USER.clean(values)
        errors.extend(RowError(row, table.label(field), message) for field, message in problems)
        if problems:
            continue
        email = normalized_email(clean["email"])
        if email in seen:
            errors.append(RowError(row, table.label("email"), f"{email} is also on row {seen[email]}: "
                                                              f"each user once per file"))
        elif email_taken(session, email):
            errors.append(RowError(row, table.label("email"), f"{email} is used by another user"))
        else:
            planned.append(clean)
        seen.setdefault(email, row)
    if errors:
        errors.sort(key=lambda e: e.row or 0)
        raise CsvImportRefused(ImportKind.USERS, errors[:MAX_LISTED_ERRORS], encoding=table.encoding,
                               total=len(errors))
    for clean in planned:
        invite_clean(session, settings, buyer, clean)
    log.info("users CSV for buyer %s (%s): %s invited", buyer_id, table.encoding, len(planned))
    return ImportResult(ImportKind.USERS.value, table.encoding.value, len(table.rows), len(planned), 0)
