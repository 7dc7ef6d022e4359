"""`phonenumbers.is_valid_number`, with a number's type matched against its region's patterns once.

For a country code several regions share (+1, +7, +39 Italy and the Vatican, +44 ...), the library finds the
number's region by matching its type against each region's patterns (`region_code_for_number`) and then
matches the type again against the region it found (`is_valid_number_for_region`): the same patterns, the
same number, the same answer — a third of an imported phone's cost. `is_valid_number` here walks the regions
exactly as the library's `_region_code_for_number_from_list` does and keeps the answer of that first match
(with the country-code check `is_valid_number_for_region` adds); a region picked by its leading digits, and
every code that has a single region, are still asked of the library. A test
(`tests/ccm/customers/test_phone_validity.py`) compares it with the library over every region's example
numbers and their neighbours.

`install` also turns on the library's own cache of compiled metadata patterns (`enable_pattern_cache`), so
each match does not look its pattern up in the `re` module's cache again.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumber, PhoneNumberType
from phonenumbers.phonenumberutil import _number_type_helper, national_significant_number
from phonenumbers.re_util import re_compile


def install() -> None:
    """Keep the library's compiled patterns (bounded: they come from its fixed metadata); idempotent."""
    phonenumbers.enable_pattern_cache()


def is_valid_number(number: PhoneNumber) -> bool:
    """What `phonenumbers.is_valid_number(number)` answers."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(number.country_code or 0)  # no code 0: None either way
    if regions is None or len(regions) == 1:
        return bool(phonenumbers.is_valid_number(number))
    national = national_significant_number(number)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if re_compile(metadata.leading_digits).match(national):
                return bool(phonenumbers.is_valid_number_for_region(number, region))
        elif _number_type_helper(national, metadata) != PhoneNumberType.UNKNOWN:
            return bool(metadata.country_code == number.country_code)
    return False
