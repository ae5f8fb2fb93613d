"""The shared order ID (DESIGN invariant 1).

Nine random symbols from Crockford's base-32 alphabet (no I, L, O or U, so nothing reads as
another symbol over the phone) and one check symbol computed with the Damm algorithm over the
field GF(32), which catches every single mistyped symbol and every swap of two adjacent symbols
(Luhn mod 32 does not: it misses swapping 0 and Z, as Luhn mod 10 misses 09/90). 32**9 is
about 3.5e13 possible IDs: sequential guessing is hopeless, and the IDs leak no order volume.

Stored canonical (``K7QM3XPA9Z``), shown grouped (``K7QM3-XPA9Z``). People may type it in any
case, with spaces or dashes, and with the usual confusions (O for 0, I or L for 1).
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INDEX = {symbol: value for value, symbol in enumerate(ALPHABET)}
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
BODY_LENGTH = 9
LENGTH = BODY_LENGTH + 1


class InvalidOrderId(ValueError):
    """The text cannot be an order ID: wrong length, a foreign symbol, or a failed check."""


# GF(32) as polynomials over GF(2) modulo the primitive x^5 + x^2 + 1. The Damm quasigroup
# a * b = x*a + b is totally anti-symmetric because x != 1, which is what catches every swap.
_FIELD_MODULUS = 0b100101


def _times_x(value: int) -> int:
    value <<= 1
    return value ^ _FIELD_MODULUS if value & 0b100000 else value


def check_symbol(body: str) -> str:
    """The Damm check symbol for ``body`` (canonical symbols only): the one symbol that brings
    the running value of the whole ID back to zero."""
    interim = 0
    for symbol in body:
        interim = _times_x(interim) ^ _INDEX[symbol]
    return ALPHABET[_times_x(interim)]


def generate() -> str:
    """A new random order ID in canonical form."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_symbol(body)


def normalize(text: str) -> str:
    """Canonical form of ``text``; raises InvalidOrderId if it cannot be a valid order ID."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -_.\t").translate(_CONFUSABLE)
    if len(cleaned) != LENGTH:
        raise InvalidOrderId(f"An order ID has {LENGTH} characters; this has {len(cleaned)}.")
    if any(ch not in _INDEX for ch in cleaned):
        raise InvalidOrderId("An order ID uses only letters and digits.")
    if check_symbol(cleaned[:-1]) != cleaned[-1]:
        raise InvalidOrderId("This is not a valid order ID: a character is mistyped.")
    return cleaned


def is_valid(text: str) -> bool:
    try:
        normalize(text)
    except InvalidOrderId:
        return False
    return True


def display(order_id: str) -> str:
    """Grouped for reading aloud: K7QM3-XPA9Z."""
    return f"{order_id[:5]}-{order_id[5:]}"
