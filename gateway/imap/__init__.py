"""IMAP intake (imapclient): one poller per configured mailbox, one at a time across all processes.

``config`` reads the mailbox URLs; ``session`` is one IMAP connection (login, SELECT, marking
processed); ``cursor`` and ``lease`` are the poller's state in Redis; ``poller`` takes the mail in;
``threads`` runs one poller per mailbox.
"""
