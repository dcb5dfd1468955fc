import pytest
from django.test import override_settings
from stdnum import luhn

from abha.identifiers import (
    IdentifierError,
    aadhaar_clean,
    aadhaar_display,
    abha_number_clean,
    abha_number_display,
    abha_number_generate,
    address_candidates,
    address_validate,
    mobile_clean,
)


def test_abha_numbers_are_14_digits_with_prefix_and_luhn_digit():
    numbers = {abha_number_generate() for _ in range(200)}
    assert len(numbers) == 200  # random, not sequential
    for number in numbers:
        assert len(number) == 14 and number.isdigit() and number.startswith("91")
        assert luhn.is_valid(number)


@override_settings(ABHA_NUMBER_PREFIX="14")
def test_abha_number_prefix_comes_from_settings():
    assert abha_number_generate().startswith("14")


def test_abha_number_input_with_dashes_or_spaces_and_typos():
    number = abha_number_generate()
    shown = abha_number_display(number)
    assert shown == f"{number[:2]}-{number[2:6]}-{number[6:10]}-{number[10:]}"
    assert abha_number_clean(shown) == number
    assert abha_number_clean(shown.replace("-", " ")) == number
    typo = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(IdentifierError, match="mistyped"):
        abha_number_clean(typo)
    with pytest.raises(IdentifierError, match="14 digits"):
        abha_number_clean("12345")


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
    number = abha_number_generate()
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
    assert aadhaar_display("2346") == "XXXX-XXXX-2346"


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
