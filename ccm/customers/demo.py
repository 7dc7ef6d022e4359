"""Twenty demo customers for `make run`: three locales, some with phone numbers, stable ids."""

from __future__ import annotations

from sqlmodel import Session

from ccm.customers.schemas import CustomerUpsert
from ccm.customers.service import find_customer, upsert_customer

DEMO_PEOPLE = [
    ("Giulia", "Rossi", "it", "Europe/Rome", "+393471234501"),
    ("Marco", "Bianchi", "it", "Europe/Rome", "+393471234502"),
    ("Francesca", "Esposito", "it", "Europe/Rome", None),
    ("Luca", "Romano", "it", "Europe/Rome", "+393471234504"),
    ("Chiara", "Colombo", "it", "Europe/Rome", None),
    ("Alessandro", "Ricci", "it", "Europe/Rome", "+393471234506"),
    ("Sofia", "Marino", "it", "Europe/Rome", None),
    ("Oliver", "Smith", "en", "Europe/London", "+447911123456"),
    ("Amelia", "Jones", "en", "Europe/London", None),
    ("Harry", "Taylor", "en", "Europe/London", "+447911123458"),
    ("Isla", "Brown", "en", "America/New_York", None),
    ("Jack", "Wilson", "en", "America/New_York", "+12025550105"),
    ("Emily", "Davies", "en", "Australia/Sydney", None),
    ("Lukas", "Müller", "de", "Europe/Berlin", "+4915123456701"),
    ("Anna", "Schmidt", "de", "Europe/Berlin", None),
    ("Jonas", "Schneider", "de", "Europe/Berlin", "+4915123456703"),
    ("Lea", "Fischer", "de", "Europe/Vienna", None),
    ("Felix", "Weber", "de", "Europe/Zurich", "+41781234505"),
    ("Mia", "Wagner", "de", "Europe/Berlin", None),
    ("Paul", "Becker", "de", "Europe/Berlin", "+4915123456706"),
]


def seed_demo_customers(session: Session) -> int:
    """Create the demo customers that do not exist yet; returns how many were created."""
    created = 0
    for number, (first, last, locale, timezone, phone) in enumerate(DEMO_PEOPLE, start=1):
        external_id = f"c-{number}"
        if find_customer(session, external_id) is not None:
            continue
        email = f"{first}.{last}@example.com".lower().replace("ü", "ue")
        request = CustomerUpsert(
            email=email,
            phone=phone,
            locale=locale,
            timezone=timezone,
            attributes={
                "first_name": first,
                "last_name": last,
                "plan": "pro" if number % 3 == 0 else "basic",
            },
        )
        upsert_customer(session, external_id, request)
        created += 1
    return created
