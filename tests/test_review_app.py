"""The review workspace over HTTP (Starlette's TestClient): access, sessions, CSRF, roles, pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from starlette.routing import Route
from starlette.testclient import TestClient

from core.config import Web
from core.db import make_engine, upgrade
from core.models import ArticleReview, AuditEntry, ClaimDecision
from review.app import PUBLIC, create_app
from tests.review_world import PASSWORD, SECRET, World, build


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'review.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def world(sqlite_engine: Engine) -> World:
    return build(sqlite_engine)


def app_for(world: World, **web: object):  # type: ignore[no-untyped-def]
    return create_app(world.sessions, Web(page_size=2, **web), SECRET)  # type: ignore[arg-type]


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(app_for(world), follow_redirects=False) as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in; return the session's CSRF token (from the queue page)."""
    page = client.get("/login")
    response = client.post(
        "/login", data={"name": name, "password": password, "csrf": csrf_of(page.text)}
    )
    assert response.status_code == 303, response.text
    queue = client.get("/")
    assert queue.status_code == 200
    return csrf_of(queue.text)


def routes(world: World) -> list[Route]:
    app = app_for(world).app
    return [r for r in app.routes if isinstance(r, Route)]


def concrete(path: str, world: World) -> str:
    return path.replace("{article_id:int}", str(world.articles["turmeric"])).replace(
        "{claim_id:int}", str(world.claims["turmeric"][0])
    )


def test_every_route_without_a_session_redirects_to_login(client: TestClient, world: World) -> None:
    checked = 0
    for route in routes(world):
        if route.path in PUBLIC:
            continue
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            response = client.request(method, concrete(route.path, world))
            assert response.status_code == 303, (method, route.path)
            assert response.headers["location"].startswith("/login?next="), route.path
            checked += 1
    assert checked >= 7
    assert client.get("/healthz").text == "ok"
    assert client.get("/login").status_code == 200


def test_a_forged_or_expired_cookie_is_no_session(client: TestClient, world: World) -> None:
    client.cookies.set("claimwatch_session", "eyJ1aWQiOjF9.forged.sig")
    assert client.get("/").status_code == 303
    expired = create_app(world.sessions, Web(session_max_age_s=60), SECRET)
    with TestClient(expired, follow_redirects=False) as other:
        login(other, "rita")
        workspace = expired.app.state.workspace
        cookie = other.cookies["claimwatch_session"]
        assert workspace.sessions.read(cookie) is not None
        workspace.sessions.max_age_s = -1  # as if a minute had passed
        assert other.get("/").status_code == 303


def test_every_page_has_the_csp_and_security_headers(client: TestClient, world: World) -> None:
    responses = [client.get("/login"), client.get("/healthz"), client.get("/")]
    login(client, "adam")
    article = world.articles["turmeric"]
    responses += [client.get(p) for p in ("/", f"/articles/{article}", "/sources", "/audit")]
    responses.append(client.get("/nowhere"))
    for response in responses:
        policy = response.headers["content-security-policy"]
        assert "script-src 'none'" in policy and "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"


def test_cookie_flags(world: World) -> None:
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        with TestClient(app_for(world), base_url=base, follow_redirects=False) as client:
            page = client.get("/login")
            response = client.post(
                "/login", data={"name": "rita", "password": PASSWORD, "csrf": csrf_of(page.text)}
            )
            cookies = response.headers.get_list("set-cookie")
            session = next(c for c in cookies if c.startswith("claimwatch_session="))
            flags = session.lower()
            assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
            assert f"max-age={Web().session_max_age_s}" in flags
            assert ("; secure" in flags) is secure


def test_post_without_valid_csrf_is_refused(client: TestClient, world: World) -> None:
    csrf = login(client, "rita")
    article = world.articles["turmeric"]
    for token in (None, "", "x" * 43, csrf[:-1] + ("A" if csrf[-1] != "A" else "B")):
        data = {"status": "dismissed"}
        if token is not None:
            data["csrf"] = token
        response = client.post(f"/articles/{article}/review", data=data)
        assert response.status_code == 403
    with world.sessions() as session:
        assert session.get(ArticleReview, article) is None
    # the login form has its own token
    assert client.post("/login", data={"name": "rita", "password": PASSWORD}).status_code == 403


def test_a_viewer_cannot_decide(client: TestClient, world: World) -> None:
    csrf = login(client, "vera")
    article, claim = world.articles["turmeric"], world.claims["turmeric"][0]
    page = client.get(f"/articles/{article}")
    assert page.status_code == 200 and 'class="decision"' not in page.text
    assert (
        client.post(f"/articles/{article}/review", data={"csrf": csrf, "status": "dismissed"})
    ).status_code == 403
    assert (
        client.post(
            f"/claims/{claim}/decision",
            data={"csrf": csrf, "verdict": "false_positive", "reason": "x"},
        )
    ).status_code == 403
    assert client.get("/audit").status_code == 403  # admin only
    with world.sessions() as session:
        assert session.scalars(select(ClaimDecision)).all() == []
        assert session.scalars(select(AuditEntry)).all() == []


def test_login_is_throttled_after_failures(client: TestClient) -> None:
    for _ in range(Web().login_attempts):
        page = client.get("/login")
        bad = client.post(
            "/login",
            data={"name": "rita", "password": "wrong-password", "csrf": csrf_of(page.text)},
        )
        assert bad.status_code == 401
    page = client.get("/login")
    right = client.post(
        "/login", data={"name": "rita", "password": PASSWORD, "csrf": csrf_of(page.text)}
    )
    assert right.status_code == 429
    assert "claimwatch_session" not in right.headers.get("set-cookie", "")


def test_login_goes_back_only_to_a_local_path(client: TestClient) -> None:
    page = client.get("/login?next=//evil.example/")
    assert 'name="next" value="/"' in page.text
    response = client.post(
        "/login",
        data={
            "name": "rita",
            "password": PASSWORD,
            "csrf": csrf_of(page.text),
            "next": "https://evil.example/",
        },
    )
    assert response.headers["location"] == "/"


def test_queue_ranks_filters_and_pages(client: TestClient, world: World) -> None:
    login(client, "rita")
    first = client.get("/").text
    assert first.index("Turmeric, the miracle") < first.index("pwned")  # priority before review
    assert "Ashwagandha" not in first and 'rel="next"' in first  # page size 2
    second = client.get("/?page=2").text
    assert "Ashwagandha" in second and 'rel="prev"' in second
    assert "Ashwagandha" in client.get("/?band=watch").text
    only = client.get("/?substance=kratom").text
    assert "3 flagged" not in only and "1 flagged article;" in only
    assert "1 flagged article;" in client.get("/?category=efficacy_certainty").text
    assert "1 flagged article;" in client.get("/?family=miracle-listicle").text
    assert "2 flagged articles;" in client.get("/?source=farm").text
    assert "1 flagged article;" in client.get("/?q=insulin").text
    assert "0 flagged articles;" in client.get("/?q=%25").text
    assert "3 flagged articles;" in client.get("/?assignee=-").text
    assert "3 flagged articles;" in client.get("/?status=new").text


def test_decisions_through_the_pages(client: TestClient, world: World) -> None:
    csrf = login(client, "rita")
    article, claim = world.articles["turmeric"], world.claims["turmeric"][0]
    response = client.post(
        f"/claims/{claim}/decision", data={"csrf": csrf, "verdict": "false_positive"}
    )
    assert response.status_code == 400  # a false positive needs a reason
    response = client.post(
        f"/claims/{claim}/decision",
        data={"csrf": csrf, "verdict": "false_positive", "reason": "a recipe, not a claim"},
    )
    assert response.status_code == 303
    response = client.post(
        f"/articles/{article}/review",
        data={"csrf": csrf, "status": "in_review", "assignee": "rita", "notes": "letter sent"},
    )
    assert response.status_code == 303
    page = client.get(f"/articles/{article}").text
    assert "false positive" in page and "a recipe, not a claim" in page
    assert '<strong id="status">in review</strong>' in page and "letter sent" in page
    assert "1 flagged article;" in client.get("/?assignee=rita&status=in_review").text
    bad = client.post(f"/articles/{article}/review", data={"csrf": csrf, "status": "gone"})
    assert bad.status_code == 400


def test_scraped_text_is_escaped(client: TestClient, world: World) -> None:
    login(client, "rita")
    for page in (client.get("/").text, client.get(f"/articles/{world.articles['kratom']}").text):
        assert "<script>document" not in page
        assert "<img src=x" not in page
        assert 'href="javascript:' not in page
        assert "&lt;script&gt;" in page
    article = client.get(f"/articles/{world.articles['kratom']}").text
    assert "<b onmouseover" not in article and "{{ 7*7 }}" in article
    assert "<mark" in article  # the claim is highlighted
