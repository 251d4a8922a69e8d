# A state moves between kernel sets: dumped by a model running the port's best
# kernels (viper where the port compiles native code), restored into a model running
# the bytecode ones, it goes on step for step as the first (a file of its own: the
# bytecode kernels' modules are loaded beside the native ones only here).
from array import array

import harness
from harness import eq
from tinyrnn import kernels, state
from tinyrnn.model import Model
from tinyrnn.rng import Rng

DESC = {"input": 2, "layers": [{"kind": "lstm", "hidden": 6}], "head": {"out": 3, "act": "softmax"}}


def test_state_from_the_best_kernels_restores_into_bytecode():
    a = Model(DESC, seed=11)
    r = Rng(5)
    x = array("h", [0, 0])
    for _ in range(20):
        x[0] = r.randint(-768, 768)
        x[1] = r.randint(-768, 768)
        a.step(x)
    b = state.loads(Model(DESC, seed=11, kernels="bytecode"), state.dumps(a))
    for t in range(20):
        x[0] = r.randint(-768, 768)
        x[1] = r.randint(-768, 768)
        eq(list(b.step(x)), list(a.step(x)), "output at step %d after the restore" % t)
        eq(bytes(b.state), bytes(a.state), "state at step %d" % t)
    print("dumped with %s kernels, restored into bytecode" % ("viper" if kernels.available() else "bytecode"))


if __name__ == "__main__":
    harness.run_all(globals())
