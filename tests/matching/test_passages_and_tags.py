"""Passage splitting and tag normalization (pure functions, no model)."""

from __future__ import annotations

from service.matching.passages import (
    searched_flags,
    sentence_flags,
    sentence_passages,
    split_passages,
)
from service.matching.tags import clean_tag, normalize_tag


class TestSplitPassages:
    def test_splits_sentences_and_keeps_abbreviations(self) -> None:
        text = (
            "Ich betreue die Bürgerversammlungen nach Art. 18 der Gemeindeordnung. "
            "Wir nutzen z. B. Themeninseln und Stellwände vor dem offiziellen Teil. "
            "Dr. Müller hat das Format mit uns gemeinsam evaluiert und verbessert."
        )
        assert len(sentence_passages(text)) == 3

    def test_merges_very_short_sentences(self) -> None:
        sentences = sentence_passages("Kurz. Das ist ein ganz normaler langer Satz mit Inhalt.")
        assert sentences == ["Kurz. Das ist ein ganz normaler langer Satz mit Inhalt."]

    def test_adds_windows_of_consecutive_sentences(self) -> None:
        text = " ".join(
            f"Satz Nummer {i} beschreibt ein eigenes Thema der Arbeit." for i in range(4)
        )
        passages = split_passages(text)
        assert passages[:4] == sentence_passages(text)
        assert len(passages) == 4 + 3 + 2

    def test_never_empty_for_text(self) -> None:
        assert split_passages("Bürgerhaushalt") == ["Bürgerhaushalt"]
        assert split_passages("   ") == []

    def test_sentences_are_told_from_windows(self) -> None:
        text = " ".join(
            f"Satz Nummer {i} beschreibt ein eigenes Thema der Arbeit." for i in range(4)
        )
        passages = split_passages(text)
        flags = sentence_flags(passages)
        assert [p for p, sentence in zip(passages, flags, strict=True) if sentence] == (
            sentence_passages(text)
        )
        assert flags.count(False) == len(passages) - 4

    def test_the_windows_are_searched_or_the_one_sentence(self) -> None:
        """The dense channel searches a profile's windows, which hold all its sentences; a
        profile of one sentence has no window and is searched by that sentence."""
        text = " ".join(
            f"Satz Nummer {i} beschreibt ein eigenes Thema der Arbeit." for i in range(3)
        )
        flags = sentence_flags(split_passages(text))
        assert searched_flags(flags) == tuple(not sentence for sentence in flags)
        assert searched_flags(sentence_flags(split_passages("Ich leite den Bürgerrat."))) == (True,)
        assert searched_flags(()) == ()


class TestNormalizeTag:
    def test_case_umlauts_hyphens_and_plural(self) -> None:
        assert normalize_tag("Online-Beteiligung") == normalize_tag("onlinebeteiligung")
        assert normalize_tag("Bürgerräte") == normalize_tag("Buergerrat")
        assert normalize_tag("Stadtteile") == normalize_tag("Stadtteil")
        assert normalize_tag("Jugendforen") == normalize_tag("Jugendforum")

    def test_synonyms_of_the_field(self) -> None:
        assert normalize_tag("Kinder- und Jugendbeteiligung") == normalize_tag("Jugendbeteiligung")
        assert normalize_tag("Beteiligungshaushalt") == normalize_tag("Bürgerhaushalt")
        assert normalize_tag("Beteiligungsleitlinien") == normalize_tag("Leitlinien")
        assert normalize_tag("Bürgerantrag") == normalize_tag("Einwohnerantrag")
        assert normalize_tag("Zufallsauswahl") == normalize_tag("Losverfahren")
        assert normalize_tag("youth participation") == normalize_tag("Jugendbeteiligung")

    def test_different_things_stay_different(self) -> None:
        assert normalize_tag("Bürgerrat") != normalize_tag("Losverfahren")
        assert normalize_tag("Kinderbeteiligung") != normalize_tag("Jugendbeteiligung")

    def test_clean_tag_is_the_display_form(self) -> None:
        assert clean_tag("  Kinder-  und\tJugendbeteiligung ") == "Kinder- und Jugendbeteiligung"
