"""Pure rules of api/households.py: masking phones, flat refs in URLs."""
import pytest

from api.errors import NotFound
from api.households import flat_key_of, flat_ref, mask_phone


@pytest.mark.parametrize("phone, masked", [("13812341234", "138****1234"), ("19900000001", "199****0001"),
                                           ("0710-3456789", "071****6789"), ("", "")])
def test_mask_phone__keeps_first_three_and_last_four(phone, masked):
    assert mask_phone(phone) == masked


def test_mask_phone__hides_the_middle_four_digits():
    assert "5678" not in mask_phone("13856781234")


@pytest.mark.parametrize("key", ["B003#U02#R00000501", "B001#U00#R00000101A", "B010#U01#R00001502-1"])
def test_flat_ref__round_trips_a_flat_key(key):
    assert "#" not in flat_ref(key)
    assert flat_key_of(flat_ref(key)) == key


@pytest.mark.parametrize("ref", ["", "B003.U02", "B003.U02.R501", "B003#U02#R00000501", "../etc", "B003.U02.R00000501.x"])
def test_flat_key_of__anything_but_a_flat_ref__is_not_found(ref):
    with pytest.raises(NotFound):
        flat_key_of(ref)
