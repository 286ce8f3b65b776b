"""Texts written for the dedup tests: one article in the seeds' content-farm template (on a topic the
seeds never touch), its HTML page, and ordinary well-structured pages that must not match."""

from __future__ import annotations

# --- an article in the seed template: elderberry syrup for colds -------------------------------

ELDERBERRY_SUMMARY = (
    "Elderberry syrup has become a popular home remedy for the common cold, and many families keep"
    " a bottle in the kitchen cupboard from October to March. The dark purple berries contain"
    " anthocyanins and other plant compounds that may support the immune system, shorten the length"
    " of a cold and ease a sore throat. Understanding how elderberry works is crucial for parents"
    " and adults who want a natural option during the winter season."
)
ELDERBERRY_INTRO = (
    "“Every winter the same question comes back: is there a gentle, natural way to get through cold"
    " season with fewer sniffles? Elderberry, the fruit of the European elder tree, has gained"
    " attention as a traditional remedy that people have used for generations. In this article, we"
    " explore what elderberry syrup is, how it may interact with the immune system, and how to use"
    " it safely at home.”"
)
ELDERBERRY_SECTIONS: list[tuple[str, list[str]]] = [
    (
        "Understanding Elderberry Syrup and Its Traditional Uses",
        [
            "Elderberry syrup is made by simmering the cooked berries of Sambucus nigra with water"
            " and honey until the liquid thickens into a sweet, tangy syrup. Folk healers across"
            " Europe have prepared it for centuries, often together with ginger, cinnamon and"
            " cloves, and families passed their recipes from one generation to the next. Today the"
            " syrup is sold in health food shops and pharmacies, and many people still prefer to"
            " cook a batch at home in the autumn.",
            "The raw berries, leaves and stems of the elder contain compounds that can upset the"
            " stomach, which is why traditional recipes always cook the fruit first. Once simmered"
            " and strained, the syrup keeps for several weeks in the refrigerator. This long"
            " tradition of careful preparation is one reason elderberry is now seen as a trusted"
            " kitchen remedy rather than an exotic supplement.",
        ],
    ),
    (
        "How Elderberry May Support the Immune System During a Cold",
        [
            "Researchers suggest that the anthocyanins in elderberry may help the body respond to"
            " cold viruses by supporting the activity of immune cells. Some small studies report"
            " that people who took elderberry extract at the first sign of symptoms recovered a day"
            " or two sooner than people who took a placebo. The berries are also rich in vitamin C"
            " and flavonoids, which play a significant role in protecting cells from stress during"
            " an infection.",
        ],
    ),
    (
        "Navigating Dosage and Safety Considerations for Elderberry Syrup",
        [
            "It is essential to start with a low dose and follow the directions on the label,"
            " typically one tablespoon a day for adults and one teaspoon for children over the age"
            " of one. During a cold, some people take the syrup several times a day for a short"
            " period. Homemade syrup varies in strength from batch to batch, so it is wise to keep"
            " notes on how much you use.",
            "Elderberry is generally well tolerated when it is properly cooked, but it can interact"
            " with medicines that suppress the immune system and with some diabetes drugs. Pregnant"
            " women and people with autoimmune conditions should consult a healthcare provider"
            " before adding elderberry syrup to their routine.",
        ],
    ),
]
ELDERBERRY_CONCLUSION = (
    "Elderberry syrup offers a promising and pleasant way to support the body through cold season,"
    " combining a long folk tradition with early scientific interest. While more research is needed"
    " to confirm its benefits, understanding how the berries work, how to prepare them and how much"
    " to take can help families make informed decisions about this natural remedy."
)
ELDERBERRY_HEADINGS = [heading for heading, _ in ELDERBERRY_SECTIONS]

ELDERBERRY_TEXT = "\n".join(
    [
        ELDERBERRY_SUMMARY,
        ELDERBERRY_INTRO,
        *(f"- {heading}" for heading in ELDERBERRY_HEADINGS),
        *(line for heading, paragraphs in ELDERBERRY_SECTIONS for line in [heading, *paragraphs]),
        ELDERBERRY_CONCLUSION,
    ]
)

_ANCHORS = ["traditional-uses", "immune-system", "dosage-safety"]
_TOC = "\n".join(
    f'<li><a href="#{anchor}">{heading}</a></li>'
    for anchor, heading in zip(_ANCHORS, ELDERBERRY_HEADINGS, strict=True)
)
_SECTIONS = "\n".join(
    f'<h2 id="{anchor}">{heading}</h2>\n' + "\n".join(f"<p>{p}</p>" for p in paragraphs)
    for anchor, (heading, paragraphs) in zip(_ANCHORS, ELDERBERRY_SECTIONS, strict=True)
)
ELDERBERRY_HTML = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Elderberry Syrup for Colds: A Traditional Remedy for Winter | Hedgerow Health</title>
<meta name="author" content="Mara Lindqvist">
<meta property="article:published_time" content="2026-11-12T07:30:00+00:00">
<link rel="canonical" href="__BASE_URL__/articles/elderberry-syrup-colds.html">
</head>
<body>
<div class="cookie-banner">We use cookies to remember your reading list. <button>Accept</button></div>
<header><a class="logo" href="/">Hedgerow Health</a>
<nav><a href="/">Home</a> <a href="/about.html">About</a></nav></header>
<main>
<article>
<h1>Elderberry Syrup for Colds: A Traditional Remedy for Winter</h1>
<div class="byline">By <span class="author">Mara Lindqvist</span> &middot;
<time datetime="2026-11-12">November 12, 2026</time></div>
<p>{ELDERBERRY_SUMMARY}</p>
<blockquote><p>{ELDERBERRY_INTRO}</p></blockquote>
<ul class="toc">
{_TOC}
</ul>
{_SECTIONS}
<p>{ELDERBERRY_CONCLUSION}</p>
</article>
</main>
<aside class="sidebar"><h3>Popular posts</h3><ul>
<li><a href="/articles/nettle-tea.html">Nettle tea in spring</a></li>
<li><a href="/articles/honey-lemon.html">Honey and lemon for a sore throat</a></li></ul></aside>
<footer><a href="/privacy.html">Privacy</a> · This site does not give medical advice.
· Copyright 2026 Hedgerow Health</footer>
</body>
</html>
"""

# --- ordinary pages: headings and bullets, but not the template --------------------------------

NEWS_TEXT = """Riverside council approves protected cycle lanes on Harbour Road
The city council voted seven to four on Tuesday evening to build protected cycle lanes along the full length of Harbour Road, ending a debate that has filled public meetings since the spring of last year.
The plan replaces one lane of parking on each side of the road with a kerbed lane for bicycles and scooters. Work is due to start in March and should take about five months, according to the transport department.
Councillor Priya Ramanathan, who chairs the transport committee, said the vote followed two rounds of consultation. "We heard from more than two thousand residents, and the message from parents in particular was clear: they want their children to be able to ride to school without sharing the road with delivery lorries," she said.
What changes for drivers
The transport department published a summary of the changes that drivers will notice once the work is finished:
- Parking on the east side will move to the side streets around the old tram depot.
- Delivery bays will stay outside the market hall, but only before ten in the morning.
- The speed limit between the bridge and the station drops to thirty kilometres an hour.
Officials expect journey times for cars to rise by less than a minute at the busiest hour, based on traffic counts taken in October.
Reaction from shop owners
Not everyone is convinced. The Harbour Road Traders Association, which represents about sixty businesses, warned that losing parking could hurt small shops that rely on customers who drive in from the villages. Its chair, Tomasz Wilk, who runs a hardware store near the bridge, said members would watch takings closely over the first year.
Others welcomed the decision. The owner of a bakery near the station said that most of her morning customers already arrive on foot or by bike, and that a calmer street would make the pavement seating more pleasant in summer.
What happens next
Contractors will begin moving utility cables in February, and the council has promised weekly updates on its website. A review of traffic, parking and shop takings is planned twelve months after the lanes open, and the committee said it would publish the figures in full.
"""

MEDICAL_TEXT = """Iron deficiency anaemia
On this page
- Overview
- Symptoms
- Causes
- Diagnosis
- Treatment
- When to get help
Overview
Iron deficiency anaemia happens when the body does not have enough iron to make the haemoglobin that red blood cells need to carry oxygen. It is common, and it can usually be treated.
Symptoms
Many people have no symptoms at first. As the level of iron falls, you may feel tired and short of breath, notice a faster heartbeat, or look paler than usual. Some people get headaches or find it hard to concentrate.
Causes
The most common causes are heavy periods, pregnancy, and bleeding in the stomach or bowel. A diet low in iron can contribute, but it is rarely the only cause in adults.
Diagnosis
A simple blood test can show whether you have anaemia and whether it is caused by a lack of iron. Your doctor may arrange further tests to find out why your iron is low.
Treatment
Treatment usually involves iron tablets taken for several months and, where possible, treating the cause. Tablets can upset the stomach, so your doctor or pharmacist may suggest taking them with food.
When to get help
Speak to a doctor if you feel tired all the time or have any of the symptoms above. Get urgent help if you have chest pain or you are bringing up blood.
"""

VENDOR_TEXT = """Meadowlane Elderberry Gummies, 60 Count
Our elderberry gummies are made in small batches in Vermont with black elderberry extract, a little cane sugar and natural fruit pectin. Each jar holds a thirty-day supply for one adult.
- Made with European black elderberry extract
- Free from gelatin, gluten and artificial colours
- Raspberry flavour that children and adults enjoy
- Recyclable glass jar with a child-resistant lid
Ingredients
Cane sugar, tapioca syrup, water, pectin, black elderberry extract, citric acid, natural raspberry flavour, sodium citrate and a coating of carnauba wax.
How to use
Adults chew two gummies once a day. Store the jar in a cool, dry place and close the lid after use. Keep out of the reach of children under four.
Shipping and returns
Orders placed before noon ship the same working day. If you are not happy with your gummies, contact our team within thirty days for a full refund, no questions asked.
"""

# A short product page whose main text is two paragraphs and a feature list, nothing after it.
VENDOR_SHORT_TEXT = """Our black elderberry gummies are made in small batches with European elderberry extract, a little cane sugar and fruit pectin, so each chewable gummy tastes like fresh berries rather than medicine.
Each jar holds sixty gummies, a thirty-day supply for one adult. We suggest you start with a low dose of one gummy a day and check with your pharmacist if you take other medicines.
- Made with black elderberry extract from organic European farms
- Free from gelatin, gluten, dairy and artificial colours or flavours
- Third-party tested for purity in an independent laboratory
"""

# A gardening blog post: summary, intro, a three-item contents list echoed by long headings.
BLOG_WITH_CONTENTS_TEXT = """Winter is the best time to prune most fruit trees, because the branches are bare and the trees are dormant. This guide walks through the tools, the timing and the cuts that matter for apples and pears in a small garden.
I have looked after a small orchard for twenty years, and these are the steps I follow every January when the ground is frozen and there is little else to do outside.
- Choosing the Right Tools for Pruning Apple and Pear Trees
- When to Prune Fruit Trees in a Cold Climate
- Making the Three Cuts Every Young Tree Needs
Choosing the Right Tools for Pruning Apple and Pear Trees
A sharp pair of bypass secateurs handles anything thinner than a pencil, and a pruning saw takes care of larger branches. Clean the blades with a cloth between trees so that disease does not spread from one to the next, and oil the spring at the end of the day.
When to Prune Fruit Trees in a Cold Climate
Wait until the coldest weeks have passed but the buds have not yet begun to swell. In most northern gardens that means late February, though a mild year can bring it forward by a fortnight.
Making the Three Cuts Every Young Tree Needs
Remove dead wood first, then branches that cross or rub, and finally any shoots that grow straight up from the main limbs. Step back after every few cuts to look at the shape of the whole tree.
Pruning takes an afternoon once you have done it a few times, and the reward is a stronger tree and a better harvest in autumn.
"""


def as_html(text: str, title: str) -> str:
    """A plain-text test page as a simple HTML article (headings as h2, bullet runs as one ul)."""
    body: list[str] = []
    in_list = False
    lines = text.strip().splitlines()
    if lines and lines[0] == title:
        lines = lines[1:]
    for line in lines:
        bullet = line.startswith("- ")
        if bullet and not in_list:
            body.append("<ul>")
        if not bullet and in_list:
            body.append("</ul>")
        in_list = bullet
        if bullet:
            body.append(f"<li>{line[2:]}</li>")
        elif len(line.split()) <= 12 and not line.endswith((".", ":", '"', "”")):
            body.append(f"<h2>{line}</h2>")
        else:
            body.append(f"<p>{line}</p>")
    if in_list:
        body.append("</ul>")
    inner = "\n".join(body)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><header><a href='/'>Home</a></header><main><article><h1>{title}</h1>\n{inner}\n"
        "</article></main><footer>Copyright 2026</footer></body></html>"
    )
