"""The notes a page shows after a redirect (``?hinweis=…``), chosen by a fixed key: nothing
from the URL is echoed."""

from __future__ import annotations

NOTICES: dict[str, str] = {
    "profil": "Ihr Profil ist gespeichert.",
    "email-bestaetigen": "Ihr Profil ist gespeichert. Ihre neue E-Mail-Adresse gilt, sobald Sie "
    "sie mit dem Link bestätigt haben, den wir gerade an sie geschickt haben; bis dahin gilt die "
    "bisherige, und an diese haben wir einen Hinweis geschickt.",
    "eingeladen": "Ihre Einladung ist verschickt. Sie sehen sie unter „Meine Anfragen“.",
    "angenommen": "Sie haben die Anfrage angenommen. Unten steht, wie Sie einander erreichen.",
    "abgelehnt": "Sie haben die Anfrage abgelehnt.",
    "zurueckgezogen": "Sie haben die Anfrage zurückgezogen.",
    "rueckmeldung": "Danke für Ihre Rückmeldung!",
    "gespeichert": "Das Mitglied ist gespeichert.",
    "geloescht": "Das Mitglied und alle Daten zu ihm sind gelöscht.",
    "abgemeldet": "Sie sind abgemeldet.",
    "ueberall-abgemeldet": "Sie sind auf allen Geräten abgemeldet.",
    "konto-geloescht": "Ihr Konto und alle Daten dazu sind gelöscht. Danke, dass Sie dabei waren.",
    "entwurf": "Ihre Sitzung war abgelaufen. Ihre Frage ist aufbewahrt: Melden Sie sich wieder an, "
    "dann steht sie im Formular, und Sie können sie absenden.",
    "willkommen": "Die Willkommens-E-Mail mit dem Anmeldelink ist verschickt.",
    "aufgenommen": "Die Bewerbung ist angenommen; die neue Kollegin oder der neue Kollege hat "
    "eine Willkommens-E-Mail mit dem Anmeldelink bekommen.",
    "bewerbung-abgelehnt": "Die Bewerbung ist abgelehnt; die Person ist per E-Mail informiert.",
    "angeboten": "Ihr Angebot ist verschickt. Sobald die fragende Person es annimmt, sehen Sie "
    "hier, wie Sie einander erreichen.",
    "geoeffnet": "Ihre Frage ist offen: Kolleginnen und Kollegen, deren Erfahrung dazu passt, "
    "sehen sie und können Hilfe anbieten.",
    "geschlossen": "Ihre Frage ist geschlossen; niemand sieht sie mehr unter „Offene Fragen“.",
    "zusammenfassungen": "Die Zusammenfassungen sind unterwegs, an alle mit dieser Einstellung, "
    "die etwas Neues haben (jede höchstens einmal in ihrem Zeitraum).",
    "ergebnis": "Das Ergebnis ist gespeichert.",
    "ergebnis-geteilt": "Das Ergebnis ist gespeichert und mit dem Netzwerk geteilt. Wer Sie "
    "beraten hat, wird per E-Mail gefragt, ob er oder sie dabei mit Namen genannt werden möchte.",
    "genannt": "Sie werden auf dem geteilten Ergebnis mit Namen genannt.",
    "nicht-genannt": "Sie werden auf dem geteilten Ergebnis nicht mit Namen genannt.",
    "angeschrieben": "Die E-Mails sind unterwegs. Bei der Lücke steht, wen Sie wann angeschrieben "
    "haben; sobald jemand passende Erfahrung ergänzt, steht sie unter „Seitdem geschlossen“.",
    "niemand-gewaehlt": "Bitte wählen Sie mindestens eine Kollegin oder einen Kollegen aus, die "
    "Sie anschreiben möchten.",
}
