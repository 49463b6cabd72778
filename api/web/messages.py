"""German messages for everything a person can get wrong: form validation and domain errors.

The services speak English to the API; the web interface says the same in German. Known
domain messages are recognized by their wording (names in them are kept); anything else gets
the general German message of its kind, never the English text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from models.questions import Fit
from models.requests import RequestStatus
from service.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotAuthenticated,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unprocessable,
)


def german_number(value: int) -> str:
    """10000 as a German reads it: 10.000."""
    return f"{value:,}".replace(",", ".")


def _number(value: object) -> str:
    return german_number(value) if isinstance(value, int) else str(value)


STATUS_LABELS: dict[str, str] = {
    RequestStatus.pending: "ausstehend",
    RequestStatus.accepted: "angenommen",
    RequestStatus.declined: "abgelehnt",
    RequestStatus.withdrawn: "zurückgezogen",
    RequestStatus.expired: "abgelaufen",
}

# How well a suggested colleague fits a question (``Suggestion.fit``).
FIT_LABELS: dict[str, str] = {
    Fit.strong: "Passt gut",
    Fit.partial: "Passt teilweise",
    Fit.weak: "Passt kaum",
}

_ACTIONS: dict[str, str] = {
    "accepted": "Annehmen",
    "declined": "Ablehnen",
    "withdrawn": "Zurückziehen",
}

_DECISIONS: dict[str, str] = {"approved": "angenommen", "declined": "abgelehnt"}

# Labels of form fields, used in messages that are shown away from the field.
FIELD_LABELS: dict[str, str] = {
    "name": "Name",
    "email": "E-Mail-Adresse",
    "role": "Funktion",
    "expertise": "Erfahrung und Expertise",
    "tags": "Schlagwörter",
    "languages": "Sprachen",
    "accepting_requests": "Anfragen annehmen",
    "max_open_requests": "Höchstens so viele offene Anfragen",
    "municipality_name": "Name der Kommune",
    "municipality_state": "Bundesland",
    "municipality_kind": "Art der Kommune",
    "title": "Titel",
    "body": "Ihre Frage",
    "member_ids": "Auswahl",
    "message": "Nachricht",
    "helpful": "Wie hilfreich",
    "comment": "Kommentar",
    "token": "Zugangsschlüssel",
    "consent": "Einwilligung",
    "reason": "Begründung",
}

_ITEM_LABELS: dict[str, str] = {"tags": "Schlagwort", "languages": "Sprache"}


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str  # the form field's name, e.g. "municipality_name"
    message: str


class FormErrors:
    """Messages per form field, in the order the fields were checked."""

    def __init__(self, problems: Sequence[FieldProblem] = ()) -> None:
        self.problems = list(problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def add(self, field: str, message: str) -> None:
        self.problems.append(FieldProblem(field, message))

    def get(self, field: str) -> list[str]:
        return [problem.message for problem in self.problems if problem.field == field]

    def summary(self) -> list[tuple[str, str]]:
        """(field, message) pairs for the list at the top of the page, each message naming its
        field (away from the field, "Bitte füllen Sie dieses Feld aus." alone says too little)."""
        return [(problem.field, _with_label(problem)) for problem in self.problems]


def _with_label(problem: FieldProblem) -> str:
    label = FIELD_LABELS.get(problem.field)
    item = _ITEM_LABELS.get(problem.field)
    if label is None or (item is not None and problem.message.startswith(item)):
        return problem.message
    return f"{label}: {problem.message}"


def validation_message(field: str, error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    context: Mapping[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    if field == "consent":
        return (
            "Bitte stimmen Sie der Verarbeitung Ihrer Angaben zu; ohne Ihre Einwilligung können "
            "wir die Bewerbung nicht bearbeiten."
        )
    if (
        kind == "missing"
        or (kind == "string_too_short" and context.get("min_length") == 1)
        or (kind == "value_error" and "visible characters" in str(error.get("msg", "")))
    ):
        return {
            "member_ids": "Bitte wählen Sie mindestens eine Kollegin oder einen Kollegen aus.",
            "helpful": "Bitte wählen Sie aus, wie hilfreich die Beratung war.",
        }.get(field, "Bitte füllen Sie dieses Feld aus.")
    if kind == "string_too_long":
        return (
            f"Bitte fassen Sie sich kürzer: höchstens {_number(context.get('max_length'))} Zeichen."
        )
    if kind == "too_long":
        if field == "member_ids":
            return (
                f"Sie können höchstens {_number(context.get('max_length'))} Personen auf einmal "
                "einladen."
            )
        return f"Höchstens {_number(context.get('max_length'))} Einträge."
    if kind == "too_short" and field == "member_ids":
        return "Bitte wählen Sie mindestens eine Kollegin oder einen Kollegen aus."
    if kind == "string_pattern_mismatch" and field == "languages":
        return (
            f"„{value}“ ist kein Sprachkürzel. Bitte geben Sie Sprachen als Kürzel aus zwei "
            "oder drei Buchstaben an, z. B. de, en, fr."
        )
    if field.endswith("state") and kind == "value_error":
        return (
            f"„{value}“ kennen wir nicht als Bundesland. Bitte wählen Sie ein Bundesland aus "
            "der Liste (in Österreich ein Bundesland, in der Schweiz einen Kanton); übliche "
            "Abkürzungen wie RLP oder NRW gehen auch."
        )
    if kind == "string_pattern_mismatch" and field == "member_ids":
        return (
            "Diese Auswahl kennen wir nicht. Bitte laden Sie die Seite neu und wählen Sie erneut."
        )
    if kind == "value_error" and "NUL" in str(error.get("msg", "")):
        return (
            "Der Text enthält ein unzulässiges Zeichen (ein Steuerzeichen oder ein halbes "
            "Sonderzeichen). Bitte entfernen Sie es."
        )
    if field == "email" or (kind == "value_error" and "email" in str(error.get("msg", ""))):
        return "Bitte geben Sie eine gültige E-Mail-Adresse an, z. B. name@kommune.de."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "Bitte geben Sie eine ganze Zahl an."
    if kind in ("greater_than_equal", "greater_than"):
        if field == "helpful":
            return "Bitte wählen Sie einen Wert von 1 bis 5."
        return f"Bitte geben Sie mindestens {context.get('ge', context.get('gt'))} an."
    if kind in ("less_than_equal", "less_than"):
        if field == "helpful":
            return "Bitte wählen Sie einen Wert von 1 bis 5."
        return f"Bitte geben Sie höchstens {context.get('le', context.get('lt'))} an."
    return "Diese Angabe ist ungültig. Bitte prüfen Sie sie."


def validation_errors(exc: ValidationError, *, prefix: str = "") -> FormErrors:
    """German messages for a pydantic error; ``prefix`` names a nested model's fields."""
    errors = FormErrors()
    for error in exc.errors():
        location = [prefix] if prefix else []
        index: int | None = None
        for part in error.get("loc", ()):
            if isinstance(part, int):
                index = part
            else:
                location.append(str(part))
        field = "_".join(location) or "form"
        message = validation_message(field, error)
        if index is not None and field in _ITEM_LABELS:
            message = f"{_ITEM_LABELS[field]} {index + 1}: {message}"
        errors.add(field, message)
    return errors


_Translation = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

_KNOWN: tuple[_Translation, ...] = (
    (
        re.compile(r"^(?P<name>.+) is not accepting requests at the moment\.$", re.S),
        lambda m: f"{m['name']} nimmt gerade keine Anfragen an.",
    ),
    (
        re.compile(r"^(?P<name>.+) has no capacity for further requests right now\.$", re.S),
        lambda m: f"{m['name']} hat gerade keine Kapazität für weitere Anfragen.",
    ),
    (
        re.compile(r"^(?P<name>.+) has already been invited to this question\.$", re.S),
        lambda m: f"{m['name']} ist zu dieser Frage schon eingeladen.",
    ),
    (
        re.compile(r"^(?P<name>.+) works in your own municipality;", re.S),
        lambda m: (
            f"{m['name']} arbeitet in Ihrer eigenen Kommune. peerconsult vermittelt "
            "Kolleginnen und Kollegen aus anderen Kommunen."
        ),
    ),
    (
        re.compile(r"^You cannot invite yourself\.$"),
        lambda m: "Sie können sich nicht selbst einladen.",
    ),
    (
        re.compile(r"^A member with the e-mail address (?P<email>.+) exists already\.$", re.S),
        lambda m: f"Es gibt schon ein Mitglied mit der E-Mail-Adresse {m['email']}.",
    ),
    (
        re.compile(r"^The request is (?P<status>\w+); only a pending request can be (?P<to>\w+)"),
        lambda m: (
            f"Diese Anfrage ist bereits {STATUS_LABELS.get(m['status'], m['status'])}. "
            f"{_ACTIONS.get(m['to'], 'Das')} geht nur, solange eine Anfrage aussteht."
        ),
    ),
    (
        re.compile(r"^The request is (?P<status>\w+); feedback is for accepted consultations"),
        lambda m: (
            f"Diese Anfrage ist {STATUS_LABELS.get(m['status'], m['status'])}. Eine Rückmeldung "
            "gibt es nur zu angenommenen Beratungen."
        ),
    ),
    (
        re.compile(r"^Feedback for this consultation has been given already\.$"),
        lambda m: "Zu dieser Beratung haben Sie schon eine Rückmeldung gegeben. Danke!",
    ),
    (
        re.compile(r"^Only the coordinator can change a member's municipality\.$"),
        lambda m: "Die Kommune eines Mitglieds kann nur die Koordination ändern.",
    ),
    (
        re.compile(r"^No member with id"),
        lambda m: "Dieses Mitglied gibt es nicht (mehr).",
    ),
    (
        re.compile(r"^No question with id"),
        lambda m: "Diese Frage gibt es nicht (mehr).",
    ),
    (
        re.compile(r"^No application with id"),
        lambda m: "Diese Bewerbung gibt es nicht (mehr).",
    ),
    (
        re.compile(r"^The application is (?P<status>\w+); it was decided already\.$"),
        lambda m: (
            "Über diese Bewerbung ist schon entschieden: Sie ist "
            f"{_DECISIONS.get(m['status'], m['status'])}."
        ),
    ),
    (
        re.compile(r"^(?P<name>.+) has no e-mail address to send a welcome to\.$", re.S),
        lambda m: (
            f"{m['name']} hat keine E-Mail-Adresse. Tragen Sie zuerst eine ein, dann "
            "können Sie die Willkommens-E-Mail schicken."
        ),
    ),
    (
        re.compile(r"^No request with id"),
        lambda m: "Diese Anfrage gibt es nicht (mehr).",
    ),
    (
        re.compile(r"^You cannot offer help on your own question\.$"),
        lambda m: "Zu Ihrer eigenen Frage können Sie keine Hilfe anbieten.",
    ),
    (
        re.compile(r"^The question comes from your own municipality"),
        lambda m: (
            "Die Frage kommt aus Ihrer eigenen Kommune; peerconsult bringt Kolleginnen und "
            "Kollegen aus verschiedenen Kommunen zusammen."
        ),
    ),
    (
        re.compile(r"^The question is not open \(any more\)"),
        lambda m: "Die Frage ist nicht mehr offen: Wer sie gestellt hat, hat sie geschlossen.",
    ),
    (
        re.compile(r"^You have a request on this question already"),
        lambda m: (
            "Zu dieser Frage haben Sie schon eine Anfrage oder ein Angebot; Sie finden es unter "
            "„Meine Anfragen“."
        ),
    ),
    (
        re.compile(r"^You are not accepting requests at the moment"),
        lambda m: (
            "Sie nehmen gerade keine Anfragen an. Wenn Sie helfen möchten, ändern Sie das "
            "zuerst in Ihrem Profil."
        ),
    ),
    (
        re.compile(r"^You have no capacity for further requests right now\.$"),
        lambda m: (
            "Sie haben gerade so viele offene Anfragen, wie Sie in Ihrem Profil angegeben "
            "haben. Schließen Sie erst eine ab oder erhöhen Sie die Zahl."
        ),
    ),
    (
        re.compile(r"^Only the member who asked the question can open or close it\.$"),
        lambda m: "Öffnen oder schließen kann eine Frage nur, wer sie gestellt hat.",
    ),
)

_GENERAL: tuple[tuple[type[DomainError], str], ...] = (
    (NotAuthenticated, "Bitte melden Sie sich an."),
    (Forbidden, "Das dürfen Sie leider nicht: Es gehört jemand anderem."),
    (NotFound, "Das gibt es nicht (mehr). Vielleicht wurde es gelöscht oder der Link ist falsch."),
    (
        Conflict,
        "Das geht gerade nicht mehr. Bitte laden Sie die Seite neu und versuchen Sie es noch "
        "einmal.",
    ),
    (Unprocessable, "Diese Eingabe passt nicht. Bitte prüfen Sie sie."),
    (
        ServiceUnavailable,
        "Das geht auf diesem Server nicht: Er verschickt keine E-Mails. Bitte wenden Sie sich "
        "an die IT, die peerconsult betreibt.",
    ),
)


def domain_message(exc: DomainError) -> str:
    """The German message for an expected business error."""
    if isinstance(exc, TooManyRequests):
        return too_many_attempts(exc.retry_after)
    for pattern, translate in _KNOWN:
        match = pattern.search(exc.detail)
        if match:
            return translate(match)
    for kind, message in _GENERAL:
        if isinstance(exc, kind):
            return message
    return "Das hat leider nicht geklappt. Bitte prüfen Sie Ihre Eingaben."


def _minutes(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "eine Minute" if minutes == 1 else f"{minutes} Minuten"


def too_many_attempts(seconds: int) -> str:
    return (
        "Zu viele fehlgeschlagene Anmeldeversuche von diesem Gerät. Bitte warten Sie "
        f"{_minutes(seconds)} und versuchen Sie es dann noch einmal."
    )


def too_many_submissions(seconds: int) -> str:
    return (
        "Von diesem Gerät kamen gerade sehr viele Anfragen. Bitte warten Sie "
        f"{_minutes(seconds)} und senden Sie das Formular dann noch einmal."
    )


def seconds_until(until: datetime) -> int:
    return max(1, math.ceil((until - datetime.now(UTC)).total_seconds()))
