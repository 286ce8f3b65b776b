"""The review workspace: a server-rendered web app where the team triages flags and decides.

auth.py (passwords, signed sessions, CSRF, login throttle), users.py, decisions.py (verdicts,
statuses and the append-only audit log), queue.py and pages.py (read-only queries), export.py
(decisions as labelled units), app.py (the Starlette routes), render.py (its Jinja2 Environment).
"""
