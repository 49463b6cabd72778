"""A synthetic network of any size, from realistic German fragments of the field.

Deterministic for a seed. Profiles combine a topic's methods, settings, particulars and results
into 2-7 first-person sentences, the way members describe their work; questions paraphrase a
topic. The vocabulary is the field's, so embedding, retrieval and ranking do the work they do on
real profiles (lengths, compounds, overlaps between topics).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

STATES = (
    "Baden-Württemberg", "Bayern", "Berlin", "Brandenburg", "Bremen", "Hamburg", "Hessen",
    "Mecklenburg-Vorpommern", "Niedersachsen", "Nordrhein-Westfalen", "Rheinland-Pfalz",
    "Saarland", "Sachsen", "Sachsen-Anhalt", "Schleswig-Holstein", "Thüringen",
)  # fmt: skip
KINDS = ("Großstadt", "Mittelstadt", "Kleinstadt", "Gemeinde", "Landkreis")
_PREFIXES = (
    "Bad ", "Neu", "Alt", "Groß", "Klein", "Ober", "Unter", "Hohen", "Nieder", "Sankt ", "", "",
)  # fmt: skip
_STEMS = (
    "Bach", "Berg", "Born", "Brück", "Eich", "Eschen", "Fels", "Hasel", "Holz", "Kirch",
    "Linden", "Mühl", "Rosen", "Sonnen", "Stein", "Tann", "Wald", "Wiesen", "Wolfs", "Ulmen",
)  # fmt: skip
_SUFFIXES = ("dorf", "hausen", "heim", "feld", "stadt", "bach", "burg", "au", "ingen", "rode")
_FIRST = (
    "Anna", "Birgit", "Claudia", "Daniel", "Elif", "Frank", "Greta", "Hannes", "Ines", "Jonas",
    "Katrin", "Lukas", "Mareike", "Nils", "Olga", "Paul", "Rabea", "Stefan", "Tanja", "Yusuf",
)  # fmt: skip
_LAST = (
    "Albers", "Becker", "Demir", "Engel", "Fischer", "Gruber", "Hoffmann", "Jansen", "Kaya",
    "Lorenz", "Meyer", "Nowak", "Otto", "Peters", "Richter", "Schulz", "Vogel", "Wagner",
)  # fmt: skip
ROLES = (
    "Beteiligungsbeauftragte", "Referent für Bürgerbeteiligung",
    "Leiterin Stabsstelle Bürgerbeteiligung", "Koordinator Jugendbeteiligung",
    "Quartiersmanagerin", "Sachbearbeiter Stadtentwicklung",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Topic:
    tags: tuple[str, ...]
    methods: tuple[str, ...]
    settings: tuple[str, ...]
    results: tuple[str, ...]
    questions: tuple[str, ...]


TOPICS = (
    Topic(
        ("Leitlinien", "Beteiligungssatzung", "Politik"),
        (
            "Beteiligungsleitlinien mit einer trialogischen Arbeitsgruppe erarbeitet",
            "eine Beteiligungssatzung durch den Rat gebracht",
            "eine Vorhabenliste eingeführt, die alle Fachämter pflegen",
        ),
        (
            "gemeinsam mit Fraktionen, Verwaltung und Einwohnern",
            "nach einem zweijährigen Dialogprozess",
            "mit Unterstützung eines Beteiligungsbeirats",
        ),
        (
            "Der Beschluss fiel einstimmig.",
            "Seitdem ist Beteiligung für die Ämter verbindlich.",
            "Die Evaluation nach drei Jahren hat die Rückmeldung an die Beteiligten verbessert.",
        ),
        (
            "Wie habt ihr verbindliche Leitlinien für Bürgerbeteiligung im Rat beschlossen?",
            "Wer hat eine Vorhabenliste eingeführt und hält sie aktuell?",
        ),
    ),
    Topic(
        ("Jugendbeteiligung", "Jugendparlament", "Kinderbeteiligung"),
        (
            "ein Jugendparlament mit Rede- und Antragsrecht aufgebaut",
            "Kinder- und Jugendbeteiligung in der Hauptsatzung verankert",
            "Beteiligungsprojekte an Schulen und Jugendzentren begleitet",
        ),
        (
            "zusammen mit der Jugendpflege",
            "mit einem eigenen Jugendbudget",
            "in enger Abstimmung mit den Schulen",
        ),
        (
            "Die Jugendlichen bringen inzwischen eigene Anträge in die Ausschüsse ein.",
            "Die Wahlbeteiligung bei der Jugendwahl lag bei über vierzig Prozent.",
            "Ein Spielplatz und ein Skatepark wurden nach ihren Ideen gebaut.",
        ),
        (
            "Wie bringt man Jugendliche dazu, sich dauerhaft im Jugendparlament zu engagieren?",
            "Wie verankert man Kinderbeteiligung verbindlich in der Gemeinde?",
        ),
    ),
    Topic(
        ("Bürgerrat", "Zufallsauswahl", "Losverfahren"),
        (
            "einen Bürgerrat mit ausgelosten Einwohnerinnen und Einwohnern durchgeführt",
            "eine geschichtete Zufallsauswahl aus dem Melderegister organisiert",
            "Empfehlungen eines Bürgerrats in den Stadtrat eingebracht",
        ),
        ("zum Klimaschutz", "zur Zukunft der Innenstadt", "zur Mobilität in den Ortsteilen"),
        (
            "Fast alle Empfehlungen wurden vom Rat aufgegriffen.",
            "Aufsuchende Einladungen haben die Zusagequote deutlich erhöht.",
            "Die externe Moderation war jeden Euro wert.",
        ),
        (
            "Wie viele Personen muss man für einen Bürgerrat anschreiben, damit genug zusagen?",
            "Wie sorgt ihr dafür, dass die Empfehlungen eines Bürgerrats im Rat behandelt werden?",
        ),
    ),
    Topic(
        ("Bürgerhaushalt", "Onlinebeteiligung", "Haushalt"),
        (
            "einen Bürgerhaushalt mit Online-Abstimmung eingeführt",
            "eine digitale Beteiligungsplattform ausgeschrieben und betrieben",
            "ein Stadtteilbudget über Vorschläge der Bewohner vergeben",
        ),
        (
            "mit einem festen Budget von hunderttausend Euro",
            "über drei Haushaltsjahre",
            "mit Vor-Ort-Terminen für Menschen ohne Internet",
        ),
        (
            "Die Rechenschaft über umgesetzte Vorschläge schafft Vertrauen.",
            "Die Beteiligung stieg im zweiten Jahr deutlich.",
            "Barrierefreiheit der Plattform war uns besonders wichtig.",
        ),
        (
            "Wie habt ihr einen Bürgerhaushalt mit Online-Abstimmung aufgebaut?",
            "Welche Beteiligungsplattform nutzt ihr und wie barrierefrei ist sie?",
        ),
    ),
    Topic(
        ("Quartiersentwicklung", "aufsuchende Beteiligung", "Integration"),
        (
            "aufsuchende Beteiligung in Großwohnsiedlungen organisiert",
            "mehrsprachige Stadtteilgespräche mit Migrantenorganisationen durchgeführt",
            "ein Quartiersmanagement mit Bewohnerbeirat aufgebaut",
        ),
        (
            "mit Sprachmittlerinnen und Kulturvereinen",
            "an Haustüren und auf Wochenmärkten",
            "im Rahmen der Städtebauförderung",
        ),
        (
            "So haben wir Menschen erreicht, die sonst nie zu Versammlungen kommen.",
            "Der Bewohnerbeirat entscheidet heute über den Verfügungsfonds.",
            "Die Einladungen in fünf Sprachen haben sich bewährt.",
        ),
        (
            "Wie erreicht ihr Menschen, die wenig Deutsch sprechen, für Beteiligung?",
            "Wie gelingt aufsuchende Beteiligung in einem Stadtteil mit vielen Problemen?",
        ),
    ),
    Topic(
        ("Bauleitplanung", "Gemeindeordnung", "Einwohnerantrag"),
        (
            "Beteiligung in der Bauleitplanung über das gesetzliche Maß hinaus gestaltet",
            "einen Einwohnerantrag nach der Gemeindeordnung rechtlich begleitet",
            "Bürgerbegehren und Bürgerentscheide in der Verwaltung betreut",
        ),
        (
            "bei einem umstrittenen Neubaugebiet",
            "für ein Windkraftprojekt",
            "gemeinsam mit dem Rechtsamt",
        ),
        (
            "Die frühe Information hat spätere Klagen verhindert.",
            "Die Zulässigkeitsprüfung war der heikelste Teil.",
            "Eine Planungswerkstatt hat die Fronten entschärft.",
        ),
        (
            "Wie geht ihr mit einem Einwohnerantrag nach der Gemeindeordnung um?",
            "Wie beteiligt ihr früh bei umstrittenen Bebauungsplänen?",
        ),
    ),
    Topic(
        ("Fortbildung", "Verwaltung", "Moderation"),
        (
            "ein Schulungsprogramm zu Beteiligungsmethoden für die Verwaltung aufgebaut",
            "kollegiale Fallberatung für Projektleitungen eingeführt",
            "einen verwaltungsinternen Leitfaden für Beteiligungsverfahren geschrieben",
        ),
        (
            "für alle Fachbereiche",
            "mit erfahrenen Moderationstandems",
            "gemeinsam mit der Personalentwicklung",
        ),
        (
            "Inzwischen planen die Ämter Beteiligung selbstständig.",
            "Die Nachfrage nach den Kursen ist groß.",
            "Der Leitfaden wird von anderen Kommunen nachgefragt.",
        ),
        (
            "Wie schult ihr eure Verwaltung in Bürgerbeteiligung?",
            "Wer hat einen internen Leitfaden für Beteiligungsverfahren?",
        ),
    ),
    Topic(
        ("ländlicher Raum", "Dorfentwicklung", "interkommunale Zusammenarbeit"),
        (
            "Dorfentwicklungsprozesse in kleinen Ortsteilen moderiert",
            "eine interkommunale Beteiligungsstelle für mehrere Gemeinden aufgebaut",
            "Dorfgespräche und Ortsbegehungen organisiert",
        ),
        (
            "mit ehrenamtlichen Ortsvorstehern",
            "mit sehr kleinem Budget",
            "im Rahmen eines LEADER-Projekts",
        ),
        (
            "Die Dorfgemeinschaften tragen die Projekte heute selbst.",
            "Die gemeinsame Stelle spart jeder Gemeinde Personal.",
            "Das neue Dorfgemeinschaftshaus ist ein Ergebnis.",
        ),
        (
            "Wie organisiert eine kleine Gemeinde Beteiligung ohne eigene Stelle?",
            "Wer hat Erfahrungen mit interkommunaler Zusammenarbeit bei Beteiligung?",
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class SyntheticQuestion:
    title: str
    body: str
    tags: tuple[str, ...]


def municipality_name(rng: random.Random) -> str:
    prefix, stem = rng.choice(_PREFIXES), rng.choice(_STEMS)
    if prefix and not prefix.endswith(" "):
        stem = stem.lower()  # Neu + Bach + dorf = Neubachdorf
    return f"{prefix}{stem}{rng.choice(_SUFFIXES)}"


_PARTNERS = (
    "dem Jugendamt", "dem Stadtplanungsamt", "der Volkshochschule", "einem externen Büro",
    "der Hochschule vor Ort", "dem Seniorenbeirat", "den Ortsbeiräten", "der Wirtschaftsförderung",
    "dem Integrationsbeirat", "der Gleichstellungsstelle", "einem Moderationsteam",
    "den Kirchengemeinden", "dem Quartiersbüro", "der Klimaschutzleitstelle",
)  # fmt: skip
_GROUPS = (
    "Jugendliche", "Seniorinnen und Senioren", "Eltern", "Gewerbetreibende", "Ehrenamtliche",
    "Zugezogene", "Menschen mit Behinderung", "Studierende", "Landwirte", "Vereine",
)  # fmt: skip
# Frames of a sentence about a method ("{method}" is a participle phrase: "… eingeführt").
_METHOD_FRAMES = (
    "Ich habe {setting} {method}.",
    "{year} habe ich {setting} {method}.",
    "In {town} habe ich {method}.",
    "Gemeinsam mit {partner} haben wir {setting} {method}.",
    "Seit {year} habe ich in {town} {setting} {method}.",
    "Als {role} habe ich {method}.",
    "Wir haben hier {setting} {method}, das war {year}.",
)  # fmt: skip
# Sentences with the particulars that make every real profile different.
_DETAILS = (
    "Beteiligt waren rund {count} Menschen, vor allem {group}.",
    "Das Verfahren lief von {year} bis {later}.",
    "Ansprechpartner in der Verwaltung war {partner}.",
    "Besonders wichtig war uns, {group} zu erreichen.",
    "Die Kosten lagen bei etwa {money} Euro.",
    "Dafür hatten wir {weeks} Wochen Zeit.",
    "Die Ergebnisse sind auf der Website von {town} dokumentiert.",
)  # fmt: skip

_CONCLUSIONS = ("", "", "Rückblickend: ", "Für {town} heißt das: ", "Unser Fazit: ",
                "Nach {weeks} Wochen zeigte sich: ", "Das Ergebnis seit {year}: ")  # fmt: skip


def _fill(frame: str, rng: random.Random, town: str, **values: str) -> str:
    year = rng.randint(2010, 2024)
    return frame.format(
        town=town,
        year=year,
        later=year + rng.randint(1, 3),
        count=rng.choice((25, 40, 60, 80, 120, 150, 200, 300, 450, 800, 1200, 2500)),
        money=f"{rng.randint(2, 150) * 1000:,}".replace(",", "."),
        weeks=rng.randint(3, 30),
        group=rng.choice(_GROUPS),
        partner=rng.choice(_PARTNERS),
        **values,
    )


def member_record(index: int, rng: random.Random) -> dict[str, object]:
    """One member in the import schema (the schema of shared/data/dev/members.json).

    Sentences vary in frame and particulars (places, years, partners, numbers), so passages are
    as distinct as real profiles' are: a network built from a few hundred repeated sentences
    would make every nearest-neighbour search a search among ties."""
    # Municipalities are shared by a few members, as in the real network.
    municipality_seed = random.Random(index // 2)
    town = municipality_name(municipality_seed)
    role = rng.choice(ROLES)
    topics = rng.sample(TOPICS, k=rng.choice((1, 1, 2)))
    sentences = []
    for topic in topics:
        for method in rng.sample(topic.methods, k=rng.choice((1, 2))):
            frame = rng.choice(_METHOD_FRAMES)
            sentence = _fill(
                frame, rng, town, method=method, setting=rng.choice(topic.settings), role=role
            )
            sentences.append(sentence[0].upper() + sentence[1:])
        if rng.random() < 0.5:
            sentences.append(_fill(rng.choice(_DETAILS), rng, town))
        sentences.append(_fill(rng.choice(_CONCLUSIONS), rng, town) + rng.choice(topic.results))
    tags = sorted({tag for topic in topics for tag in rng.sample(topic.tags, k=2)})
    return {
        "id": f"bench-{index:06d}",
        "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        "email": f"mitglied{index}@bench.example.org",
        "municipality": f"{town} {index // 2}",
        "state": municipality_seed.choice(STATES),
        "municipality_type": municipality_seed.choice(KINDS),
        "role": role,
        "expertise": " ".join(sentences),
        "tags": tags,
        "languages": ["de"],
    }


def network(size: int, *, seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [member_record(index, rng) for index in range(size)]


def questions(count: int, *, seed: int = 11) -> list[SyntheticQuestion]:
    rng = random.Random(seed)
    result = []
    for _ in range(count):
        topic = rng.choice(TOPICS)
        text = rng.choice(topic.questions)
        context = rng.choice(
            ("Wir sind eine kleine Gemeinde.", "Bei uns ist der Rat skeptisch.",
             "Wir fangen gerade erst an.", "Unsere Verwaltung hat wenig Personal.")
        )  # fmt: skip
        result.append(
            SyntheticQuestion(
                title=text.rstrip("?")[:120],
                body=f"{text} {context}",
                tags=(rng.choice(topic.tags),),
            )
        )
    return result
