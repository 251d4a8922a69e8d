# A tour of tinyrnn's Q8.8 core, runnable on a board or the VM:
#   mpremote connect PORT run examples/q88_tour.py     (lib/tinyrnn copied to the board's /lib)
#   tinyrnn run examples/q88_tour.py                    (on the MicroPython VM)
from tinyrnn import act, q88
from tinyrnn.rng import Rng

a = q88.from_str("1.5")
b = q88.from_str("-0.75")
print("a =", q88.to_str(a), " b =", q88.to_str(b), " (raw", a, b, ")")
print("a * b =", q88.to_str(q88.mul(a, b)))
print("a / b =", q88.to_str(q88.div(a, b)))
print("100 + 100 saturates to", q88.to_str(q88.add(q88.from_int(100), q88.from_int(100)), 8))
print("dot([1.5, -0.75], [2, 4]) + 0.25 =",
      q88.to_str(q88.dot([a, b], [q88.from_int(2), q88.from_int(4)], q88.from_str("0.25"))))
for s in ("-2", "0", "0.5", "2"):
    x = q88.from_str(s)
    print("x=%-4s sigmoid %s  tanh %s  exp %s" % (s, q88.to_str(act.sigmoid(x)),
                                                  q88.to_str(act.tanh(x)), q88.to_str(act.exp(x))))
r = Rng(42)
print("Rng(42) draws:", [r.randint(-5, 5) for _ in range(8)])
