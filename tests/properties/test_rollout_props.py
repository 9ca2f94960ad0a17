"""Properties of per-pair mode resolution (core/rollout.py invariants R1-R4)."""

from fnmatch import fnmatchcase

from hypothesis import given
from hypothesis import strategies as st

from exit_brain_plugin.core import Mode
from exit_brain_plugin.core.rollout import PairMode, resolve_mode


BASES = st.sampled_from(["ETH", "LTC", "XRP", "BTC", "DOGE", "SOL"])
QUOTES = st.sampled_from(["BTC", "USDT", "ETH", "USDT:USDT"])
PAIRS = st.builds(lambda base, quote: f"{base}/{quote}", BASES, QUOTES)
MODES = st.sampled_from(list(Mode))
DEFAULTS = st.sampled_from([Mode.ACT, Mode.OBSERVE])


@st.composite
def patterns(draw: st.DrawFn) -> str:
    """Return a pattern built from a pair by replacing parts with wildcards."""
    base, quote = draw(BASES), draw(QUOTES)
    base = draw(st.sampled_from([base, "*", base[0] + "*", "?" * len(base), f"[{base[0]}X]*"]))
    quote = draw(st.sampled_from([quote, "*", quote[0] + "*"]))
    return draw(st.sampled_from([f"{base}/{quote}", "*", f"{base}*"]))


ENTRIES = st.lists(
    st.builds(lambda key, mode: PairMode(key=key, mode=mode), st.one_of(PAIRS, patterns()), MODES),
    max_size=8,
    unique_by=lambda entry: entry.key,
)
CAUTION = [Mode.OFF, Mode.OBSERVE, Mode.ACT]


@given(pair=PAIRS, entries=ENTRIES, mode=MODES, default=DEFAULTS)
def test_exact_key_beats_every_pattern(pair, entries, mode, default):
    # R1
    others = [entry for entry in entries if entry.key != pair]
    assert resolve_mode(pair, [*others, PairMode(key=pair, mode=mode)], default) is mode
    assert resolve_mode(pair, [PairMode(key=pair, mode=mode), *others], default) is mode


@given(pair=PAIRS, entries=ENTRIES, default=DEFAULTS)
def test_longest_matching_pattern_decides(pair, entries, default):
    # R2, with R1 and R3: the reference written as a sort, not as a scan
    exact = [entry.mode for entry in entries if entry.key == pair and not entry.is_pattern]
    matching = [entry for entry in entries if entry.is_pattern and fnmatchcase(pair, entry.key)]
    if exact:
        expected = exact[0]
    elif matching:
        longest = max(len(entry.key) for entry in matching)
        tied = [entry.mode for entry in matching if len(entry.key) == longest]
        expected = min(tied, key=CAUTION.index)
    else:
        expected = default
    assert resolve_mode(pair, entries, default) is expected


@given(pair=PAIRS, entries=ENTRIES, default=DEFAULTS)
def test_unmatched_pair_uses_the_default(pair, entries, default):
    # R3
    unmatched = [
        entry
        for entry in entries
        if not (entry.key == pair or (entry.is_pattern and fnmatchcase(pair, entry.key)))
    ]
    assert resolve_mode(pair, unmatched, default) is default


@given(pair=PAIRS, entries=ENTRIES, default=DEFAULTS, data=st.data())
def test_resolution_ignores_key_order(pair, entries, default, data):
    # R4
    shuffled = data.draw(st.permutations(entries))
    assert resolve_mode(pair, shuffled, default) is resolve_mode(pair, entries, default)
