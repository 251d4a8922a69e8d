# Fixed-point helpers shared by q88 (the public scalar API) and training, kept
# small so that training need not load all of q88. Integer only. Spec: docs/arithmetic.md.


def fixed_str(v, frac_bits, digits=4):
    """Decimal text of the int v / 2^frac_bits (frac_bits 0..30, digits 0..9), as to_str rounds it."""
    if type(v) is not int:
        raise TypeError("fixed_str: v must be an int, got %s" % type(v).__name__)
    if type(frac_bits) is not int or frac_bits < 0 or frac_bits > 30:
        raise ValueError("fixed_str: frac_bits=%r is not an int in 0..30" % (frac_bits,))
    if type(digits) is not int or digits < 0 or digits > 9:
        raise ValueError("fixed_str: digits=%r is not an int in 0..9" % (digits,))
    neg = v < 0
    m = -v if neg else v
    scale = 10 ** digits
    one = 1 << frac_bits
    r = (m * scale * 2 + one) // (2 * one)   # round(m * 10^digits / 2^frac_bits), half up on |v|
    ip = r // scale
    s = str(ip)
    if digits:
        fp = str(r - ip * scale)
        s = s + "." + "0" * (digits - len(fp)) + fp
    if neg and r:
        s = "-" + s
    return s


def parse_fixed(text, frac_bits, name="text"):
    """The nearest int to text * 2^frac_bits (round half up), for any decimal text; no range check.

    parse_fixed('0.01', 16) == 655: how training takes hyperparameters like a learning rate.
    """
    if type(text) is not str:
        raise TypeError("%s must be a decimal string, got %s" % (name, type(text).__name__))
    if type(frac_bits) is not int or frac_bits < 0 or frac_bits > 30:
        raise ValueError("parse_fixed: frac_bits=%r is not an int in 0..30" % (frac_bits,))
    s = text.strip()
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    dot_at = s.find(".")
    if dot_at < 0:
        ip, fp = s, ""
    else:
        ip, fp = s[:dot_at], s[dot_at + 1:]
    if not (ip or fp) or not _digits_only(ip) or not _digits_only(fp):
        raise ValueError("%s=%r is not a decimal number" % (name, text))
    num = int(ip + fp)
    if neg:
        num = -num
    den = 10 ** len(fp)
    # round half up: floor(num * 2^frac_bits / den + 1/2)
    return (2 * num * (1 << frac_bits) + den) // (2 * den)


def isqrt(n):
    """floor(sqrt(n)) for an int n >= 0, integer only (Newton's method)."""
    if type(n) is not int or n < 0:
        raise ValueError("isqrt needs an int >= 0")
    if n < 2:
        return n
    x = n
    y = (x + 1) >> 1
    while y < x:
        x = y
        y = (x + n // x) >> 1
    return x


def _digits_only(s):
    for c in s:
        if c < "0" or c > "9":
            return False
    return True


# ---- hyperparameters of training code: optimizers and trainers load this module for them (the
# call only: tinyrnn._once), so that building an optimizer needs the heap of one small module
def q16(value, name, lo=0, hi=None):
    """A hyperparameter as a Q.16 int, from a decimal string or a raw int, range-checked."""
    if type(value) is str:
        v = parse_fixed(value, 16, name)
    elif type(value) is int:
        v = value
    else:
        raise TypeError("%s must be a decimal string like '0.01' or a raw Q.16 int, got %s"
                        % (name, type(value).__name__))
    if v < lo or (hi is not None and v > hi):
        raise ValueError("%s=%r is out of range: %s .. %s" % (name, value, _dec(lo), "" if hi is None else _dec(hi)))
    return v


def q16s(*args):
    """q16() of each (value, name, lo, hi) in turn: an optimizer's hyperparameters, as a list."""
    return [q16(*args[i:i + 4]) for i in range(0, len(args), 4)]


def _dec(v):
    # a Q.16 bound as short decimal text: 0.0000153 .. 1
    s = fixed_str(v, 16, 7)
    while s[-1] == "0":
        s = s[:-1]
    return s[:-1] if s[-1] == "." else s
