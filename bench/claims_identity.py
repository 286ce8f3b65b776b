"""Whether two versions of the claim scorer give the same outputs, to the bit.

``dump OUT`` scores the 181 AEB article bodies (``../shared/eval/aeb/ground-truth.json``, read in
place, as in ``claims_speed.py``), the bundled demo pages (``crawler/demo/sites``, extracted as
``claimwatch analyze`` extracts them) and the articles of ``../shared/eval/claims_dev.jsonl``
(rebuilt from their units, as training reads them) with the shipped rules and learned decision, and writes one
JSON line per document: the :class:`~pipeline.claims.scoring.ArticleScore` as stored (every claim,
its rounded confidence, its explanation features, the risk and the hashes) and the unrounded
confidence of every candidate sentence (``repr`` of the float). ``compare A B`` reports every
document whose claims (exactly, with their rounded confidences and explanations) or unrounded
confidences (to 1e-9) differ, how many lines are identical to the bit, and the largest confidence
difference; it exits non-zero on any difference. (Two runs of one commit already differ by about
1e-16: the page-voice head sums over a set of words, whose order follows the hash seed; set
``PYTHONHASHSEED`` to the same value for both dumps to compare bits.) Run ``dump`` at two commits (for instance a second worktree of the base commit) and
``compare`` the files::

    .venv/bin/python bench/claims_identity.py dump /tmp/new.jsonl
    (cd ../base && .venv/bin/python ../wt/bench/claims_identity.py dump /tmp/old.jsonl)
    .venv/bin/python bench/claims_identity.py compare /tmp/old.jsonl /tmp/new.jsonl

The script uses only APIs that predate the fast scoring path, so it runs unchanged at older
commits. The output holds scores and feature names, never text: it stays outside the project.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.document import Document, from_text  # noqa: E402
from pipeline.analysis import load_document  # noqa: E402
from pipeline.claims import DEFAULT_RULES_PATH, load_rules, score_document  # noqa: E402
from pipeline.claims.article import analyse_document  # noqa: E402
from pipeline.claims.learned import default_model  # noqa: E402
from pipeline.claims.units import by_article, read_units, rebuild  # noqa: E402

AEB = ROOT.parent / "shared" / "eval" / "aeb" / "ground-truth.json"
DEMO = ROOT / "crawler" / "demo" / "sites"
TOLERANCE = 1e-9  # float sums over sets follow the hash seed: runs differ by ~1e-16
DEV = ROOT.parent / "shared" / "eval" / "claims_dev.jsonl"


def documents() -> list[tuple[str, Document]]:
    data: dict[str, dict[str, Any]] = json.loads(AEB.read_text(encoding="utf-8"))
    docs = [
        (f"aeb:{key}", from_text(row["articleBody"] or "")) for key, row in sorted(data.items())
    ]
    for path in sorted(DEMO.rglob("*.html")):
        document, _ = load_document(str(path), path.read_bytes(), is_html=True)
        if document is not None:
            docs.append((f"demo:{path.relative_to(DEMO)}", document))
    for article, units in sorted(by_article(read_units(DEV)).items()):
        docs.append((f"dev:{article}", rebuild(units)[0]))
    return docs


def dump(out: Path) -> int:
    rules = load_rules(DEFAULT_RULES_PATH)
    model = default_model()
    with out.open("w", encoding="utf-8") as handle:
        for name, doc in documents():
            score = score_document(doc, rules, model).as_json()
            for claim in score["claims"]:
                claim.pop("sentence")  # offsets identify it; no text leaves the corpus
            confidences = [
                [r.unit.start, r.unit.end, repr(r.confidence)]
                for r in analyse_document(doc, rules, model)
                if r.confidence is not None
            ]
            line = {"doc": name, "score": score, "confidences": confidences}
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    return 0


def compare(old: Path, new: Path, tolerance: float = TOLERANCE) -> int:
    a = [json.loads(line) for line in old.read_text(encoding="utf-8").splitlines()]
    b = [json.loads(line) for line in new.read_text(encoding="utf-8").splitlines()]
    if [row["doc"] for row in a] != [row["doc"] for row in b]:
        print("different documents")
        return 1
    differ = bits = 0
    worst = 0.0
    claims = units = 0
    for one, two in zip(a, b, strict=True):
        claims += len(one["score"]["claims"])
        units += len(one["confidences"])
        bits += one == two
        spans = [x[:2] for x in one["confidences"]] == [y[:2] for y in two["confidences"]]
        gaps = [
            abs(float(x[2]) - float(y[2]))
            for x, y in zip(one["confidences"], two["confidences"], strict=False)
        ]
        worst = max([worst, *gaps])
        if one["score"] != two["score"] or not spans or any(gap > tolerance for gap in gaps):
            differ += 1
            print(f"differs: {one['doc']}")
    print(
        f"{len(a)} documents, {claims} claims, {units} candidate sentences: {differ} differ"
        f" (claims, confidences to {tolerance:g}, explanations); {bits} identical to the bit;"
        f" largest confidence difference {worst:.3g}"
    )
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("dump").add_argument("out", type=Path)
    both = sub.add_parser("compare")
    both.add_argument("old", type=Path)
    both.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    if args.command == "dump":
        return dump(args.out)
    return compare(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())
