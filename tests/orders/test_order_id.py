"""The shared order ID (DESIGN invariant 1): short, random, and a mistyped ID is caught."""

from __future__ import annotations

import pytest

from orders import order_id

# A few fixed valid IDs (built from fixed bodies, so the check is exhaustive and repeatable),
# chosen to include the symbols at both ends of the alphabet side by side.
BODIES = ["000000000", "ZZZZZZZZZ", "0Z0Z0Z0Z0", "K7QM3XPA9", "Z0Y1X2W3V"]
VALID = [body + order_id.check_symbol(body) for body in BODIES]


def test_generated_ids_are_ten_canonical_symbols_and_valid():
    # When many IDs are drawn
    for _ in range(2000):
        oid = order_id.generate()
        # Then each is 10 symbols of the alphabet, passes its own check, and is canonical
        assert len(oid) == order_id.LENGTH == 10
        assert set(oid) <= set(order_id.ALPHABET)
        assert order_id.normalize(oid) == oid


def test_generated_ids_do_not_repeat_and_are_not_sequential():
    # When 20,000 IDs are drawn
    drawn = [order_id.generate() for _ in range(20_000)]
    # Then none repeats
    assert len(set(drawn)) == len(drawn)
    # ... and the first symbol is spread over the alphabet (no counter hiding in front)
    assert len({oid[0] for oid in drawn}) == len(order_id.ALPHABET)


@pytest.mark.parametrize("oid", VALID)
def test_normalize_accepts_what_people_type(oid):
    # Given a valid ID written the way people write and say it
    zero_as_o = oid.replace("0", "O")
    one_as_i = oid.replace("1", "I")
    one_as_l = oid.replace("1", "l")
    typed = [
        oid.lower(),
        f"  {oid[:5]}-{oid[5:]} ",
        f"{oid[:3]} {oid[3:6]} {oid[6:]}",
        "-".join(oid.lower()),
        zero_as_o,
        zero_as_o.lower(),
        one_as_i,
        one_as_l,
    ]
    # Then every form normalizes to the canonical ID
    for text in typed:
        assert order_id.normalize(text) == oid, text
        assert order_id.is_valid(text)


def test_every_single_symbol_mistyped_is_rejected():
    for oid in VALID:
        for position in range(order_id.LENGTH):
            for symbol in order_id.ALPHABET:
                if symbol == oid[position]:
                    continue
                # Given one symbol replaced by any other
                typo = oid[:position] + symbol + oid[position + 1 :]
                # Then the check symbol catches it
                assert not order_id.is_valid(typo), (oid, typo)


def test_every_swap_of_two_adjacent_symbols_is_rejected():
    for oid in VALID:
        for position in range(order_id.LENGTH - 1):
            if oid[position] == oid[position + 1]:
                continue
            swapped = oid[:position] + oid[position + 1] + oid[position] + oid[position + 2 :]
            assert not order_id.is_valid(swapped), (oid, swapped)


def test_every_pair_of_symbols_swapped_anywhere_is_rejected():
    # Given every ordered pair of different symbols, at every adjacent position (the last
    # position pairs the final body symbol with the check symbol itself)
    for a in order_id.ALPHABET:
        for b in order_id.ALPHABET:
            if a == b:
                continue
            for position in range(order_id.BODY_LENGTH - 1):
                body = "0" * position + a + b + "0" * (order_id.BODY_LENGTH - position - 2)
                oid = body + order_id.check_symbol(body)
                swapped = oid[:position] + b + a + oid[position + 2 :]
                # Then the swap is caught
                assert not order_id.is_valid(swapped), (oid, swapped)
    for oid in (order_id.generate() for _ in range(3000)):
        if oid[-2] != oid[-1]:
            assert not order_id.is_valid(oid[:-2] + oid[-1] + oid[-2]), oid


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "10 characters"),
        ("K7QM3XPA9", "10 characters"),
        ("K7QM3XPA9ZZ", "10 characters"),
        ("K7QM3XPA9!", "only letters and digits"),
        ("K7QM3XPAU9", "only letters and digits"),  # U is not in Crockford's alphabet
    ],
)
def test_malformed_text_is_refused_with_a_reason(text, problem):
    with pytest.raises(order_id.InvalidOrderId, match=problem):
        order_id.normalize(text)


def test_display_groups_five_and_five_for_reading_aloud():
    oid = VALID[3]
    assert order_id.display(oid) == f"{oid[:5]}-{oid[5:]}"
    # ... and the grouped form reads back as the same ID
    assert order_id.normalize(order_id.display(oid)) == oid
