"""Three small template families written for the discovery tests, and ordinary pages that share
words with them but no template.

Each family is a fixed frame (its stock phrases, its shape) filled with a topic per article, the
way a content farm fills one prompt with many keywords. The frames and the topics were written
for these tests.
"""

from __future__ import annotations

# name, what it is, a use, a caution, a paragraph of its own: one topic per article
TOPICS = [
    (
        "Chamomile Tea",
        "a herbal infusion made from dried daisy-like flowers",
        "unwinding at night",
        "ragweed allergies",
        "Steep one heaped teaspoon of the dried heads in water just off the boil for five minutes,"
        " covered, so the fragrant oils stay in the cup. German and Roman chamomile look alike on"
        " the packet, but the German kind is the one sold loose in most health shops, and it keeps"
        " its apple scent for about a year in a tin.",
    ),
    (
        "Peppermint Oil",
        "an essential oil pressed from the leaves of the mint plant",
        "a bloated stomach",
        "heartburn",
        "Enteric-coated capsules carry the oil past the stomach so that it opens lower down, and a"
        " single drop on a tissue is the other common way people meet it. Never put the neat oil on"
        " a baby's face, and keep the little brown bottle on a high shelf away from curious hands.",
    ),
    (
        "Ginger Root",
        "a knobbly spice root used in kitchens across Asia",
        "travel queasiness",
        "blood thinners",
        "Fresh pieces keep for three weeks in the fridge, wrapped in paper, and the skin scrapes off"
        " easily with the edge of a spoon. Sailors once chewed crystallised slices on long voyages,"
        " and today you can buy chews, capsules, syrups and even fizzy drinks with a real kick.",
    ),
    (
        "Cinnamon Bark",
        "the dried inner bark of a tropical evergreen tree",
        "steady morning energy",
        "liver conditions",
        "Ceylon sticks roll into many thin papery layers, while cassia forms one thick curl and"
        " holds far more coumarin. A pinch over porridge or stewed apples is how most households use"
        " it, and a jar of ground powder loses its warm aroma within six months of opening.",
    ),
    (
        "Lemon Balm",
        "a leafy herb from the mint family with a citrus smell",
        "a busy mind",
        "thyroid medicine",
        "It spreads through a garden bed as eagerly as any mint, so many growers keep it in a pot"
        " by the back door. Bees love its small white flowers in July, and the fresh leaves, torn"
        " into a jug of cold water, make a drink that children are often happy to try.",
    ),
    (
        "Rosehip Powder",
        "a tart powder ground from the fruit of wild roses",
        "stiff knees",
        "kidney stones",
        "The bright red hips ripen on hedgerows after the first frosts, and the fine hairs inside"
        " them have to be sieved out before anything else. Stirred into yoghurt, the orange powder"
        " tastes a little like sour plums, and a tub usually lasts a household about a month.",
    ),
]


Topic = tuple[str, str, str, str, str]


def quick_answer(topic: Topic) -> str:
    """Family A, "quick answer": a one-line verdict, an intro, a four-item list that returns as
    the section headings, and the same stock transitions in every section."""
    name, what, use, caution, details = topic
    low = name.lower()
    headings = [
        f"What {name} Is and Where It Comes From",
        f"How People Use {name} for {use.title()}",
        f"Who Should Be Careful With {name}",
        f"Our Honest Verdict on {name}",
    ]
    lines = [
        f"Quick answer: {low} is {what}, and many readers reach for it for {use}. The short"
        " version is that it is worth a try for most healthy adults, with one or two sensible"
        " precautions that we cover below.",
        f"If you have ever stood in a shop wondering whether {low} is worth your money, you are"
        " not alone. In this guide we break it all down in plain words, so you can stop guessing"
        " and start making choices that feel right for your body.",
        *(f"- {h}" for h in headings),
        headings[0],
        f"Before anything else, here is what you need to know. {name} is {what}. People have"
        " talked about it for a long time, and the story behind it is more interesting than most"
        " labels let on.",
        details,
        headings[1],
        f"Most readers who write to us mention {use}. The bottom line is simple: small amounts,"
        f" taken regularly, are how most people use {low}, and nobody needs a cupboard full of it.",
        headings[2],
        f"Be careful if you live with {caution}. As always, talk to a trusted professional before"
        " you change your routine, especially if you already take something every day.",
        headings[3],
        f"So, is {low} worth it? Here is our honest take after weighing it all up. We think it"
        " earns a place on the shelf, as long as you keep your expectations realistic and listen"
        " to your body along the way.",
    ]
    return "\n".join(lines)


def myth_buster(topic: Topic) -> str:
    """Family B, "myth buster": one opening paragraph, a five-point key-facts box that the
    headings do not repeat, then myth-and-fact sections with the same stock lines."""
    name, what, use, caution, details = topic
    low = name.lower()
    lines = [
        f"There is a lot of noise online about {low}. We dug through the research so you do not"
        " have to, and we are ready to separate fact from fiction once and for all.",
        f"- {name} is {what}",
        f"- It is mostly talked about for {use}",
        f"- People with {caution} need extra care",
        "- Quality varies a great deal between brands",
        "- More is not always better",
        f"Myth One: {name} Works Overnight",
        f"Let us clear this one up straight away. Nothing about {low} works overnight, and anyone"
        " who promises that is selling a story rather than the honest truth.",
        f"Myth Two: Everyone Should Take {name}",
        f"Here is the honest truth: plenty of people have no reason to bother with {low} at all,"
        f" and those with {caution} may be better off without it.",
        f"The Facts About {name} and {use.title()}",
        details,
        f"When it comes to {use}, the picture is more modest than the hype. The takeaway is that"
        f" {low} can be a small, pleasant part of a routine, not a miracle in a bottle.",
        "The Final Word",
        "Now you know the facts, and you can make up your own mind. If in doubt, ask someone who"
        " knows your health history before you buy anything new.",
    ]
    return "\n".join(lines)


# (URL, text): each family on three sites, two topics per site
FAMILY_A = [
    (f"https://{site}/guides/{topic[0].lower().replace(' ', '-')}", quick_answer(topic))
    for site, topic in zip(
        [
            "answers-daily.example",
            "answers-daily.example",
            "plainwell.example",
            "plainwell.example",
            "herbhelp.example",
        ],
        TOPICS[:5],
        strict=True,
    )
]
FAMILY_B = [
    (f"https://{site}/myths/{topic[0].lower().replace(' ', '-')}", myth_buster(topic))
    for site, topic in zip(
        [
            "factcheckherbs.example",
            "factcheckherbs.example",
            "truthwell.example",
            "kitchenmyths.example",
        ],
        TOPICS[2:],
        strict=True,
    )
]


def remedy_card(topic: Topic) -> str:
    """Family C, "remedy card": five short lines of card facts, an eight-step list that returns as
    the headings, short steps with the same stock lines. Unlike family A it is nothing like the
    bundled seeds' template (no long summary, short headings), so the bundled family does not
    match it, and it is discovered, promoted and matched end to end."""
    name, what, use, caution, details = topic
    low = name.lower()
    headings = [
        f"Getting Your {name} Ready",
        "Brewing Without Fuss",
        "Timing Matters",
        "Finishing Touches",
        "Keeping Leftovers",
        "Pairing Ideas",
        "Common Slip-Ups",
        "Our Final Tip",
    ]
    lines = [
        f"Card number {len(low)} in our kitchen remedy series, about {low}.",
        "Skill level is easy, and the cost is a few pennies per cup.",
        f"Best for {use}, according to the readers who sent it in.",
        f"Skip it if you live with {caution}, and ask your pharmacist first.",
        "Here is our tried and tested method, one step after another.",
        *(f"- {h}" for h in headings),
        headings[0],
        f"First things first: {low} is {what}. {details}",
        headings[1],
        "Use a clean pot and a lid, and never let it bubble hard. Patience beats heat every single"
        " time in this kitchen.",
        headings[2],
        "Give it five minutes, then taste. A longer soak turns the flavour bitter, so set a timer"
        " on your phone and walk away.",
        headings[3],
        "A slice of lemon or a spoon of honey is all it needs. Skip the sugar if you can, your"
        " teeth will thank you later.",
        headings[4],
        "Pour any extra into a jar with a tight lid and put it in the fridge. It keeps for two"
        " days, no longer.",
        headings[5],
        f"People who take {low} for {use} often pair it with an early night.",
        headings[6],
        f"The usual slip-up with {low} is forgetting about {caution}.",
        headings[7],
        f"Make {low} part of a calm routine rather than a quick fix. Small habits, repeated"
        " daily, are what our readers say makes the difference.",
    ]
    return "\n".join(lines)


# family C on three sites; the sixth topic is left for a fresh article of the template
FAMILY_C = [
    (f"https://{site}/cards/{topic[0].lower().replace(' ', '-')}", remedy_card(topic))
    for site, topic in zip(
        [
            "remedycards.example",
            "remedycards.example",
            "pantryhealth.example",
            "pantryhealth.example",
            "grannyknows.example",
        ],
        TOPICS[:5],
        strict=True,
    )
]


def shop_check(topic: Topic) -> str:
    """Family D, "shop check": the shape of family B (one opening paragraph, a five-point box the
    headings do not repeat, then sections) with stock lines of its own, so that only the phrases
    tell the two apart."""
    name, _what, use, caution, details = topic
    low = name.lower()
    lines = [
        f"Thinking of buying {low}? Our shopping desk went through the shelves and the small print"
        " for you, and here is what we would look at before handing over any money at the till.",
        f"- What {low} actually is",
        f"- Why shoppers pick it for {use}",
        f"- A word about {caution}",
        "- Price per month, worked out",
        "- Labels worth a second look",
        f"Reading the Label on {name}",
        "Turn the packet over first and ignore the front. The back of the box is where the makers"
        f" have to tell the truth about {low}, in small grey letters nobody else reads.",
        f"Paying for {name}",
        "Work out the price per daily serving rather than the price per tub. A big tub that lasts"
        " three weeks can cost far more than a small one that lasts two months.",
        f"{name} and {use.title()}",
        details,
        "Shop assistants mean well, but they are paid to sell. Write your questions down at home"
        " and take the list with you on the bus.",
        "Our Shopping Desk Sign-Off",
        "That is everything we check on a shelf. Keep the receipt, try it for a month and write"
        " down how you feel each week in a notebook by the kettle.",
    ]
    return "\n".join(lines)


FAMILY_D = [
    (f"https://{site}/shop/{topic[0].lower().replace(' ', '-')}", shop_check(topic))
    for site, topic in zip(
        ["shopdesk.example", "shopdesk.example", "tillwise.example", "basketsmart.example"],
        TOPICS[:4],
        strict=True,
    )
]

# One page of the shape of families B and D that carries three stock lines of each (a page that
# copied from both, or two unrelated pages' common wording): it links to both families, and
# union-find alone made the two one candidate.
BRIDGE = (
    "https://odds-and-ends.example/notes/nettle-soup",
    "\n".join(
        [
            "Nettle soup is back on the menu at the allotment café, and the volunteers have opinions"
            " about the gloves, the pot and the right week of spring to pick the tops.",
            "- Gloves on, always",
            "- Only the top four leaves",
            "- A pinch of nutmeg",
            "- Cream at the very end",
            "- Serve it the same day",
            "Picking the Tops",
            "We dug through the research so you do not have to, and we are ready to separate fact"
            " from fiction once and for all. The sting goes the moment the leaves hit hot water.",
            "Old Wives' Tales",
            "Let us clear this one up straight away. The soup does not taste of grass, whatever the"
            " children say, and anyone who promises that is selling a story rather than the honest"
            " truth.",
            "Buying the Rest",
            "Work out the price per daily serving rather than the price per tub. Potatoes and an"
            " onion are all the rest of the pot needs.",
            "Shop assistants mean well, but they are paid to sell. The allotment shed sells stock"
            " cubes at cost.",
            "Last Spoonful",
            "Now you know the facts, and you can make up your own mind. That is everything we check"
            " on a shelf. Keep the receipt, try it for a month and write down how you feel each week"
            " in a notebook by the kettle.",
        ]
    ),
)
