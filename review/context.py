"""What a page handler is given (:class:`Ctx`) and how it answers with a page or an error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from core.models import User
from review.render import render


@dataclass(frozen=True, slots=True)
class Ctx:
    user: User
    csrf: str
    db: Session
    form: FormData | None


Handler = Callable[[Request, Ctx], Response]


def page(ctx: Ctx, template: str, title: str, **values: Any) -> HTMLResponse:
    """A page of a signed-in user: the template with the user, the CSRF token and no message."""
    html = render(template, title=title, user=ctx.user, csrf=ctx.csrf, message=None, **values)
    return HTMLResponse(html)


def error(user: User | None, csrf: str, status: int, title: str, detail: str) -> HTMLResponse:
    html = render("error.html", title=title, detail=detail, user=user, csrf=csrf, message=None)
    return HTMLResponse(html, status_code=status)
