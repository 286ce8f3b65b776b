"""A small static-site server for the demo and the tests, one site per port on loopback.

Files are read from disk on every request, so a test can change a site between two crawls. In text
files the placeholder ``__BASE_URL__`` becomes the site's own base URL. Responses carry an ``ETag``
(a hash of the served bytes) and ``Last-Modified`` (the file's mtime) and honour ``If-None-Match`` and
``If-Modified-Since`` with 304, like a well-behaved web server.

Run as ``python -m crawler.demo.server ROOT [ROOT...]``: it prints ``name url`` per site, then
``ready``, and serves until killed.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

SITES_DIR = Path(__file__).resolve().parent / "sites"
PLACEHOLDER = b"__BASE_URL__"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css",
    ".json": "application/json",
    ".gz": "application/gzip",
}
TEXT_SUFFIXES = {".html", ".htm", ".xml", ".rss", ".atom", ".txt"}


class SiteHandler(BaseHTTPRequestHandler):
    root: ClassVar[Path]
    base_url: ClassVar[str]
    access_log: ClassVar[list[str]]
    server_version = "claimwatch-demo/1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def resolve(self, path: str) -> Path | None:
        rel = unquote(urlsplit(path).path).lstrip("/")
        target = (self.root / rel).resolve()
        if not target.is_relative_to(self.root):
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def body_for(self, target: Path) -> bytes:
        data = target.read_bytes()
        if target.suffix in TEXT_SUFFIXES:
            data = data.replace(PLACEHOLDER, self.base_url.encode())
        return data

    def send(self, status: int, body: bytes, headers: dict[str, str], head: bool = False) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)

    def serve(self, head: bool = False) -> None:
        self.access_log.append(urlsplit(self.path).path)
        target = self.resolve(self.path)
        if target is None:
            page = self.root / "404.html"
            body = self.body_for(page) if page.is_file() else b"<h1>Not found</h1>"
            self.send(404, body, {"Content-Type": "text/html; charset=utf-8"}, head)
            return
        body = self.body_for(target)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        mtime = int(target.stat().st_mtime)
        headers = {
            "Content-Type": CONTENT_TYPES.get(target.suffix, "application/octet-stream"),
            "ETag": etag,
            "Last-Modified": formatdate(mtime, usegmt=True),
        }
        if self.not_modified(etag, mtime):
            self.send(HTTPStatus.NOT_MODIFIED, b"", headers, head)
            return
        self.send(200, body, headers, head)

    def not_modified(self, etag: str, mtime: int) -> bool:
        match = self.headers.get("If-None-Match")
        if match is not None:
            return etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*"
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return mtime <= int(parsedate_to_datetime(since).timestamp())
            except (TypeError, ValueError):
                return False
        return False

    def do_GET(self) -> None:
        self.serve()

    def do_HEAD(self) -> None:
        self.serve(head=True)


class SiteServer:
    """One site on ``host`` with an ephemeral port, served from a thread."""

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        handler: type[SiteHandler] = SiteHandler,
    ) -> None:
        self.root = root.resolve()
        self.access_log: list[str] = []
        self.handler = self._handler(handler)
        self.httpd = ThreadingHTTPServer((host, port), self.handler)
        self.httpd.daemon_threads = True
        self.handler.base_url = self.url
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _handler(self, base: type[SiteHandler]) -> type[SiteHandler]:
        server = self

        class Handler(base):  # type: ignore[valid-type,misc]
            root = server.root
            access_log = server.access_log

        return Handler

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}"

    def start(self) -> SiteServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def demo_site_roots(sites_dir: Path = SITES_DIR) -> list[Path]:
    return sorted(p for p in sites_dir.iterdir() if p.is_dir() and not p.name.startswith("_"))


@contextmanager
def serving(
    roots: list[Path], factory: Callable[[Path], SiteServer] = SiteServer
) -> Iterator[dict[str, SiteServer]]:
    """Serve each root on its own port for the duration of the ``with`` block."""
    servers = {root.name: factory(root).start() for root in roots}
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "roots", nargs="*", type=Path, help="site folders (default: the demo sites)"
    )
    args = parser.parse_args(argv)
    roots = args.roots or demo_site_roots()
    with serving(roots) as servers:
        for name, server in servers.items():
            print(name, server.url, flush=True)
        print("ready", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
