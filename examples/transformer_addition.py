"""A small decoder-only Transformer learns to add two numbers written as digits.

The data, made here in the style of minGPT's adder: every pair of n-digit numbers
a + b = c (n = 2: 10,000 pairs) is written as one sequence of digit tokens, a and b
with leading zeros, then c's n + 1 digits reversed (lowest first, so each digit
depends on the ones already written, as the carry does):

    47 + 85 = 132   ->   4 7 8 5 2 3 1

The model is minidl's TransformerEncoder with the causal mask
``Transformer.generate_square_subsequent_mask`` (so position i sees positions <= i
only: a GPT), on token and position embeddings, with a LayerNorm and a Linear
head that predicts the next token. It trains with Adam on the cross entropy of
c's digits only, on 90% of the pairs; the other 10% are held out. The answer is
then generated greedily, one digit at a time, and the exact-match accuracy on the
held-out pairs (all n + 1 digits right) is printed and checked (>= 0.95).

With matplotlib it saves the training curves and the attention maps of one
held-out sum, one panel per layer and head: which earlier digits each position
looks at while it writes the next one.

    python examples/transformer_addition.py [--digits 2] [--epochs 15] [--seed 0] [--out DIR]
"""
from __future__ import annotations

import time

import numpy as np

import minidl
import minidl.nn as nn
from common import integer_epochs, parser, positive_int, pyplot, save_figure, verdict
from minidl.optim import Adam

TARGET = 0.95


def addition_data(digits: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair a + b of ``digits``-digit numbers as token rows (a, b, reversed c),
    shuffled and split 90/10 into training and held-out rows."""
    count = 10 ** digits
    a, b = (grid.ravel() for grid in np.meshgrid(np.arange(count), np.arange(count)))

    def written(numbers: np.ndarray, width: int) -> np.ndarray:
        return numbers[:, None] // 10 ** np.arange(width - 1, -1, -1) % 10
    rows = np.concatenate([written(a, digits), written(b, digits),
                           written(a + b, digits + 1)[:, ::-1]], axis=1)
    rows = rows[np.random.default_rng(seed).permutation(len(rows))]
    held_out = len(rows) // 10
    return rows[held_out:], rows[:held_out]


class Adder(nn.Module):
    """Token and position embeddings, a causal Transformer encoder, a LayerNorm and a
    Linear head to the 10 digits."""

    def __init__(self, length: int, d_model: int = 64, nhead: int = 4, layers: int = 2):
        super().__init__()
        self.token = nn.Embedding(10, d_model)
        self.position = nn.Embedding(length, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=4 * d_model,
                                           dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, 10)

    def embed(self, tokens: np.ndarray) -> minidl.Tensor:
        return self.token(tokens) + self.position(np.arange(tokens.shape[1]))

    def forward(self, tokens: np.ndarray) -> minidl.Tensor:
        mask = nn.Transformer.generate_square_subsequent_mask(tokens.shape[1])
        return self.head(self.norm(self.encoder(self.embed(tokens), mask=mask)))

    def attention_maps(self, tokens: np.ndarray) -> list[np.ndarray]:
        """Each layer's attention weights (N, heads, L, L), as its self_attn sees them."""
        mask = nn.Transformer.generate_square_subsequent_mask(tokens.shape[1])
        x, maps = self.embed(tokens), []
        for layer in self.encoder.layers:
            h = layer.norm1(x)
            _, weights = layer.self_attn(h, h, h, attn_mask=mask, average_attn_weights=False)
            maps.append(weights.numpy())
            x = layer(x, src_mask=mask)
        return maps


def answer(model: Adder, rows: np.ndarray, digits: int) -> np.ndarray:
    """c's digits generated greedily from a and b: each step feeds what is written so
    far and appends the most likely next digit."""
    written = rows[:, :2 * digits]
    with minidl.no_grad():
        for _ in range(digits + 1):
            logits = model(written).numpy()[:, -1]
            written = np.concatenate([written, logits.argmax(axis=1)[:, None]], axis=1)
    return written[:, 2 * digits:]


def exact_match(model: Adder, rows: np.ndarray, digits: int) -> float:
    return float(np.mean(np.all(answer(model, rows, digits) == rows[:, 2 * digits:], axis=1)))


def train(model: Adder, train_rows: np.ndarray, held_out: np.ndarray, digits: int,
          epochs: int, batch_size: int, lr: float, seed: int) -> dict[str, list[float]]:
    """Adam on the cross entropy of c's digits (the predictions at positions 2n-1 ..
    3n-1, each of the next token); the held-out exact match after every epoch."""
    optimizer = Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    first = 2 * digits - 1
    for _ in range(epochs):
        losses = []
        for start in range(0, len(train_rows), batch_size):
            batch = train_rows[start:start + batch_size]
            logits = model(batch[:, :-1])[:, first:]
            loss = loss_fn(logits.reshape(-1, 10), batch[:, first + 1:].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        train_rows = train_rows[rng.permutation(len(train_rows))]
        history["loss"].append(float(np.mean(losses)))
        history["accuracy"].append(exact_match(model, held_out, digits))
    return history


def plot_curves(plt, history: dict[str, list[float]]):
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    epochs = np.arange(1, len(history["loss"]) + 1)
    left.plot(epochs, history["loss"], label="mean over the epoch's batches")
    left.set(xlabel="epoch", ylabel="cross entropy of c's digits", yscale="log",
             title="training loss")
    left.legend(loc="upper right")
    right.plot(epochs, history["accuracy"], label="held-out exact match")
    right.axhline(TARGET, color="gray", linestyle="--", label=f"target {TARGET}")
    right.set(xlabel="epoch", ylabel="fraction of sums all right", ylim=(0, 1.02),
              title="greedy answers on held-out pairs")
    right.legend(loc="lower right")
    for axis in (left, right):
        integer_epochs(axis)
    return figure


def plot_attention(plt, maps: list[np.ndarray], row: np.ndarray, digits: int):
    """One panel per layer and head: the weights with which each position (row) looks
    at the earlier positions (columns) of one held-out sum."""
    heads = maps[0].shape[1]
    labels = [f"a{i}={d}" for i, d in enumerate(row[:digits])] + \
        [f"b{i}={d}" for i, d in enumerate(row[digits:2 * digits])] + \
        [f"c{i}={d}" for i, d in enumerate(row[2 * digits:-1])]
    figure, axes = plt.subplots(len(maps), heads, figsize=(2.6 * heads, 2.7 * len(maps)),
                                squeeze=False, layout="constrained")
    for layer, weights in enumerate(maps):
        for head in range(heads):
            axis = axes[layer, head]
            image = axis.imshow(weights[0, head], cmap="viridis", vmin=0, vmax=1)
            axis.set_title(f"layer {layer}, head {head}", fontsize=9)
            bottom = layer == len(maps) - 1
            axis.set_xticks(range(len(labels)), labels if bottom else [], rotation=90,
                            fontsize=7)
            axis.set_yticks(range(len(labels)), labels, fontsize=7)
            axis.set_xlabel("attends to (key)" if bottom else "key", fontsize=8)
            axis.set_ylabel("position (query)" if head == 0 else "query", fontsize=8)
    figure.colorbar(image, ax=axes, shrink=0.6, label="attention weight")
    a = int("".join(map(str, row[:digits])))
    b = int("".join(map(str, row[digits:2 * digits])))
    figure.suptitle(f"attention maps of {a} + {b} = {a + b}: each row (query) predicts the "
                    f"next digit from the columns (keys) at or before it\n(c is written lowest "
                    f"digit first: ci is c's digit i counted from the right)")
    return figure


def main() -> None:
    arguments = parser(__doc__, epochs=15)
    arguments.add_argument("--digits", type=positive_int, default=2,
                           help="digits of each number (default 2; 3 means 1,000,000 pairs)")
    arguments.add_argument("--batch-size", type=positive_int, default=256,
                           help="training batch size (default 256)")
    arguments.add_argument("--lr", type=float, default=3e-3, help="Adam's lr (default 3e-3)")
    args = arguments.parse_args()
    minidl.manual_seed(args.seed)
    train_rows, held_out = addition_data(args.digits, args.seed)
    model = Adder(length=3 * args.digits)
    start = time.perf_counter()
    history = train(model, train_rows, held_out, args.digits, args.epochs, args.batch_size,
                    args.lr, args.seed)
    seconds = time.perf_counter() - start
    accuracy = history["accuracy"][-1]
    print(f"{args.digits}-digit addition: {len(train_rows)} training pairs, {len(held_out)} "
          f"held out; {sum(p.size for p in model.parameters())} parameters, "
          f"{args.epochs} epochs in {seconds:.1f} s")
    for epoch in sorted({1, len(history["loss"]) // 2, len(history["loss"])} - {0}):
        print(f"  epoch {epoch:3d}: loss {history['loss'][epoch - 1]:.4f}, held-out exact "
              f"match {history['accuracy'][epoch - 1]:.3f}")
    print(f"held-out exact-match accuracy {accuracy:.3f} >= {TARGET} "
          f"({verdict(accuracy >= TARGET)})")
    example = held_out[:1]
    maps = model.attention_maps(example[:, :-1])
    future = max(float(np.triu(weights, k=1).max()) for weights in maps)
    print(f"the causal mask holds: no position attends to a later one, largest such weight "
          f"{future:.1g} ({verdict(future == 0)})")

    plt = pyplot()
    if plt is None:
        return
    save_figure(plot_curves(plt, history), args.out, "transformer_addition_training.png")
    save_figure(plot_attention(plt, maps, example[0], args.digits), args.out,
                "transformer_addition_attention.png")


if __name__ == "__main__":
    main()
