"""Wrong calls get clear errors naming what was wrong (lib under CPython; the VM
runs the same checks in device_tests/test_q88.py)."""
import pytest

from tinyrnn import act, q88
from tinyrnn.rng import Rng


@pytest.mark.parametrize("bad, kind, words", [
    (1.5, TypeError, "a must be a Q8.8 int, got float"),
    ("3", TypeError, "got str"),
    (True, TypeError, "got bool"),
    (None, TypeError, "got NoneType"),
    (40000, ValueError, "a=40000 is outside Q8.8 range"),
    (-32769, ValueError, "outside"),
])
def test_non_q88_operand(bad, kind, words):
    for fn in (q88.mul, q88.add, q88.sub, q88.div):
        with pytest.raises(kind, match=words):
            fn(bad, 256)


def test_dot_names_the_element():
    with pytest.raises(TypeError, match=r"xs\[2\] must be a Q8.8 int, got float"):
        q88.dot([1, 2, 3], [1, 2, 0.5])
    with pytest.raises(ValueError, match=r"ws\[1\]=99999"):
        q88.dot([1, 99999], [1, 2])
    with pytest.raises(ValueError, match="2 weights but 3 inputs"):
        q88.dot([1, 2], [1, 2, 3])


@pytest.mark.parametrize("text", ["", "   ", "abc", "1.2.3", "-", "+-1", "1e3", "0x10", "1,5", ". ", "--2", "١"])
def test_unparsable_decimal(text):
    with pytest.raises(ValueError, match="is not a decimal number"):
        q88.from_str(text)


def test_out_of_range_decimal_and_int():
    with pytest.raises(ValueError, match="'128' is outside Q8.8 range"):
        q88.from_str("128")
    with pytest.raises(ValueError, match="outside"):
        q88.from_int(200)
    with pytest.raises(TypeError):
        q88.from_str(1.25)
    with pytest.raises(ValueError, match="digits must be"):
        q88.to_str(1, 9)


def test_division_by_zero():
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        q88.div(256, 0)


def test_rng_errors():
    with pytest.raises(TypeError, match="seed must be an int"):
        Rng(1.0)
    with pytest.raises(ValueError, match="1..2\\^30"):
        Rng(1).randbelow(2**31)


def test_activations_cover_every_int16():
    # no input of the whole range raises or leaves [lo, hi]
    for q in range(-32768, 32768, 7):
        assert 0 <= act.sigmoid(q) <= 256
        assert -256 <= act.tanh(q) <= 256
        assert 0 <= act.exp(q) <= 32767
