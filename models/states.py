"""The states a municipality lies in: the 16 German Länder, the 9 Austrian Bundesländer and the
26 Swiss cantons, written out as the network writes them. The usual abbreviations ("RLP",
"NRW", "BaWü", ISO 3166-2 codes such as "DE-BY", "AT-9" or "CH-ZH") and the other official
spellings ("Freistaat Bayern", "Genève") are mapped; anything else is refused with the list,
so that the insights never count "RLP" and "Rheinland-Pfalz" as two states.

An abbreviation that two countries share means the German state ("BE" is Berlin; Bern is
"CH-BE" or "Bern").
"""

from __future__ import annotations

import re
import unicodedata

GERMANY = (
    "Baden-Württemberg",
    "Bayern",
    "Berlin",
    "Brandenburg",
    "Bremen",
    "Hamburg",
    "Hessen",
    "Mecklenburg-Vorpommern",
    "Niedersachsen",
    "Nordrhein-Westfalen",
    "Rheinland-Pfalz",
    "Saarland",
    "Sachsen",
    "Sachsen-Anhalt",
    "Schleswig-Holstein",
    "Thüringen",
)
AUSTRIA = (
    "Burgenland",
    "Kärnten",
    "Niederösterreich",
    "Oberösterreich",
    "Salzburg",
    "Steiermark",
    "Tirol",
    "Vorarlberg",
    "Wien",
)
SWITZERLAND = (
    "Aargau",
    "Appenzell Ausserrhoden",
    "Appenzell Innerrhoden",
    "Basel-Landschaft",
    "Basel-Stadt",
    "Bern",
    "Freiburg",
    "Genf",
    "Glarus",
    "Graubünden",
    "Jura",
    "Luzern",
    "Neuenburg",
    "Nidwalden",
    "Obwalden",
    "Schaffhausen",
    "Schwyz",
    "Solothurn",
    "St. Gallen",
    "Tessin",
    "Thurgau",
    "Uri",
    "Waadt",
    "Wallis",
    "Zug",
    "Zürich",
)
STATES = GERMANY + AUSTRIA + SWITZERLAND

_GERMAN_CODES = {
    "BW": "Baden-Württemberg",
    "BY": "Bayern",
    "BE": "Berlin",
    "BB": "Brandenburg",
    "HB": "Bremen",
    "HH": "Hamburg",
    "HE": "Hessen",
    "MV": "Mecklenburg-Vorpommern",
    "NI": "Niedersachsen",
    "NW": "Nordrhein-Westfalen",
    "RP": "Rheinland-Pfalz",
    "SL": "Saarland",
    "SN": "Sachsen",
    "ST": "Sachsen-Anhalt",
    "SH": "Schleswig-Holstein",
    "TH": "Thüringen",
}
_AUSTRIAN_CODES = {
    "1": "Burgenland",
    "2": "Kärnten",
    "3": "Niederösterreich",
    "4": "Oberösterreich",
    "5": "Salzburg",
    "6": "Steiermark",
    "7": "Tirol",
    "8": "Vorarlberg",
    "9": "Wien",
}
_SWISS_CODES = {
    "AG": "Aargau",
    "AR": "Appenzell Ausserrhoden",
    "AI": "Appenzell Innerrhoden",
    "BL": "Basel-Landschaft",
    "BS": "Basel-Stadt",
    "BE": "Bern",
    "FR": "Freiburg",
    "GE": "Genf",
    "GL": "Glarus",
    "GR": "Graubünden",
    "JU": "Jura",
    "LU": "Luzern",
    "NE": "Neuenburg",
    "NW": "Nidwalden",
    "OW": "Obwalden",
    "SH": "Schaffhausen",
    "SZ": "Schwyz",
    "SO": "Solothurn",
    "SG": "St. Gallen",
    "TI": "Tessin",
    "TG": "Thurgau",
    "UR": "Uri",
    "VD": "Waadt",
    "VS": "Wallis",
    "ZG": "Zug",
    "ZH": "Zürich",
}
# Other names in use, and the abbreviations people write.
_OTHER_NAMES = {
    "BaWü": "Baden-Württemberg",
    "Ba-Wü": "Baden-Württemberg",
    "Freistaat Bayern": "Bayern",
    "Land Berlin": "Berlin",
    "Land Brandenburg": "Brandenburg",
    "Freie Hansestadt Bremen": "Bremen",
    "Freie und Hansestadt Hamburg": "Hamburg",
    "Meck-Pomm": "Mecklenburg-Vorpommern",
    "M-V": "Mecklenburg-Vorpommern",
    "NRW": "Nordrhein-Westfalen",
    "RLP": "Rheinland-Pfalz",
    "Saar": "Saarland",
    "Freistaat Sachsen": "Sachsen",
    "LSA": "Sachsen-Anhalt",
    "Freistaat Thüringen": "Thüringen",
    "Bgld": "Burgenland",
    "Ktn": "Kärnten",
    "NÖ": "Niederösterreich",
    "OÖ": "Oberösterreich",
    "Sbg": "Salzburg",
    "Stmk": "Steiermark",
    "Vbg": "Vorarlberg",
    "Basel-Land": "Basel-Landschaft",
    "Baselland": "Basel-Landschaft",
    "Basel": "Basel-Stadt",
    "Fribourg": "Freiburg",
    "Genève": "Genf",
    "Neuchâtel": "Neuenburg",
    "Sankt Gallen": "St. Gallen",
    "Ticino": "Tessin",
    "Vaud": "Waadt",
    "Valais": "Wallis",
    "Graubuenden": "Graubünden",
}


def _key(text: str) -> str:
    """Case, accents, umlauts, dots and separators folded: "Baden-Wuerttemberg",
    "baden württemberg" and "BADEN-WÜRTTEMBERG" are one key."""
    text = text.strip().casefold()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelled)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return re.sub(r"[\s.\-_/]+", "", text)


_BY_KEY: dict[str, str] = {}
for _name in STATES:
    _BY_KEY[_key(_name)] = _name
for _code, _name in _SWISS_CODES.items():
    _BY_KEY[_key(f"CH-{_code}")] = _name
    _BY_KEY.setdefault(_key(_code), _name)
for _code, _name in _AUSTRIAN_CODES.items():
    _BY_KEY[_key(f"AT-{_code}")] = _name
for _code, _name in _GERMAN_CODES.items():
    _BY_KEY[_key(f"DE-{_code}")] = _name
    # German codes win over the Swiss ones they share (BE, SH, NW).
    _BY_KEY[_key(_code)] = _name
for _other, _name in _OTHER_NAMES.items():
    _BY_KEY[_key(_other)] = _name


def canonical_state(raw: str) -> str | None:
    """The state ``raw`` names, written out; None when it names none."""
    return _BY_KEY.get(_key(raw))


def state(raw: str) -> str:
    """``canonical_state`` for a validator: ValueError with the list when nothing matches."""
    found = canonical_state(raw)
    if found is None:
        raise ValueError(
            f"{raw!r} is no German state, Austrian state or Swiss canton; use one of: "
            + ", ".join(STATES)
        )
    return found
