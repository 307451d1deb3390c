"""The command line, python -m fastloss: demo, bench, config. Nothing imports it."""

import argparse


def _whole_number(text):
    """int of `text`: digits, or a finite whole number such as 1e6; else ValueError."""
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if not value.is_integer():  # also inf and nan
            raise ValueError(text) from None
        return int(value)


def integers(low, high=None, *, many=False):
    """An argparse type: an integer in [low, high] (high None: no upper bound), written
    as digits or like 1e6; with many=True a comma-separated list of them."""
    bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
    expected = f"comma-separated integers {bounds}" if many else f"an integer {bounds}"

    def parse(text):
        items = [item for item in text.split(",") if item.strip()] if many else [text]
        try:
            values = [_whole_number(item) for item in items]
        except ValueError:
            values = []
        if not values or not all(low <= v and (high is None or v <= high) for v in values):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return values if many else values[0]

    return parse
