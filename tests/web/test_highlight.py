"""Marking the words a passage shares with the question."""

from __future__ import annotations

from api.web.highlight import highlight


class TestHighlight:
    def test_marks_shared_words_and_their_inflections(self) -> None:
        marked = highlight(
            "Wir haben Bürgerräte per Los besetzt.", "Wie besetzt man einen Bürgerrat?"
        )
        assert str(marked) == "Wir haben <mark>Bürgerräte</mark> per Los <mark>besetzt</mark>."

    def test_joins_neighbouring_words(self) -> None:
        marked = highlight("Die Jugendbeteiligung Satzung steht.", "Jugendbeteiligung Satzung?")
        assert "<mark>Jugendbeteiligung Satzung</mark>" in str(marked)

    def test_ignores_stopwords_and_short_words(self) -> None:
        marked = highlight("Das ist in der Stadt so.", "Das ist in der Gemeinde so.")
        assert str(marked) == "<mark>Das ist in der Stadt so.</mark>"

    def test_escapes_the_passage(self) -> None:
        marked = highlight("<script>Bürgerrat</script>", "Bürgerrat")
        assert "<script>" not in str(marked)
        assert str(marked) == "&lt;script&gt;<mark>Bürgerrat</mark>&lt;/script&gt;"

    def test_marks_the_whole_passage_when_it_matched_by_meaning(self) -> None:
        marked = highlight("Losverfahren & Moderation", "citizens' assembly by lot")
        assert str(marked) == "<mark>Losverfahren &amp; Moderation</mark>"
