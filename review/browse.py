"""The read-only pages beside the queue: template families, candidate families, the digest
archive and the archived files (see :mod:`review.families` and :mod:`review.digests`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from pipeline.dedup.template import Family, TemplateMatcher
from review.context import Ctx, Handler, error, page
from review.digests import archive, archived_file, media_type, page_csp
from review.families import candidate_families, families
from review.seeds import SeedFamilies

Guard = Callable[[str], Callable[[Handler], Callable[[Request], Awaitable[Response]]]]


class Browse:
    """The pages' settings: the digest's time zone, the seed folders, the archive folder, the
    template threshold (``dedup.template_threshold``)."""

    def __init__(
        self,
        timezone: str,
        seed_folders: Sequence[Path],
        archive_dir: Path | None,
        template_threshold: float = 0.5,
    ) -> None:
        self.timezone = timezone
        self.seeds = SeedFamilies(seed_folders)
        self.archive_dir = archive_dir
        self.template_threshold = template_threshold

    def matcher(self) -> TemplateMatcher | None:
        """The seed families as a matcher (``None`` when none could be read)."""
        seeds, _ = self.seeds.load()
        if not seeds:
            return None
        return TemplateMatcher(
            [Family.learn(name, members) for name, members in seeds.items()],
            self.template_threshold,
        )

    def families(self, request: Request, ctx: Ctx) -> Response:
        seeds, problem = self.seeds.load()
        return page(
            ctx, "families.html", "Families", families=families(ctx.db, seeds), problem=problem
        )

    def candidates(self, request: Request, ctx: Ctx) -> Response:
        looked_at, found = candidate_families(ctx.db, self.matcher())
        return page(
            ctx,
            "candidates.html",
            "Candidate families",
            looked_at=looked_at,
            candidates=found,
        )

    def digests(self, request: Request, ctx: Ctx) -> Response:
        found = archive(ctx.db, self.archive_dir, self.timezone)
        return page(ctx, "digests.html", "Digests", digests=found)

    def digest_file(self, request: Request, ctx: Ctx) -> Response:
        name = str(request.path_params["name"])
        if name == "index.html":  # the archive's own index: the digests page shows it and more
            return RedirectResponse("/digests", status_code=303)
        path = archived_file(self.archive_dir, name)
        if path is None:
            return error(ctx.user, ctx.csrf, 404, "Not found", "There is no such file.")
        if path.suffix == ".txt":
            return FileResponse(path, media_type=media_type(path))
        if path.suffix != ".html":
            download = {"content-disposition": f'attachment; filename="{path.name}"'}
            return FileResponse(path, media_type=media_type(path), headers=download)
        html = path.read_text(encoding="utf-8", errors="replace")
        return HTMLResponse(html, headers={"content-security-policy": page_csp(html)})

    def routes(self, guard: Guard) -> list[Route]:
        """The pages' routes, each behind ``guard`` (the workspace's login and role check)."""
        return [
            Route("/families", guard("viewer")(self.families), methods=["GET"]),
            Route("/families/candidates", guard("viewer")(self.candidates), methods=["GET"]),
            Route("/digests", guard("viewer")(self.digests), methods=["GET"]),
            Route("/digests/{name:path}", guard("viewer")(self.digest_file), methods=["GET"]),
        ]
