"""The fixed wording of the pages customers see (unsubscribe, an unavailable document), per language.

One dictionary per language, looked up through the customer's locale with the same fallback as template
variants (`de_CH` -> `de-CH` -> `de`), then English. Placeholders are filled by `Markup.format`, which
escapes what it is given, so an address can never inject markup into the page.
"""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup

from ccm.registry.locales import locale_chain

DEFAULT_LANGUAGE = "en"

CATALOGUE: dict[str, dict[str, str]] = {
    "en": {
        "unsubscribe.title": "Unsubscribe",
        "unsubscribe.ask": "Unsubscribe?",
        "unsubscribe.stop": "Stop marketing messages by {channel}",
        "unsubscribe.to": " to <strong>{address}</strong>",
        "unsubscribe.button": "Unsubscribe",
        "unsubscribe.kept": "Invoices, statements and security codes are not affected.",
        "unsubscribe.done": "You are unsubscribed",
        "unsubscribe.no_more": "We will no longer send marketing messages by {channel}",
        "unsubscribe.done_to": " to {address}",
        "unsubscribe.still": "Messages you need, such as invoices and security codes, will still reach you.",
        "document.title": "Document unavailable",
        "document.expired": "This document link has expired. Please ask us for a new one.",
        "document.gone": "This document is no longer available.",
        "preferences.title": "Your preferences",
        "preferences.channel": "Marketing by {channel} to <strong>{address}</strong>",
        "preferences.save": "Save my choices",
        "preferences.all": "Unsubscribe from all marketing",
        "preferences.saved": "Your preferences are saved.",
        "preferences.none": "We hold no address of yours to send marketing to.",
        "preferences.link": "Choose what we send you",
        "confirm.title": "Confirm your email address",
        "confirm.ask": "Receive our news and offers at <strong>{address}</strong>?",
        "confirm.button": "Yes, confirm",
        "confirm.done": "Thank you",
        "confirm.thanks": "Your address {address} is confirmed.",
        "feedback.title": "Your feedback",
        "feedback.chosen": "You chose <strong>{score}</strong> out of {top}.",
        "feedback.comment": "Anything you would like to tell us? (optional)",
        "feedback.button": "Send my answer",
        "feedback.done": "Thank you",
        "feedback.thanks": "Your answer has been recorded.",
        "channel.email": "email",
        "channel.sms": "SMS",
    },
    "it": {
        "unsubscribe.title": "Annulla l'iscrizione",
        "unsubscribe.ask": "Vuoi annullare l'iscrizione?",
        "unsubscribe.stop": "Non ricevere più messaggi promozionali via {channel}",
        "unsubscribe.to": " a <strong>{address}</strong>",
        "unsubscribe.button": "Annulla l'iscrizione",
        "unsubscribe.kept": "Fatture, estratti conto e codici di sicurezza continueranno ad arrivare.",
        "unsubscribe.done": "Iscrizione annullata",
        "unsubscribe.no_more": "Non ti invieremo più messaggi promozionali via {channel}",
        "unsubscribe.done_to": " a {address}",
        "unsubscribe.still": (
            "I messaggi necessari, come fatture e codici di sicurezza, continueranno ad arrivarti."
        ),
        "document.title": "Documento non disponibile",
        "document.expired": "Questo link al documento è scaduto. Chiedici di inviartene uno nuovo.",
        "document.gone": "Questo documento non è più disponibile.",
        "preferences.title": "Le tue preferenze",
        "preferences.channel": "Messaggi promozionali via {channel} a <strong>{address}</strong>",
        "preferences.save": "Salva le mie scelte",
        "preferences.all": "Annulla l'iscrizione a tutti i messaggi promozionali",
        "preferences.saved": "Le tue preferenze sono salvate.",
        "preferences.none": "Non abbiamo un tuo indirizzo a cui inviare messaggi promozionali.",
        "preferences.link": "Scegli che cosa ti inviamo",
        "confirm.title": "Conferma il tuo indirizzo email",
        "confirm.ask": "Vuoi ricevere le nostre novità e offerte a <strong>{address}</strong>?",
        "confirm.button": "Sì, confermo",
        "confirm.done": "Grazie",
        "confirm.thanks": "Il tuo indirizzo {address} è confermato.",
        "feedback.title": "La tua opinione",
        "feedback.chosen": "Hai scelto <strong>{score}</strong> su {top}.",
        "feedback.comment": "Vuoi dirci qualcosa? (facoltativo)",
        "feedback.button": "Invia la risposta",
        "feedback.done": "Grazie",
        "feedback.thanks": "La tua risposta è stata registrata.",
        "channel.email": "email",
        "channel.sms": "SMS",
    },
    "de": {
        "unsubscribe.title": "Abmelden",
        "unsubscribe.ask": "Abmelden?",
        "unsubscribe.stop": "Keine Werbenachrichten mehr per {channel}",
        "unsubscribe.to": " an <strong>{address}</strong>",
        "unsubscribe.button": "Abmelden",
        "unsubscribe.kept": "Rechnungen, Kontoauszüge und Sicherheitscodes sind davon nicht betroffen.",
        "unsubscribe.done": "Sie sind abgemeldet",
        "unsubscribe.no_more": "Wir senden Ihnen keine Werbenachrichten mehr per {channel}",
        "unsubscribe.done_to": " an {address}",
        "unsubscribe.still": (
            "Nachrichten, die Sie brauchen, wie Rechnungen und Sicherheitscodes, erhalten Sie weiterhin."
        ),
        "document.title": "Dokument nicht verfügbar",
        "document.expired": "Dieser Link zum Dokument ist abgelaufen. Bitte fordern Sie einen neuen an.",
        "document.gone": "Dieses Dokument ist nicht mehr verfügbar.",
        "preferences.title": "Ihre Einstellungen",
        "preferences.channel": "Werbenachrichten per {channel} an <strong>{address}</strong>",
        "preferences.save": "Auswahl speichern",
        "preferences.all": "Von allen Werbenachrichten abmelden",
        "preferences.saved": "Ihre Einstellungen sind gespeichert.",
        "preferences.none": "Wir haben keine Adresse von Ihnen, an die wir Werbung senden könnten.",
        "preferences.link": "Wählen Sie, was wir Ihnen senden",
        "confirm.title": "E-Mail-Adresse bestätigen",
        "confirm.ask": "Möchten Sie unsere Neuigkeiten und Angebote an <strong>{address}</strong> erhalten?",
        "confirm.button": "Ja, bestätigen",
        "confirm.done": "Vielen Dank",
        "confirm.thanks": "Ihre Adresse {address} ist bestätigt.",
        "feedback.title": "Ihre Meinung",
        "feedback.chosen": "Sie haben <strong>{score}</strong> von {top} gewählt.",
        "feedback.comment": "Möchten Sie uns etwas mitteilen? (optional)",
        "feedback.button": "Antwort senden",
        "feedback.done": "Vielen Dank",
        "feedback.thanks": "Ihre Antwort wurde gespeichert.",
        "channel.email": "E-Mail",
        "channel.sms": "SMS",
    },
}


def language_for(locale: str | None) -> str:
    """The catalogue language a customer in `locale` reads: the first of its fallback chain we have."""
    return next((tag for tag in locale_chain(locale) if tag in CATALOGUE), DEFAULT_LANGUAGE)


class Wording:
    """The catalogue of one language for a page template: `t("unsubscribe.stop", channel=...)`."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._texts: Mapping[str, str] = CATALOGUE[language]

    def __call__(self, key: str, **values: str) -> Markup:
        text = self._texts.get(key) or CATALOGUE[DEFAULT_LANGUAGE][key]
        return Markup(text).format(**values)  # noqa: S704 - the catalogue is ours; `format` escapes values

    def channel(self, channel: str) -> str:
        """A channel's name in this language; its key for a channel the catalogue does not name."""
        return self._texts.get(f"channel.{channel}", channel)


def wording_for(locale: str | None) -> Wording:
    return Wording(language_for(locale))
