"""Money as Decimal: exact sums, one rounding at the presentation boundary.

Prometheus returns floats as decimal strings; they become Decimals unchanged, are added exactly,
and are rounded only when a figure is written out, half to even (banker's rounding), to cents
(per-request figures to 1/100 of a cent).
"""

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")
HUNDREDTH_CENT = Decimal("0.0001")
NO_DATA = "no data"


def decimal_of(sample_value: str) -> Decimal | None:
    """A Prometheus/Loki sample value as a Decimal; NaN and infinities have no amount."""
    try:
        value = Decimal(sample_value)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


def usd(amount: Decimal | None) -> str:
    """`$1,234.57`, `-$0.50`, or `no data`."""
    if amount is None:
        return NO_DATA
    rounded = to_cents(amount)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,.2f}"


def usd_fine(amount: Decimal | None) -> str:
    """Sub-cent amounts such as a cost per request: `$0.0042`."""
    if amount is None:
        return NO_DATA
    rounded = amount.quantize(HUNDREDTH_CENT, rounding=ROUND_HALF_EVEN)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,.4f}"


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    """numerator / denominator, or None when either is missing or the denominator is zero."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def percent(part: Decimal | None, whole: Decimal | None) -> str:
    share = ratio(part, whole)
    if share is None:
        return NO_DATA
    return f"{(share * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN)}%"


def signed_percent(change: Decimal | None) -> str:
    """A relative change such as `+12.5%`; `new` when there was nothing before."""
    if change is None:
        return "new"
    rounded = (change * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    return f"{'+' if rounded >= 0 else ''}{rounded}%"


def count(amount: Decimal | None) -> str:
    """A whole count (requests, tokens) from increase(), which extrapolates to fractions."""
    if amount is None:
        return NO_DATA
    return f"{amount.quantize(Decimal(1), rounding=ROUND_HALF_EVEN):,}"
