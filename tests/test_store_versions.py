"""Every version of an article kept in the store's one transaction, and each fetch's WARC records
(written with warcio, read back with warcio) recorded against its version."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select
from warcio.archiveiterator import ArchiveIterator

from core.db import session_factory
from core.document import from_text
from core.models import Article, ArticleVersion, WarcRecord
from pipeline.claims import default_rules
from pipeline.claims.article import score_document
from pipeline.items import PageItem
from pipeline.runs import SourceSpec, open_runs
from pipeline.store import run_ids, store_batch
from pipeline.warc import WarcArchive, is_warc_name, payload_of, read_records

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
V1 = (
    "Turmeric and joints\n"
    "Turmeric cures arthritis for good, say the makers of this blend.\n"
    "It also reverses diabetes without insulin in a few weeks."
)
V2 = (
    "Turmeric and joints\n"
    "Turmeric cures arthritis for good, say the makers of this blend.\n"
    "Ask your doctor before you change any medicine."
)


def item(text: str, when: datetime = T0) -> PageItem:
    url = "https://farm.example.org/turmeric"
    body = "<html><body>" + "".join(f"<p>{t}</p>" for t in text.split("\n")) + "</body></html>"
    page = PageItem(
        source="farm",
        run_group="g1",
        url=url,
        request_url=url,
        status=200,
        fetched_at=when,
        body=body.encode(),
        html=body,
        protocol="HTTP/1.1",
        request_headers=(("User-Agent", "claimwatch-test"), ("Accept-Encoding", "gzip")),
        response_headers=(
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Encoding", "gzip"),
            ("Content-Length", "99"),
        ),
    )
    page.document = from_text(text, url=url)
    page.score = score_document(page.document, default_rules())
    return page


@pytest.fixture
def ids(engine: Engine) -> dict[str, tuple[int | None, int | None]]:
    with session_factory(engine)() as session:
        open_runs(
            session, [SourceSpec("farm", "sitemap", ["https://farm.example.org/"])], "g1", None
        )
    with session_factory(engine)() as session:
        return run_ids(session, "g1")


def test_changed_text_adds_a_version_unchanged_text_none(engine: Engine, ids: dict) -> None:
    sessions = session_factory(engine)
    first = item(V1)
    assert len(first.score.claims) >= 2  # type: ignore[union-attr]
    for when, text in ((T0, V1), (T0 + timedelta(days=1), V1), (T0 + timedelta(days=2), V2)):
        with sessions() as session:
            store_batch(session, [item(text, when)], ids)
    with sessions() as session:
        article = session.scalars(select(Article)).one()
        versions = session.scalars(select(ArticleVersion).order_by(ArticleVersion.version)).all()
        assert [v.version for v in versions] == [1, 2] and article.version == 2
        old, new = versions
        assert old.text == V1 and new.text == V2
        assert old.fetched_at == T0 and new.fetched_at == T0 + timedelta(days=2)
        assert old.text_sha256 != new.text_sha256 == article.text_sha256
        assert old.rules_sha256 == article.rules_sha256 and old.rules_sha256
        sentences = [c["sentence"] for c in old.claims]
        assert any("reverses diabetes" in s for s in sentences)
        assert not any("reverses diabetes" in s for s in (c["sentence"] for c in new.claims))
        assert [c.sentence for c in article.claims] == [c["sentence"] for c in new.claims]


def test_an_article_stored_before_versions_keeps_its_old_text(engine: Engine, ids: dict) -> None:
    sessions = session_factory(engine)
    with sessions() as session:
        store_batch(session, [item(V1)], ids)
    with sessions() as session:  # as if stored before migration 0010
        session.execute(delete(ArticleVersion))
        session.commit()
    with sessions() as session:
        store_batch(session, [item(V2, T0 + timedelta(days=1))], ids)
    with sessions() as session:
        versions = session.scalars(select(ArticleVersion).order_by(ArticleVersion.version)).all()
        assert [(v.version, v.text) for v in versions] == [(1, V1), (2, V2)]
        assert any("reverses diabetes" in c["sentence"] for c in versions[0].claims)


def test_a_failing_batch_keeps_no_version(engine: Engine, ids: dict) -> None:
    sessions = session_factory(engine)
    with sessions() as session:
        store_batch(session, [item(V1)], ids)
    broken = item("Another article.")
    broken.body = None  # type: ignore[assignment]
    with sessions() as session, pytest.raises(TypeError):
        store_batch(session, [item(V2, T0 + timedelta(days=1)), broken], ids)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ArticleVersion)) == 1
        assert session.scalars(select(Article)).one().version == 1


def test_warc_records_read_back_and_match_the_database(
    engine: Engine, ids: dict, tmp_path: Path
) -> None:
    sessions = session_factory(engine)
    folder = tmp_path / "warc"
    archive = WarcArchive(folder, max_bytes=2048)  # small: every fetch or two opens a new file
    fetches = [item(V1), item(V1, T0 + timedelta(days=1)), item(V2, T0 + timedelta(days=2))]
    for fetch in fetches:
        refs = archive.write_all([fetch])
        with sessions() as session:
            store_batch(session, [fetch], ids, warc=refs)
    archive.close()
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) >= 2 and all(is_warc_name(n) and n.endswith(".warc.gz") for n in files)
    with sessions() as session:
        rows = session.scalars(select(WarcRecord).order_by(WarcRecord.id)).all()
    assert [r.version for r in rows] == [1, 1, 2]
    for row, fetch in zip(rows, fetches, strict=True):
        assert row.payload_sha256 == hashlib.sha256(fetch.body).hexdigest()
        data = read_records(folder, row.warc_file, row.warc_offset, row.warc_length)
        records = list(ArchiveIterator(io.BytesIO(data)))
        assert [r.rec_type for r in records] == ["response", "request"]
        assert payload_of(data) == fetch.body
        assert hashlib.sha256(payload_of(data)).hexdigest() == row.payload_sha256
        # the whole file reads with warcio too, the fetch at the recorded offset
        with open(folder / row.warc_file, "rb") as stream:
            iterator = ArchiveIterator(stream)
            found = {}
            for record in iterator:
                if record.rec_type == "response":
                    found[iterator.get_record_offset()] = record.content_stream().read()
        assert found[row.warc_offset] == fetch.body
    response, request = list(
        ArchiveIterator(
            io.BytesIO(
                read_records(folder, rows[0].warc_file, rows[0].warc_offset, rows[0].warc_length)
            )
        )
    )
    assert response.rec_headers.get_header("WARC-Target-URI") == fetches[0].url
    assert response.rec_headers.get_header("WARC-Date").startswith("2026-11-16T09:00:00")
    assert response.http_headers.get_statuscode() == "200"
    assert response.http_headers.get_header("Content-Encoding") is None  # the body is decoded
    assert response.http_headers.get_header("Content-Length") == str(len(fetches[0].body))
    assert response.http_headers.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert request.rec_headers.get_header("WARC-Concurrent-To") == response.rec_headers.get_header(
        "WARC-Record-ID"
    )
    assert request.http_headers.protocol == "GET"
    assert request.http_headers.get_header("User-Agent") == "claimwatch-test"


def test_warc_names_outside_the_archive_are_refused(tmp_path: Path) -> None:
    for name in ("../x.warc.gz", "claimwatch-a/../../etc.warc.gz", "other.warc.gz", "/etc/passwd"):
        assert not is_warc_name(name)
        with pytest.raises(ValueError, match="not a WARC file name"):
            read_records(tmp_path, name, 0, 10)
    with pytest.raises(ValueError, match="max_bytes must be at least 1024"):
        WarcArchive(tmp_path, max_bytes=10)
