"""An explanation that reads well: the words marked in a passage, and a passage that stands on
its own (service/matching/explain.py, shown by api/web/highlight.py)."""

from __future__ import annotations

from api.web.highlight import highlight
from service.matching.explain import leans_on_previous, standalone


class TestMarkedWords:
    def test_marks_shared_nouns_and_their_inflections(self) -> None:
        marked = highlight(
            "Wir haben Bürgerräte per Los besetzt.", "Wie besetzt man einen Bürgerrat?"
        )
        assert str(marked) == "Wir haben <mark>Bürgerräte</mark> per Los besetzt."

    def test_compounds_that_only_begin_alike_are_different_words(self) -> None:
        marked = highlight(
            "Ich unterstütze die Bürgerbusvereine.", "Wie verankern wir Bürgerbeteiligung?"
        )
        assert "<mark>" not in str(marked)

    def test_joins_neighbouring_words(self) -> None:
        marked = highlight("Die Jugendforen Satzung steht.", "Jugendforen Satzung?")
        assert "<mark>Jugendforen Satzung</mark>" in str(marked)

    def test_never_stop_words_or_generic_ones(self) -> None:
        marked = highlight(
            "Das haben viele Personen in der Stadt für die Zukunft gemacht.",
            "Wie haben viele Personen in der Stadt für die Zukunft geplant?",
        )
        assert "<mark>" not in str(marked)

    def test_words_many_profiles_use_are_not_marked(self) -> None:
        passage = "Der Jugendrat tagt im Rathaus."
        question = "Wie arbeitet ein Jugendrat mit dem Rathaus?"
        assert str(highlight(passage, question)).count("<mark>") == 2
        only_rare = highlight(passage, question, frequent={"rathaus"})
        assert str(only_rare) == "Der <mark>Jugendrat</mark> tagt im Rathaus."

    def test_escapes_the_passage(self) -> None:
        marked = highlight("<script>Bürgerrat</script>", "Bürgerrat")
        assert "<script>" not in str(marked)
        assert str(marked) == "&lt;script&gt;<mark>Bürgerrat</mark>&lt;/script&gt;"

    def test_a_passage_that_matched_by_meaning_is_shown_as_it_is(self) -> None:
        marked = highlight("Losverfahren & Moderation", "citizens' assembly by lot")
        assert str(marked) == "Losverfahren &amp; Moderation"


class TestStandalonePassage:
    def test_a_sentence_that_leans_on_the_one_before_comes_with_it(self) -> None:
        sentences = ["Wir haben eine Beteiligungssatzung.", "Sie regelt die Vorhabenliste."]
        assert standalone(sentences, 1) == (
            "Wir haben eine Beteiligungssatzung. Sie regelt die Vorhabenliste."
        )

    def test_a_sentence_that_stands_alone_comes_alone(self) -> None:
        sentences = ["Ich leite das Jugendbüro.", "Wir arbeiten mit offenen Foren."]
        assert standalone(sentences, 1) == "Wir arbeiten mit offenen Foren."
        assert standalone(["Dabei half die Presse."], 0) == "Dabei half die Presse."

    def test_a_chain_of_leaning_sentences_is_followed_back(self) -> None:
        sentences = [
            "Heiko Brinkmann ist im Klimaschutzmanagement tätig.",
            "Er begleitet die Ausweisung von Vorranggebieten.",
            "Außerdem berät er Gemeinden bei Bürgerwindparks.",
        ]
        assert standalone(sentences, 2) == " ".join(sentences)

    def test_pronouns_and_pointing_words_lean(self) -> None:
        for opening in ("Er", "Sie", "Dabei", "Dort", "Außerdem", "Diese", "Seitdem"):
            assert leans_on_previous(f"{opening} ging es um Verkehr.")
        for opening in ("Ich", "Wir", "Jeder", "Die Stadt"):
            assert not leans_on_previous(f"{opening} plante den Verkehr.")
