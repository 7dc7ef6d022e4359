"""The words a customer may text back, and what each does: opt the number out of marketing SMS, back in,
or ask for help. Matching follows the carriers' practice (CTIA, and Twilio's own handling): the whole
message, trimmed and case-insensitive, is the keyword; "stop it please" is not STOP.

English: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT / START, UNSTOP, YES / HELP, INFO.
Italian: STOP, ANNULLA, BASTA, DISISCRIVI / INIZIA, ISCRIVI / AIUTO.
German: STOPP, ABMELDEN, ENDE, BEENDEN / ANMELDEN, STARTEN / HILFE.
"""

from __future__ import annotations

from enum import StrEnum


class Keyword(StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"


WORDS: dict[str, Keyword] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), Keyword.STOP),
    **dict.fromkeys(("ANNULLA", "BASTA", "DISISCRIVI"), Keyword.STOP),
    **dict.fromkeys(("STOPP", "ABMELDEN", "ENDE", "BEENDEN"), Keyword.STOP),
    **dict.fromkeys(("START", "UNSTOP", "YES", "INIZIA", "ISCRIVI", "ANMELDEN", "STARTEN"), Keyword.START),
    **dict.fromkeys(("HELP", "INFO", "AIUTO", "HILFE"), Keyword.HELP),
}


def keyword_of(body: str) -> Keyword | None:
    """The keyword a text message is, or None for anything else (which the service leaves alone)."""
    return WORDS.get(body.strip().strip(".!").upper())
