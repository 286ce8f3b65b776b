"""A local test web server, run in a subprocess by the fixtures (``python -m tests.mockserver ROOT``).

It serves a site folder like the demo server (ETag, Last-Modified, 304s, ``__BASE_URL__``) and adds
hostile endpoints under ``/hostile/``: oversized pages, gzip and deflate bombs, a page that never
ends, a connection reset mid-page, a redirect to a non-public address, mis-encoded and malformed
pages, binary junk, server errors and 429s with Retry-After. Every request path is appended to
``ROOT/../access.log`` so tests can see exactly what the crawler fetched.
"""

from __future__ import annotations

import functools
import gzip
import io
import socket
import struct
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from crawler.demo.server import SiteHandler, SiteServer

MIB = 1024 * 1024
_BOMB = gzip.compress(b"<html><body><p>" + b"A" * (64 * MIB) + b"</p></body></html>", 9)
_LOCK = threading.Lock()


@functools.cache
def _deflate_bomb() -> bytes:  # made on first use: most tests never ask for it
    return zlib.compress(b"<html><body><p>" + b"B" * (64 * MIB) + b"</p></body></html>", 9)


def _article(title: str, body: str) -> str:
    paragraph = "".join(f"<p>Part {n}. {body}</p>" for n in range(1, 5))
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{paragraph}</article></body></html>"


class HostileHandler(SiteHandler):
    delay = 0.0  # seconds before each answer (for tests that kill a crawl half-way)

    def serve(self, head: bool = False) -> None:
        path = urlsplit(self.path).path
        if self.delay:
            time.sleep(self.delay)
        with _LOCK, (self.root.parent / "access.log").open("a") as log:
            log.write(path + "\n")
        route = getattr(
            self,
            "route_" + path.removeprefix("/hostile/").replace(".html", "").replace("-", "_"),
            None,
        )
        if path.startswith("/hostile/") and route is not None:
            route()
            return
        super().serve(head)

    def raw(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def route_huge(self) -> None:  # 11 MiB, announced by Content-Length
        self.raw(
            200,
            b"<html><body><p>" + b"x" * (11 * MIB) + b"</p></body></html>",
            {"Content-Type": "text/html"},
        )

    def route_huge_chunked(self) -> None:  # 11 MiB, no Content-Length: the limit hits mid-stream
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"<p>" + b"y" * 65536 + b"</p>"
        try:
            for _ in range(11 * MIB // len(chunk) + 2):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def route_bomb(self) -> None:  # 64 KiB on the wire, 64 MiB inflated
        self.raw(200, _BOMB, {"Content-Type": "text/html", "Content-Encoding": "gzip"})

    def route_redirect_private(self) -> None:
        port = self.server.server_address[1]
        self.raw(302, b"", {"Location": f"http://127.0.0.2:{port}/articles/alpha.html"})

    def route_latin1(self) -> None:
        text = _article(
            "Café crème über alles",
            "Le café crème est très apprécié à Zürich; über die Qualität lässt sich streiten. "
            "Ceci est un paragraphe assez long pour être retenu comme texte d’article, « avec des "
            "guillemets » et des accents: é, è, à, ç, ü, ö.",
        ).replace("<head>", '<head><meta charset="windows-1252">')
        self.raw(200, text.encode("cp1252"), {"Content-Type": "text/html"})

    def route_undeclared(self) -> None:  # windows-1252 bytes, no charset anywhere
        text = _article(
            "Crème fraîche and herbal tea",
            "Crème fraîche and crème de la crème, a café in the old town. The crème recipe: mix "
            "crème and sugar, then serve it with a cup of herbal tea after a long walk outside.",
        )
        self.raw(200, text.encode("cp1252"), {"Content-Type": "text/html"})

    def route_misdeclared(self) -> None:  # says UTF-8, is Latin-1
        text = _article(
            "Mis-declared page", "Déjà vu: the server claims UTF-8 but sends Latin-1 bytes. " * 3
        )
        self.raw(200, text.encode("latin-1"), {"Content-Type": "text/html; charset=utf-8"})

    def route_malformed(self) -> None:
        body = (
            "<html><head><title>Broken markup</title><body><div><article>"
            + "".join(
                f"<p>Unclosed paragraph {n} about herbal tea and its long history in many cultures, "
                f"told at some length <p>Another paragraph <b><i>with crossed</b></i> tags and a stray "
                f"</div></span> closing run, then more prose about brewing times, water temperature "
                f"and cups, part {n}. <li>orphan item <tr>orphan row"
                for n in range(1, 5)
            )
            + "<table><tr><td>cell <!-- unterminated comment"
        )
        self.raw(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def route_binary(self) -> None:
        self.raw(200, bytes(range(256)) * 64, {"Content-Type": "text/html"})

    busy_answers: ClassVar[dict[str, int]] = {}  # path -> answers given

    def route_busy_long(self) -> None:  # come back in an hour
        self.raw(429, b"slow down", {"Retry-After": "3600", "Content-Type": "text/plain"})

    def route_busy_short(self) -> None:  # come back in a second, then the page is there
        seen = HostileHandler.busy_answers.get("short", 0)
        HostileHandler.busy_answers["short"] = seen + 1
        if not seen:
            self.raw(429, b"slow down", {"Retry-After": "1", "Content-Type": "text/plain"})
            return
        page = _article(
            "Patience rewarded", "A server that asked for a second and then answered in full. " * 3
        )
        self.raw(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def route_deflate_bomb(self) -> None:  # 64 KiB on the wire, 64 MiB inflated (zlib)
        self.raw(200, _deflate_bomb(), {"Content-Type": "text/html", "Content-Encoding": "deflate"})

    def route_endless(self) -> None:  # a page that never ends: a few bytes every 0.2 s, forever
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        try:
            self.wfile.write(b"<html><body><p>")
            while True:
                self.wfile.write(b"more ")
                self.wfile.flush()
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def route_reset(self) -> None:  # half a page, then the connection is reset (TCP RST)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"<html><body><p>" + b"half a page " * 100)
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.wfile = io.BytesIO()  # nothing left to flush on the closed socket
        self.close_connection = True

    def route_error(self) -> None:
        self.raw(500, b"<h1>Internal Server Error</h1>", {"Content-Type": "text/html"})


def main() -> None:
    root = Path(sys.argv[1])
    HostileHandler.delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    server = SiteServer(root, handler=HostileHandler).start()
    print(server.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
