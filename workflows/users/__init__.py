"""A buyer's users (manual 004): invited by mail, changed with confirmations by mail, passwords reset by mail.

A buyer (a restaurant group) has users; each is an operator account (``workflows.accounts``: argon2id,
sessions, lockout) confined to its buyer, with a role, a person's name and an email address unique across
users, which it logs in with. Every change goes through a one-time link mailed to the user:

    invites   invite (48-hour link, once), send again (the old link stops), accept: name and password
    changes   a new name (confirmed by mail), a new address (the new address confirms, the old one is told)
    reset     a forgotten password (1-hour link, the same answer for every address)
    links     the links themselves; models: their rows
    csv_users invitations from a CSV file
    mails     what the mails are made of (templates/mail/user_*)
"""

from workflows.users.changes import change, confirm_email, pending_change
from workflows.users.csv_users import import_users
from workflows.users.invites import accept, invite, pending_invite, resend, user_json, users_of
from workflows.users.links import LinkRefused
from workflows.users.mails import OBJECT_TYPE
from workflows.users.models import AccountLink, LinkPurpose
from workflows.users.reset import request_reset, reset_password, reset_user

__all__ = ["OBJECT_TYPE", "AccountLink", "LinkPurpose", "LinkRefused", "accept", "change", "confirm_email",
           "import_users", "invite", "pending_change", "pending_invite", "request_reset", "resend", "reset_password",
           "reset_user", "user_json", "users_of"]
