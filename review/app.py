"""The workspace's routes (Starlette): every page needs a login but ``/login`` and ``/healthz``.

Each route is declared with the role it needs (``viewer`` < ``reviewer`` < ``admin``), checked on
the server for every request; a POST must carry the session's CSRF token. Without a valid session a
request is redirected to ``/login``. Every response carries the CSP and the other security headers.
Database work runs in the thread pool, one session per request, committed when the handler returns.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import Web
from core.models import REVIEW_STATUSES, AuditEntry, Claim, User
from review.auth import COOKIE, Sessions, Throttle, csrf_ok, verify_password
from review.browse import Browse
from review.context import Ctx, Handler, error, page
from review.decisions import DecisionError, decide_claim, update_article
from review.evidence import EvidenceView, Missing, rendered_response, warc_response
from review.pages import article_page, sources_page
from review.queue import BANDS, Filters, choices, queue, weeks
from review.render import csp, render
from review.users import all_users, by_name, may
from review.versions import version_history

LOGIN_COOKIE = "claimwatch_login"
LOGIN_MAX_AGE_S = 3600


class SecurityHeaders:
    """Adds the CSP and the other security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp().encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cache-control", b"no-store"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in self.headers if h[0] not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, wrapped)


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _local(target: str | None) -> str:
    """Only a path on this site (no ``//host``, no scheme) is a place to go back to."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class Workspace:
    """The app's state: the database, the session signer, the throttle and the settings (the
    digest's time zone for weeks, the seed folders, the digest archive folder)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        web: Web,
        secret_key: str,
        failing_after: int,
        warc_dir: Path | None = None,
        *,
        timezone: str = "UTC",
        seed_folders: Sequence[Path] = (),
        archive_dir: Path | None = None,
        template_threshold: float = 0.5,
    ) -> None:
        self.db = sessions
        self.warc_dir = warc_dir
        self.web = web
        self.timezone = timezone
        self.browse = Browse(timezone, seed_folders, archive_dir, template_threshold)
        self.sessions = Sessions(secret_key, web.session_max_age_s)
        self.login_tokens = URLSafeTimedSerializer(secret_key, salt="claimwatch-login")
        self.throttle = Throttle(web.login_attempts, web.login_window_s)
        self.failing_after = failing_after

    # -- the guard every page goes through ----------------------------------------------------

    def page(self, role: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                form = await request.form() if request.method == "POST" else None
                try:
                    return await run_in_threadpool(self._guarded, request, form, role, handler)
                finally:
                    if form is not None:
                        await form.close()

            endpoint.__name__ = handler.__name__
            return endpoint

        return wrap

    def _guarded(
        self, request: Request, form: FormData | None, role: str, handler: Handler
    ) -> Response:
        data = self.sessions.read(request.cookies.get(COOKIE))
        with self.db() as db:
            user = db.get(User, data.user_id) if data else None
            if data is None or user is None or not user.active:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response: Response = RedirectResponse(
                    "/login?" + urlencode({"next": target}), status_code=303
                )
                if data is not None:
                    response.delete_cookie(COOKIE, path="/")
                return response
            if form is not None and not csrf_ok(data.csrf, form.get("csrf")):
                return self.error(user, data.csrf, 403, "Refused", "The form expired; reload it.")
            if not may(user.role, role):
                return self.error(
                    user, data.csrf, 403, "Not allowed", f"This needs the {role} role."
                )
            try:
                response = handler(request, Ctx(user, data.csrf, db, form))
            except DecisionError as exc:
                db.rollback()
                return self.error(user, data.csrf, 400, "Not saved", str(exc))
            db.commit()
            return response

    def error(self, user: User | None, csrf: str, status: int, title: str, detail: str) -> Response:
        return error(user, csrf, status, title, detail)

    def _cookie(
        self, request: Request, response: Response, name: str, value: str, age: int
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=_https(request),
        )

    # -- login ----------------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if self.sessions.read(request.cookies.get(COOKIE)) is not None:
            return RedirectResponse(_local(request.query_params.get("next")), status_code=303)
        return self._login_page(request, None, 200)

    def _page(self, ctx: Ctx, template: str, title: str, **values: Any) -> HTMLResponse:
        return page(ctx, template, title, **values)

    def _login_page(self, request: Request, message: str | None, status: int) -> Response:
        token = secrets.token_urlsafe(24)
        html = render(
            "login.html",
            title="Log in",
            user=None,
            csrf="",
            message=message,
            login_csrf=token,
            next=_local(request.query_params.get("next")),
        )
        response = HTMLResponse(html, status_code=status)
        self._cookie(
            request, response, LOGIN_COOKIE, self.login_tokens.dumps(token), LOGIN_MAX_AGE_S
        )
        return response

    async def login(self, request: Request) -> Response:
        async with request.form() as form:
            name = str(form.get("name", ""))[:64]
            password = str(form.get("password", ""))[:1024]
            given = form.get("csrf")
            target = _local(str(form.get("next", "/")))
        try:
            expected = self.login_tokens.loads(
                request.cookies.get(LOGIN_COOKIE, ""), max_age=LOGIN_MAX_AGE_S
            )
        except BadSignature:
            expected = None
        if not isinstance(expected, str) or not csrf_ok(expected, given):
            return self._login_page(request, "The form expired; try again.", 403)
        client = request.client.host if request.client else "?"
        keys = (f"name:{name.lower()}", f"addr:{client}")
        if self.throttle.blocked(*keys):
            return self._login_page(request, "Too many failed logins; wait and try again.", 429)
        user_id = await run_in_threadpool(self._check, name, password)
        if user_id is None:
            self.throttle.fail(*keys)
            return self._login_page(request, "Wrong name or password.", 401)
        self.throttle.clear(keys[0])
        cookie, _ = self.sessions.issue(user_id)
        response = RedirectResponse(target, status_code=303)
        self._cookie(request, response, COOKIE, cookie, self.web.session_max_age_s)
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return response

    def _check(self, name: str, password: str) -> int | None:
        with self.db() as db:
            user = by_name(db, name)
            ok = verify_password(user.password_hash if user else None, password)
            return user.id if ok and user is not None else None

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    # -- pages ----------------------------------------------------------------------------------

    def logout(self, request: Request, ctx: Ctx) -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    def queue_page(self, request: Request, ctx: Ctx) -> Response:
        filters = Filters.from_query(request.query_params)
        try:
            number = int(request.query_params.get("page", "1"))
        except ValueError:
            number = 1
        size = self.web.page_size
        result = queue(ctx.db, filters, number, size, timezone=self.timezone)

        def qs(page: int) -> str:
            return urlencode([*filters.query_string(), ("page", str(page))])

        return self._page(
            ctx,
            "queue.html",
            "Queue",
            f=filters,
            page=result,
            offset=(result.page - 1) * size,
            bands=BANDS,
            statuses=REVIEW_STATUSES,
            choices=choices(ctx.db),
            weeks=weeks(ctx.db, self.timezone),
            prev_qs=qs(result.page - 1),
            next_qs=qs(result.page + 1),
        )

    def article(self, request: Request, ctx: Ctx) -> Response:
        page = article_page(ctx.db, int(request.path_params["article_id"]))
        if page is None:
            return self.error(ctx.user, ctx.csrf, 404, "Not found", "There is no such article.")
        response = self._page(
            ctx,
            "article.html",
            page.article.title or "(untitled)",
            p=page,
            can_decide=may(ctx.user.role, "reviewer"),
            statuses=REVIEW_STATUSES,
            users=[u.name for u in all_users(ctx.db) if u.active],
            versions=version_history(ctx.db, page.article),
        )
        # the one page that frames: the stored page, rendered, from this site only
        response.headers["content-security-policy"] = csp() + "; frame-src 'self'"
        return response

    def _evidence(self, request: Request, ctx: Ctx, view: EvidenceView) -> Response:
        try:
            return view(
                ctx.db,
                self.warc_dir,
                int(request.path_params["article_id"]),
                request.query_params.get("version"),
            )
        except Missing as exc:
            return self.error(ctx.user, ctx.csrf, 404, exc.title, exc.detail)

    def warc(self, request: Request, ctx: Ctx) -> Response:
        return self._evidence(request, ctx, warc_response)

    def rendered(self, request: Request, ctx: Ctx) -> Response:
        return self._evidence(request, ctx, rendered_response)

    def review(self, request: Request, ctx: Ctx) -> Response:
        assert ctx.form is not None
        article_id = int(request.path_params["article_id"])
        update_article(
            ctx.db,
            ctx.user,
            article_id,
            status=str(ctx.form.get("status") or "") or None,
            assignee=str(ctx.form.get("assignee", "")),
            notes=str(ctx.form.get("notes", "")),
        )
        return RedirectResponse(f"/articles/{article_id}#review", status_code=303)

    def decision(self, request: Request, ctx: Ctx) -> Response:
        assert ctx.form is not None
        claim_id = int(request.path_params["claim_id"])
        verdict = str(ctx.form.get("verdict", ""))
        reason = str(ctx.form.get("reason", ""))
        decide_claim(ctx.db, ctx.user, claim_id, verdict, reason)
        claim = ctx.db.get(Claim, claim_id)
        article_id = claim.article_id if claim else 0
        return RedirectResponse(f"/articles/{article_id}#claims", status_code=303)

    def sources(self, request: Request, ctx: Ctx) -> Response:
        rows = sources_page(ctx.db, self.failing_after)
        return self._page(
            ctx,
            "sources.html",
            "Sources",
            sources=rows,
        )

    def audit(self, request: Request, ctx: Ctx) -> Response:
        entries = list(ctx.db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(500)))
        return self._page(
            ctx,
            "audit.html",
            "Audit log",
            entries=entries,
        )

    def routes(self) -> list[Route]:
        return [
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.page("viewer")(self.logout), methods=["POST"]),
            Route("/", self.page("viewer")(self.queue_page), methods=["GET"]),
            Route("/articles/{article_id:int}", self.page("viewer")(self.article), methods=["GET"]),
            Route(
                "/articles/{article_id:int}/warc", self.page("viewer")(self.warc), methods=["GET"]
            ),
            Route(
                "/articles/{article_id:int}/rendered",
                self.page("viewer")(self.rendered),
                methods=["GET"],
            ),
            Route(
                "/articles/{article_id:int}/review",
                self.page("reviewer")(self.review),
                methods=["POST"],
            ),
            Route(
                "/claims/{claim_id:int}/decision",
                self.page("reviewer")(self.decision),
                methods=["POST"],
            ),
            Route("/sources", self.page("viewer")(self.sources), methods=["GET"]),
            Route("/audit", self.page("admin")(self.audit), methods=["GET"]),
            *self.browse.routes(self.page),
        ]


PUBLIC = ("/login", "/healthz")


def create_app(
    sessions: sessionmaker[Session],
    web: Web,
    secret_key: str,
    failing_after: int = 3,
    warc_dir: Path | None = None,
    *,
    timezone: str = "UTC",
    seed_folders: Sequence[Path] = (),
    archive_dir: Path | None = None,
    template_threshold: float = 0.5,
) -> Any:
    """The ASGI app: the routes inside the security-headers middleware. ``warc_dir`` is where
    the WARC files the database refers to are (``None``: no downloads); ``timezone`` is the
    digest's (its weeks), ``seed_folders`` the configured seeds, ``archive_dir`` the digests',
    ``template_threshold`` the seed families' (candidates they cover are not proposed)."""
    workspace = Workspace(
        sessions,
        web,
        secret_key,
        failing_after,
        warc_dir,
        timezone=timezone,
        seed_folders=seed_folders,
        archive_dir=archive_dir,
        template_threshold=template_threshold,
    )
    app = Starlette(routes=workspace.routes())
    app.state.workspace = workspace
    return SecurityHeaders(app)
