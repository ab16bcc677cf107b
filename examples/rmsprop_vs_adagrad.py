"""RMSprop against Adagrad: four textbook claims, measured.

Both divide each parameter's gradient by the root of a per-parameter sum of
squared gradients; they differ in which sum:

    Adagrad   s_t = s_{t-1} + g_t^2                    p -= lr * g_t / (sqrt(s_t) + eps)
    RMSprop   v_t = alpha v_{t-1} + (1 - alpha) g_t^2  p -= lr * g_t / (sqrt(v_t) + eps)

Adagrad's s only grows; RMSprop's v forgets with a time constant of
1 / (1 - alpha) = 100 steps (alpha = 0.99). The script checks, with numbers:

1. Adagrad's effective step lr / (sqrt(s) + eps) shrinks towards zero while
   RMSprop's lr / (sqrt(v) + eps) stays steady (read from
   ``optimizer.state_dict()`` after every step of a noisy linear regression).
2. On a non-stationary objective (the regression target changes halfway)
   RMSprop keeps learning after the change; Adagrad, its steps spent, stalls.
3. A parameter with rare large gradients gets a smaller multiplier
   lr / (sqrt(state) + eps), and moves less in total, than one with small
   frequent gradients: the denominators track each parameter's own gradient
   scale. (Each single update of a rare parameter is still the larger one.)
4. eps keeps the step bounded where the gradient is zero or tiny: with eps the
   update is at most lr |g| / eps; with eps = 0 a zero gradient gives 0/0 = NaN
   and a gradient of 1e-10 a full step lr / sqrt(1 - alpha).

The learning rates (Adagrad 0.1, RMSprop 0.01) are matched: the two effective
steps agree over the first steps, so both fit the first target equally fast.

    python examples/rmsprop_vs_adagrad.py [--steps 3000] [--out examples/out]
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np

import minidl
import minidl.nn as nn
from common import parser, positive_int, pyplot, save_figure, verdict
from minidl.optim import Adagrad, RMSprop

LEARNING_RATES = {"Adagrad": 0.1, "RMSprop": 0.01}
OPTIMIZERS = {"Adagrad": Adagrad, "RMSprop": RMSprop}
STATE_NAME = {"Adagrad": "sum", "RMSprop": "square_avg"}


def effective_steps(optimizer: Any, name: str, index: int) -> np.ndarray:
    """lr / (sqrt(state) + eps) for every element of parameter ``index``."""
    group = optimizer.param_groups[0]
    state = optimizer.state_dict()["state"][index][STATE_NAME[name]]
    return group["lr"] / (np.sqrt(state) + group["eps"])


@dataclass
class Regression:
    """y = X w + noise, with w switching from ``w_before`` to ``w_after`` halfway."""
    X: np.ndarray
    w_before: np.ndarray
    w_after: np.ndarray
    noise: np.ndarray

    @classmethod
    def make(cls, seed: int, samples: int = 1000, features: int = 10, noise: float = 2.0
             ) -> Regression:
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((samples, features)).astype(np.float32)
        w_before, w_after = rng.standard_normal((2, features)).astype(np.float32)
        return cls(X, w_before, w_after, noise * rng.standard_normal(samples).astype(np.float32))

    def targets(self, w: np.ndarray) -> np.ndarray:
        return self.X @ w + self.noise

    def least_loss(self, w: np.ndarray) -> float:
        """The smallest mean squared error any linear model (with bias) reaches."""
        design = np.column_stack([self.X, np.ones(len(self.X))]).astype(np.float64)
        y = self.targets(w).astype(np.float64)
        solution = np.linalg.lstsq(design, y, rcond=None)[0]
        return float(np.mean((design @ solution - y) ** 2))


@dataclass
class Run:
    """Per step: the full-data loss and the median effective step of the weights."""
    loss: np.ndarray
    effective_step: np.ndarray


def train_through_shift(name: str, problem: Regression, steps: int, seed: int,
                        batch_size: int = 4) -> Run:
    """Fit nn.Linear(10, 1) on the target before the shift, then on the one after."""
    minidl.manual_seed(seed)
    model = nn.Linear(problem.X.shape[1], 1)
    optimizer = OPTIMIZERS[name](model.parameters(), lr=LEARNING_RATES[name])
    loss_fn = nn.MSELoss()
    batches = np.random.default_rng(seed)
    X = minidl.tensor(problem.X)
    losses, steps_taken = [], []
    for w in (problem.w_before, problem.w_after):
        y = problem.targets(w)
        for _ in range(steps):
            rows = batches.integers(0, len(y), batch_size)
            optimizer.zero_grad()
            loss_fn(model(minidl.tensor(problem.X[rows])), minidl.tensor(y[rows, None])).backward()
            optimizer.step()
            with minidl.no_grad():
                losses.append(float(np.mean((model(X).numpy()[:, 0] - y) ** 2)))
            steps_taken.append(np.median(effective_steps(optimizer, name, 0)))
    return Run(np.array(losses), np.array(steps_taken))


def steps_to_fit(loss: np.ndarray, least: float, fraction: float = 0.9) -> int:
    """Steps until ``fraction`` of the excess loss present at the start is gone."""
    excess = loss - least
    below = np.nonzero(excess <= (1 - fraction) * excess[0])[0]
    return int(below[0]) + 1 if len(below) else len(loss)


def rare_versus_frequent(name: str, steps: int, seed: int, size: int = 1000,
                         rate: float = 0.02, small: float = 0.01) -> dict[str, dict[str, float]]:
    """Feed two parameters synthetic gradients and measure how each moves.

    frequent: g ~ N(0, small^2) on every step; rare: g = +-1 with probability
    ``rate`` per step, else 0. Returns, per parameter, the median multiplier
    lr / (sqrt(state) + eps) after the last step, the mean total path length
    sum_t |p_t - p_{t-1}|, and the mean |p_t - p_{t-1}| over the steps whose
    gradient was non-zero.
    """
    rng = np.random.default_rng(seed)
    frequent = minidl.zeros(size, requires_grad=True)
    rare = minidl.zeros(size, requires_grad=True)
    optimizer = OPTIMIZERS[name]([frequent, rare], lr=LEARNING_RATES[name])
    path = {"frequent": np.zeros(size), "rare": np.zeros(size)}
    moved_when_pushed = {"frequent": [], "rare": []}
    for _ in range(steps):
        gradients = {"frequent": rng.normal(0.0, small, size).astype(np.float32),
                     "rare": np.where(rng.random(size) < rate, rng.choice([-1.0, 1.0], size),
                                      0.0).astype(np.float32)}
        before = {"frequent": frequent.numpy().copy(), "rare": rare.numpy().copy()}
        frequent.grad, rare.grad = gradients["frequent"], gradients["rare"]
        optimizer.step()
        for key, param in (("frequent", frequent), ("rare", rare)):
            moved = np.abs(param.numpy() - before[key])
            path[key] += moved
            moved_when_pushed[key].append(moved[gradients[key] != 0])
    return {key: {"multiplier": float(np.median(effective_steps(optimizer, name, index))),
                  "path": float(path[key].mean()),
                  "update": float(np.concatenate(moved_when_pushed[key]).mean())}
            for index, key in enumerate(("frequent", "rare"))}


def rmsprop_update(gradient: float, eps: float, lr: float = 0.01) -> float:
    """The first RMSprop update p_1 - p_0 of a fresh scalar parameter with gradient g."""
    param = minidl.zeros(1, requires_grad=True)
    optimizer = RMSprop([param], lr=lr, eps=eps)
    param.grad = np.array([gradient], dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        optimizer.step()
    return float(param.numpy()[0])


def report(number: int, holds: bool, claim: str, *evidence: str) -> bool:
    """Print a claim, whether it holds, and the numbers behind it; return whether it holds."""
    print()
    print(textwrap.fill(f"Claim {number} [{verdict(holds)}]: {claim}",
                        width=100, subsequent_indent="    "))
    for line in evidence:
        print(textwrap.fill(line, width=100, initial_indent="    ", subsequent_indent="      "))
    return holds


def main() -> None:
    arguments = parser(__doc__)
    arguments.add_argument("--steps", type=positive_int, default=3000,
                           help="steps on each of the two regression targets (default 3000)")
    args = arguments.parse_args()
    plt = pyplot()
    problem = Regression.make(args.seed)
    runs = {name: train_through_shift(name, problem, args.steps, args.seed)
            for name in OPTIMIZERS}
    early = min(100, args.steps) - 1
    last = 2 * args.steps - 1
    results = []

    shrink = {name: run.effective_step[last] / run.effective_step[early]
              for name, run in runs.items()}
    results.append(report(
        1, shrink["Adagrad"] < 1 / 3 and 0.5 < shrink["RMSprop"] < 2,
        "Adagrad's effective step lr/(sqrt(s)+eps) shrinks towards zero; RMSprop's "
        "lr/(sqrt(v)+eps) stays steady.",
        f"median over the 10 weights, step {early + 1} -> step {last + 1}:",
        *(f"{name:8s} {run.effective_step[early]:.3g} -> {run.effective_step[last]:.3g} "
          f"(x{shrink[name]:.2f})" for name, run in runs.items()),
        f"(for stationary gradients s grows like t, so Adagrad's step falls like 1/sqrt(t): "
        f"x{np.sqrt((early + 1) / (last + 1)):.2f})"))

    least = [problem.least_loss(w) for w in (problem.w_before, problem.w_after)]
    fit_steps = {name: [steps_to_fit(run.loss[:args.steps], least[0]),
                        steps_to_fit(run.loss[args.steps:], least[1])]
                 for name, run in runs.items()}
    after = min(300, args.steps) - 1
    results.append(report(
        2, fit_steps["Adagrad"][1] >= 2 * fit_steps["RMSprop"][1],
        "when the target changes halfway, RMSprop keeps learning while Adagrad stalls.",
        "steps to remove 90% of the excess loss (loss minus the least-squares minimum "
        f"{least[0]:.2f} / {least[1]:.2f}):",
        *(f"{name:8s} first target {before}, second target {second}; loss {after + 1} steps "
          f"after the change {runs[name].loss[args.steps + after]:.2f}"
          for name, (before, second) in fit_steps.items())))

    rare = {name: rare_versus_frequent(name, 2000, args.seed) for name in OPTIMIZERS}
    results.append(report(
        3, all(r["rare"]["multiplier"] < r["frequent"]["multiplier"]
               and r["rare"]["path"] < r["frequent"]["path"] for r in rare.values()),
        "parameters with rare large gradients (+-1 on 2% of steps) get a smaller multiplier "
        "lr/(sqrt(state)+eps) and move less in total than parameters with small frequent "
        "gradients (N(0, 0.01^2) every step); 2000 steps, 1000 parameters of each kind.",
        *(f"{name:8s} multiplier rare {r['rare']['multiplier']:.3g} vs frequent "
          f"{r['frequent']['multiplier']:.3g}; path length rare {r['rare']['path']:.3g} vs "
          f"frequent {r['frequent']['path']:.3g}" for name, r in rare.items()),
        "(yet a single update of a rare parameter is larger: mean |dp| when its gradient is "
        "non-zero, rare vs frequent, " + ", ".join(
            f"{name} {r['rare']['update']:.3g} vs {r['frequent']['update']:.3g}"
            for name, r in rare.items()) + ")"))

    lr, tiny, eps = 0.01, 1e-10, 1e-8
    zero_with, zero_without = rmsprop_update(0.0, eps), rmsprop_update(0.0, 0.0)
    tiny_with, tiny_without = rmsprop_update(tiny, eps), rmsprop_update(tiny, 0.0)
    full_step = lr / np.sqrt(1 - 0.99)
    results.append(report(
        4, zero_with == 0.0 and np.isnan(zero_without) and abs(tiny_with) <= lr * tiny / eps
        and np.isclose(abs(tiny_without), full_step, rtol=1e-3),
        "eps keeps RMSprop's step bounded (|dp| <= lr |g| / eps) where the gradient is zero "
        "or tiny; without it the step is NaN or full size.",
        f"gradient 0:     eps={eps:g}: dp = {zero_with:g};  eps=0: dp = {zero_without:g} (0/0)",
        f"gradient {tiny:g}: eps={eps:g}: |dp| = {abs(tiny_with):.3g} <= lr |g| / eps = "
        f"{lr * tiny / eps:.3g}",
        f"gradient {tiny:g}: eps=0: |dp| = {abs(tiny_without):.3g} = lr / sqrt(1 - alpha), "
        f"a full step on a gradient of {tiny:g}"))

    print(f"\n{sum(results)} of {len(results)} claims hold.")
    if plt is None:
        return
    figure, (step_axis, loss_axis) = plt.subplots(1, 2, figsize=(12, 4))
    for name, run in runs.items():
        step_axis.plot(np.arange(1, len(run.effective_step) + 1), run.effective_step, label=name)
        loss_axis.plot(np.arange(1, len(run.loss) + 1), run.loss, label=name, linewidth=0.8)
    for axis in (step_axis, loss_axis):
        axis.axvline(args.steps, color="grey", linestyle="--", linewidth=1)
        axis.set(xlabel="step", yscale="log")
        axis.legend()
    step_axis.set(title="median effective step lr / (sqrt(state) + eps)",
                  ylabel="effective step (log)")
    loss_axis.set(title="loss on all samples (target changes at the dashed line)",
                  ylabel="mean squared error (log)")
    save_figure(figure, args.out, "rmsprop_vs_adagrad.png")


if __name__ == "__main__":
    main()
