from tinyrnn.model import Model
from tinyrnn.optim import Adam            # also SGD, Momentum, RMSprop; StepDecay, ExpDecay
from tinyrnn.train import Trainer
model = Model({"input": 1, "layers": [{"kind": "gru", "hidden": 4}], "head": {"out": 1, "act": "identity"}}, seed=1)
# echo the input: 8 sequences of 5 steps, Q8.8 ints (256 = 1.0)
dataset = [([[(i * 37 + t * 91) % 512 - 256] for t in range(5)],) * 2 for i in range(8)]
held_out, (xs, ys) = dataset[6:], dataset[0]
t = Trainer(model, loss="mse", optimizer=Adam(lr="0.01"), max_steps=20)
t.fit(dataset, epochs=100, batch_size=4, val=held_out, patience=10)   # one line per epoch
t.train_sequence(xs, ys)                  # or one sequence, one update
