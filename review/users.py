"""Workspace accounts: add, list, look up."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import ROLES, User
from review.auth import hash_password

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
RANK = {role: number for number, role in enumerate(ROLES)}  # viewer < reviewer < admin


def may(role: str, needed: str) -> bool:
    """Whether ``role`` has at least the rights of ``needed``."""
    return RANK.get(role, -1) >= RANK[needed]


def add_user(session: Session, name: str, role: str, password: str) -> User:
    """A new account, or its password and role replaced when the name exists."""
    if not NAME.match(name):
        raise ValueError(f"{name!r} is not a user name (letters, digits, _ . @ -; up to 64)")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    hashed = hash_password(password)
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        user = User(name=name, role=role, password_hash=hashed)
        session.add(user)
    else:
        user.role, user.password_hash, user.active = role, hashed, True
    session.flush()
    return user


def by_name(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name, User.active.is_(True)))


def all_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name)))
