"""The sandbox's ABHA card draws Gujarati and Hindi names in a font that has their letters (Noto's Gujarati and
Devanagari fonts), not as boxes: over HTTP, two names of the same shape but different letters give different
name rows, where a font without the script would draw the same row of boxes for both."""

import io

import pytest
from PIL import Image, ImageChops

from abdm_sandbox.abha.testing import AbhaClient

NAME_ROW = (32, 116, 680, 178)  # the name, above the ABHA number row (the residents here have no photo)


@pytest.fixture(scope="module")
def abha(abdm_sandbox):
    return AbhaClient(abdm_sandbox)


def _card(abha, name: str) -> Image.Image:
    person = abha.define_resident(name=name, gender="F", dob="1990-05-23")
    token = abha.enrol_person(person)["tokens"]["token"]
    answer = abha.call("GET", "/v3/profile/account/abha-card", x_token=token)
    assert answer.status_code == 200, answer.text
    return Image.open(io.BytesIO(answer.content)).convert("RGB")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ધવલ જોશી", "કમલ પટેલ"),  # Gujarati, 3 + 1 + 4 code points each
        ("धवल जोशी", "कमल पटेल"),  # Hindi, the same shape
    ],
)
def test_an_indic_name_is_drawn_in_letters_not_boxes(abha, first, second):
    one, two = _card(abha, first).crop(NAME_ROW), _card(abha, second).crop(NAME_ROW)
    assert ImageChops.difference(one, two).getbbox() is not None  # boxes would be the same for both
    assert one.convert("L").getextrema()[0] < 128  # and the row has ink on it
