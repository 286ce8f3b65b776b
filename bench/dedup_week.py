"""A synthetic week of stored articles for the discovery benchmark (``bench/dedup_discovery.py
--week N``): text written for this benchmark, generated from word lists and sentence frames.

The mix, by share of the articles:

* ordinary pages (78%): news, guides and shop pages on about 2,000 sites, each a topic (a substance
  and a condition from the lists) and 4 to 12 paragraphs of sentences drawn from a few thousand
  word combinations; a third carry headings, a fifth a list near the top that the headings do not
  repeat (key points, product features);
* template families (15%): 25 frames, each with its own stock sentences, a fixed shape (prose
  blocks before a list, the list's size, echoed as headings or not) and 3 to 40 sites; every
  article fills the frame with its own topic and its own filler sentences, the way one prompt is
  filled with many keywords;
* syndicated stories (4%): one story rewritten by several outlets, the same quotations, no list;
* reposts (3%): an ordinary page copied to another site with a few words changed.

Deterministic for a seed. The planted family of each article is returned, so the benchmark can tell
whether a candidate mixes families or unrelated pages.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.document import Block, Document

FAMILIES = 25
CONTENT_ZIPF = 0.9
SUBSTANCES = """ashwagandha turmeric ginger chamomile peppermint valerian elderberry echinacea
ginseng rhodiola kratom kava melatonin magnesium zinc iron selenium collagen probiotics spirulina
chlorella moringa maca saffron garlic cinnamon fenugreek berberine quercetin resveratrol curcumin
glucosamine chondroitin biotin folate lutein ginkgo hawthorn nettle dandelion burdock licorice
fennel lavender rosemary sage thyme oregano basil hibiscus rooibos matcha cacao reishi chaga
lions-mane cordyceps shiitake psyllium inulin fish-oil krill-oil evening-primrose flaxseed chia
hemp cbd blue-lotus damiana tribulus tongkat horny-goat-weed yohimbe black-cohosh red-clover
dong-quai vitex milk-thistle artichoke beetroot nitrate creatine taurine carnitine coq10 nad
""".split()
CONDITIONS = """sleep stress anxiety focus memory energy fatigue digestion bloating heartburn
immunity colds flu inflammation joints arthritis back-pain headaches migraines skin acne eczema
hair nails weight appetite blood-sugar cholesterol blood-pressure circulation heart liver kidneys
thyroid hormones menopause fertility libido mood motivation recovery endurance muscle bones
allergies sinuses breathing cravings withdrawal hangovers nausea travel-sickness ageing
""".split()
NOUNS = """market study trial council report season shop garden kitchen family doctor nurse
pharmacist farmer grower label bottle capsule powder tea tincture extract dose routine habit
morning evening week month year region village city harbour river road school library clinic
hospital survey panel review brand company founder customer reader neighbour group club team
coach athlete runner walker cyclist recipe jar spoon cup leaf root flower seed bark berry
""".split()
VERBS = """found reported noted described tested measured compared sold bought grew picked
dried ground mixed brewed stored shipped labelled promoted recommended questioned doubted
praised reviewed checked counted asked answered published shared posted explained warned
""".split()
ADJECTIVES = """local small large recent early late careful cautious popular common rare new
old fresh dried bitter sweet mild strong cheap costly useful modest busy quiet bright dark
simple clear honest vague curious patient steady gentle rough
""".split()
COLLOCATIONS = [
    "according to a recent survey",
    "at the end of the day",
    "for the first time in years",
    "on the other hand",
    "in the long run",
    "as a matter of fact",
    "it is worth noting that",
    "more than ever before",
    "in the weeks that followed",
    "for most people most of the time",
    "a growing number of people",
    "there is no doubt that",
    "in the middle of the night",
    "sooner or later",
    "at the same time",
    "by the end of the year",
]
STOP = """the of and to a in is that it for on as with was by this be are from at or an
not but have has which they their you we can its more one all will also been about were if
than so into there these some only when what other such many most may could would our""".split()
SYLLABLES = """ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne
ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu za ze zi
zo zu an en in on ar er ir or al el il ol""".split()


def _zipf(n: int, s: float) -> npt.NDArray[np.float64]:
    """The cumulative distribution of ranks 1..n with weights 1/rank**s."""
    weights = 1 / np.arange(1, n + 1, dtype=np.float64) ** s
    cdf: npt.NDArray[np.float64] = np.cumsum(weights) / weights.sum()
    return cdf


@dataclass(frozen=True)
class Variant:
    """How a week is drawn: the content words' Zipf exponent, the common phrases' one, how many
    template families there are, their share of the articles and how many sites each may have."""

    content_zipf: float = CONTENT_ZIPF
    phrase_zipf: float = 1.0
    families: int = FAMILIES
    family_share: float = 0.15
    family_sites: tuple[int, ...] = (3, 5, 8, 15, 40)


VARIANTS = {
    "a": Variant(),
    # a second week to check the first is not what the rules were tuned on: steeper content
    # words (more chance 4-grams), flatter common phrases (more of them in use), more and
    # smaller families, a smaller share of templated pages, two-site families
    "b": Variant(
        content_zipf=1.0,
        phrase_zipf=0.8,
        families=40,
        family_share=0.08,
        family_sites=(2, 3, 4, 6, 10, 25),
    ),
}


class Words:
    """A Zipfian vocabulary: the word lists above and about 8,000 made-up words, with function
    words between them, drawn with numpy (fast enough for 100,000 articles)."""

    def __init__(self, seed: int, variant: Variant = VARIANTS["a"]) -> None:
        made = np.random.default_rng(seed)
        syllables = np.array(SYLLABLES)
        invented = {
            "".join(made.choice(syllables, size=int(made.integers(2, 5)))) for _ in range(9_000)
        }
        content = NOUNS + VERBS + ADJECTIVES + sorted(invented - set(STOP))
        made.shuffle(content)
        self.content = np.array(content, dtype=object)
        # flatter than English's 1.0 for content words: with an exponent near 1, 4-grams of a
        # made-up vocabulary's top words recur by chance far more often than English 4-grams do
        self.c_content = _zipf(len(content), variant.content_zipf)
        self.stop = np.array(STOP, dtype=object)
        self.c_stop = _zipf(len(STOP), 1.0)
        # common phrases: the real ones above, and 600 made of the vocabulary's frequent words
        top = content[:2000]
        made_up = [" ".join(made.choice(top, size=4)) for _ in range(600)]
        self.phrases = np.array(COLLOCATIONS + made_up, dtype=object)
        self.c_phrases = _zipf(len(self.phrases), variant.phrase_zipf)
        self.rng = np.random.default_rng(seed + 1)

    def _draw(self, cdf: npt.NDArray[np.float64], n: int) -> npt.NDArray[np.intp]:
        return np.minimum(np.searchsorted(cdf, self.rng.random(n)), len(cdf) - 1)

    def sentences(self, count: int, sub: str, cond: str) -> list[str]:
        lengths = self.rng.integers(8, 24, size=count)
        total = int(lengths.sum())
        words = np.where(
            self.rng.random(total) < 0.42,
            self.stop[self._draw(self.c_stop, total)],
            self.content[self._draw(self.c_content, total)],
        )
        roll = self.rng.random(total)
        words[roll < 0.05] = cond
        words[roll < 0.03] = sub
        listed = words.tolist()
        phrases = self.phrases[self._draw(self.c_phrases, count)].tolist()
        insert = (self.rng.random(count) < 0.1).tolist()
        out, at = [], 0
        for k, n in enumerate(lengths.tolist()):
            part = listed[at : at + n]
            at += n
            if insert[k]:
                part.insert(n // 2, phrases[k])
            text = " ".join(part)
            out.append(text[:1].upper() + text[1:] + ".")
        return out

    def paragraph(self, sub: str, cond: str, count: int) -> str:
        return " ".join(self.sentences(count, sub, cond))

    def line(self, n: int) -> str:
        words = self.content[self._draw(self.c_content, n)].tolist()
        return " ".join(words).capitalize()


def _topic(rng: random.Random) -> tuple[str, str]:
    return rng.choice(SUBSTANCES).replace("-", " "), rng.choice(CONDITIONS).replace("-", " ")


@dataclass(frozen=True)
class Frame:
    """A template family: its stock sentences, shape and sites."""

    name: str
    opening: int  # prose blocks before the list
    echoed: bool  # the list comes back as the headings
    stock: tuple[str, ...]  # stock sentences; SUB and COND are the topic's slots
    heads: tuple[str, ...]  # heading frames; SUB is the slot
    sites: tuple[str, ...]


def _frames(
    rng: random.Random, words: Words, count: int, site_counts: tuple[int, ...]
) -> list[Frame]:
    frames = []
    for n in range(count):
        stock = tuple(words.sentences(10, "SUB", "COND"))
        heads = tuple(
            f"{rng.choice(['How', 'Why', 'When', 'Where', 'Who', 'Is'])} {words.line(2)} SUB"
            for _ in range(rng.randrange(3, 8))
        )
        sites = tuple(f"farm{n}-{s}.example" for s in range(rng.choice(site_counts)))
        opening = rng.randrange(0, 4)
        frames.append(Frame(f"family-{n}", opening, rng.random() < 0.7, stock, heads, sites))
    return frames


def _templated(rng: random.Random, words: Words, frame: Frame) -> list[Block]:
    sub, cond = _topic(rng)
    title = sub.title()
    heads = [h.replace("SUB", title) for h in frame.heads]
    stock = [s.replace("SUB", sub).replace("COND", cond) for s in frame.stock]
    blocks = [
        Block("paragraph", stock[i] + " " + words.paragraph(sub, cond, 2))
        for i in range(frame.opening)
    ]
    if frame.echoed:
        blocks += [Block("list_item", h) for h in heads]
    else:
        blocks += [Block("list_item", words.line(5) + " " + sub) for _ in heads]
    for i, heading in enumerate(heads):
        blocks.append(Block("heading", heading))
        filler = words.paragraph(sub, cond, rng.randrange(2, 6))
        blocks.append(Block("paragraph", stock[frame.opening + i] + " " + filler))
    return blocks


def _ordinary(rng: random.Random, words: Words) -> list[Block]:
    sub, cond = _topic(rng)
    blocks = [Block("paragraph", words.paragraph(sub, cond, rng.randrange(2, 4)))]
    if rng.random() < 0.2:
        blocks += [
            Block("list_item", words.line(rng.randrange(3, 8))) for _ in range(rng.randrange(3, 6))
        ]
    headed = rng.random() < 0.33
    for _ in range(rng.randrange(4, 12)):
        if headed and rng.random() < 0.4:
            blocks.append(Block("heading", words.line(rng.randrange(2, 7))))
        blocks.append(Block("paragraph", words.paragraph(sub, cond, rng.randrange(2, 6))))
    return blocks


def _respin(rng: random.Random, words: Words, blocks: list[Block], rate: float) -> list[Block]:
    out = []
    for block in blocks:
        tokens = block.text.split()
        for i in range(len(tokens)):
            if rng.random() < rate:
                tokens[i] = words.line(1).lower()
        out.append(Block(block.kind, " ".join(tokens)))
    return out


def week(n: int, seed: int = 7, variant: str = "a") -> Iterator[tuple[str, Document, str | None]]:
    """``n`` articles: (URL, document, the planted family or None), drawn as :data:`VARIANTS`
    says (``a``: the week the figures of 2026-12-01 were first measured on)."""
    mix = VARIANTS[variant]
    rng = random.Random(seed)
    words = Words(seed, mix)
    frames = _frames(rng, words, mix.families, mix.family_sites)
    share = mix.family_share
    weights = [len(f.sites) for f in frames]
    sites = [f"site{i}.example" for i in range(2000)]
    recent: list[list[Block]] = []
    stories: list[tuple[list[Block], list[str]]] = []
    for i in range(n):
        roll = rng.random()
        family: str | None = None
        if roll < share:
            frame = rng.choices(frames, weights)[0]
            blocks, family = _templated(rng, words, frame), frame.name
            site = rng.choice(frame.sites)
        elif roll < share + 0.04:
            if not stories or rng.random() < 0.2:
                sub, cond = _topic(rng)
                quotes = [f"“{words.paragraph(sub, cond, 2)}”" for _ in range(3)]
                stories.append((_ordinary(rng, words), quotes))
            base, quotes = rng.choice(stories[-50:])
            body = [b for b in base if b.kind == "paragraph"]
            blocks = _respin(rng, words, body, 0.6)
            blocks = [*blocks[:2], *(Block("paragraph", q) for q in quotes), *blocks[2:]]
            site = rng.choice(sites)
        elif roll < share + 0.07 and recent:
            blocks, site = _respin(rng, words, rng.choice(recent), 0.05), rng.choice(sites)
        else:
            blocks, site = _ordinary(rng, words), rng.choice(sites)
            recent = [*recent[-200:], blocks]
        url = f"https://{site}/posts/{i}"
        yield url, Document(blocks=tuple(blocks), url=url), family
