"""`phone_validity.is_valid_number` answers as `phonenumbers.is_valid_number` does, for the example number of
every type of every region (and non-geographic code) and for their neighbours: each last digit, one digit
more, one less, a changed leading digit."""

from __future__ import annotations

from collections.abc import Iterator

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType

from ccm.customers import phone_validity
from ccm.customers.schemas import normalise_phone


def examples() -> Iterator[PhoneNumber]:
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in PhoneNumberType.values():
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                yield number
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            yield number


def neighbours(number: PhoneNumber) -> Iterator[PhoneNumber]:
    digits = str(number.national_number)
    variants = {digits[:-1] + last for last in "0123456789"} | {digits + "5", digits[:-1]}
    variants |= {first + digits[1:] for first in "0123456789"}
    for variant in sorted(v for v in variants if v):
        yield PhoneNumber(
            country_code=number.country_code,
            national_number=int(variant),
            italian_leading_zero=number.italian_leading_zero,
            number_of_leading_zeros=number.number_of_leading_zeros,
        )


def test_every_example_and_neighbour_is_decided_as_the_library_decides() -> None:
    shared, decided = 0, {True: 0, False: 0}
    for example in examples():
        for number in (example, *neighbours(example)):
            expected = phonenumbers.is_valid_number(number)
            assert phone_validity.is_valid_number(number) == expected, number
            decided[expected] += 1
            shared += len(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(number.country_code or 0, ())) > 1
    assert shared > 1000 and min(decided.values()) > 1000  # both answers, on codes shared by regions


def test_the_vatican_and_italy_share_plus_39() -> None:
    assert normalise_phone("+39 06 698 12345") == "+390669812345"  # Vatican City, by its leading digits
    assert normalise_phone("+39 347 123 4567") == "+393471234567"
    assert phonenumbers.region_code_for_number(phonenumbers.parse("+390669812345")) == "VA"
