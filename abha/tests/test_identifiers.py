import pytest
from django.test import override_settings

from abha.identifiers import (
    IdentifierError,
    aadhaar_clean,
    abha_number_clean,
    abha_number_display,
    address_candidates,
    address_validate,
    looks_like_abha_number,
    mobile_clean,
)

NUMBER = "91628545755116"


def test_abha_number_input_with_dashes_or_spaces_is_read_for_its_14_digits():
    shown = abha_number_display(NUMBER)
    assert shown == "91-6285-4575-5116"
    assert abha_number_clean(shown) == NUMBER
    assert abha_number_clean(shown.replace("-", " ")) == NUMBER
    with pytest.raises(IdentifierError, match="14 digits"):
        abha_number_clean("12345")
    with pytest.raises(IdentifierError, match="14 digits"):
        abha_number_clean("9162854575511x")


def test_an_abha_number_is_never_refused_for_a_check_digit():
    """ABDM publishes no checksum: any 14 digits are an ABHA number's shape (what ABDM issues decides the rest)."""
    for last in "0123456789":
        number = NUMBER[:-1] + last
        assert abha_number_clean(number) == number and looks_like_abha_number(number)
    assert not looks_like_abha_number("١٢٣٤٥٦٧٨٩٠١٢٣٤")  # Arabic-Indic digits are not ASCII digits


@pytest.mark.parametrize("local", ["asha.patel", "asha_patel90", "ASHA.Patel", "a1b2c3d4", "asha.p_1990", "x" * 18])
def test_valid_abha_addresses(local):
    assert address_validate(local) == local.lower()


@pytest.mark.parametrize(
    "local, message",
    [
        ("asha", "8 to 18"),
        ("x" * 19, "8 to 18"),
        ("asha..patel", "at most one dot"),
        ("a.sha.patel", "at most one dot"),
        ("as_ha_patel", "at most one"),
        (".ashapatel", "first or last"),
        ("ashapatel_", "first or last"),
        ("asha patel", "English letters"),
        ("आशापटेल12345", "English letters"),
        ("12345678", "only digits"),
    ],
)
def test_invalid_abha_addresses(local, message):
    with pytest.raises(IdentifierError, match=message):
        address_validate(local)


def test_own_abha_number_is_the_only_all_digit_address():
    number = NUMBER
    assert address_validate(number, own_number=number) == number
    with pytest.raises(IdentifierError):
        address_validate(number)


def test_address_suffix_is_stripped_and_configurable():
    assert address_validate("Asha.Patel@sbx") == "asha.patel"
    with override_settings(ABHA_ADDRESS_SUFFIX="abdm"):
        assert address_validate("asha.patel@abdm") == "asha.patel"


def test_suggestions_follow_the_rules_even_for_names_in_gujarati_script():
    for first, last in [("Asha", "Patel"), ("આશા", "પટેલ"), ("Jo", ""), ("Ánanya", "D'Souza")]:
        candidates = address_candidates(first_name=first, last_name=last, year_of_birth=1990)
        assert len(candidates) >= 3
        for candidate in candidates:
            assert address_validate(candidate) == candidate


def test_aadhaar_rules_from_python_stdnum():
    assert aadhaar_clean("2341 2341 2346") == "234123412346"
    for bad in ["234123412345", "123412341234", "23412341234", "abcd", "", "999999999999"]:
        with pytest.raises(IdentifierError, match="not valid"):
            aadhaar_clean(bad)


def test_mobile_rules():
    assert mobile_clean("+91 98765 43210") == "9876543210"
    for bad in ["12345", "5876543210", "98765432101"]:
        with pytest.raises(IdentifierError, match="10-digit"):
            mobile_clean(bad)


@pytest.mark.parametrize(
    "name, latin",
    [("આશા પટેલ", "asha patel"), ("રમેશ", "ramesh"), ("कविता शर्मा", "kavita sharma"), ("સંજય", "sanjay")],
)
def test_names_in_gujarati_or_hindi_are_romanized_for_suggestions(name, latin):
    from abha.identifiers import romanize

    assert romanize(name) == latin


def test_suggestions_from_a_gujarati_name_read_like_the_name():
    assert address_candidates(first_name="આશા", last_name="પટેલ", year_of_birth=1990)[0] == "asha.patel"
