"""One RMSprop step, followed from the loss to the flat buffer, with real numbers.

A 13-16-3 MLP on scikit-learn's wine data takes mini-batches of 32. The
script shows each stage of the README's "How a gradient travels":

1. the graph that the forward pass recorded (``minidl.viz``): one node per op,
   with the norm of the gradient that reached it after ``backward()``;
2. each parameter's gradient, and where it lives: ``p.grad`` is a view of the
   optimizer's one flat grad buffer, at an offset this script finds from the
   view's memory address;
3. RMSprop's state v after a few steps, the running mean of g^2 per coordinate;
4. the effective learning rate of every coordinate, lr / (sqrt(v) + eps), as a
   heatmap per layer, beside plain SGD's single number lr;
5. the update p_new - p_old of one more step, checked element for element
   against -lr * g / (sqrt(v) + eps).

It checks and prints three claims. The pictures go to --out: the graph needs
graphviz (pip install 'minidl[viz]' and the dot program; without it the DOT
text is written instead), the heatmaps need matplotlib. Without matplotlib the
same facts print as text.

    python examples/inside_one_step.py [--steps N] [--lr LR] [--out DIR]
"""
from __future__ import annotations

import numpy as np

import minidl
import minidl.datasets
import minidl.nn as nn
from common import parser, positive_int, pyplot, save_figure, table, verdict
from minidl import viz
from minidl.data import DataLoader
from minidl.optim import RMSprop


def flat_buffer(view: np.ndarray) -> np.ndarray:
    """The array a view was cut from: follow ``.base`` to the end."""
    while view.base is not None and isinstance(view.base, np.ndarray):
        view = view.base
    return view


def offset_in(buffer: np.ndarray, view: np.ndarray) -> int:
    """Where ``view`` starts in the 1-D ``buffer``, in elements, from the memory addresses."""
    start = view.__array_interface__["data"][0] - buffer.__array_interface__["data"][0]
    return start // buffer.itemsize


def walk(fn, names: dict[int, str]) -> list[str]:
    """One line per op from the loss down: its name, its output shape, the leaves it reads."""
    lines = []
    while fn is not None:
        inputs = [node for node, _ in fn.next_functions]
        leaves = [names.get(id(node.variable), "a leaf") for node in inputs
                  if node is not None and node.name == "AccumulateGrad"]
        reads = f"reads {', '.join(leaves)}" if leaves else ""
        lines.append(f"{fn.name:<14} {str(fn.output.shape):<9} {reads}".rstrip())
        fn = next((node for node in inputs if node is not None and node.name != "AccumulateGrad"),
                  None)
    return lines


def main() -> None:
    options = parser(__doc__)
    options.add_argument("--steps", type=positive_int, default=5,
                         help="RMSprop steps before the one followed (default 5)")
    options.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    args = options.parse_args()

    split = minidl.datasets.load("wine", seed=args.seed)
    minidl.manual_seed(args.seed)
    model = nn.mlp([split.n_features, 16, split.n_classes])
    names = dict(model.named_parameters())
    optimizer = RMSprop(model.parameters(), lr=args.lr, device="cpu")
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(split.X_train, split.y_train, batch_size=32, shuffle=True,
                        seed=args.seed)
    batches = (batch for _ in iter(int, 1) for batch in loader)   # epoch after epoch
    print(f"wine: {len(split.y_train)} training samples, {split.n_features} features, "
          f"{split.n_classes} classes | MLP {split.n_features}-16-{split.n_classes} | "
          f"RMSprop lr={args.lr:g} alpha=0.99 eps=1e-8 | batches of 32")

    # 1. The graph of one mini-batch's loss.
    X, y = next(batches)
    loss = loss_fn(model(X), y)
    optimizer.zero_grad()
    loss.backward(retain_graph=True)
    print(f"\n1. the graph of the loss {loss.item():.4f}, walked down by grad_fn.next_functions:")
    print("   " + "\n   ".join(walk(loss.grad_fn, {id(p): n for n, p in names.items()})))
    dot = viz.graph(loss, model)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        print(f"wrote {viz.render(dot, args.out / 'inside_one_step_graph.png')}")
    except RuntimeError as error:
        (args.out / "inside_one_step_graph.dot").write_text(dot)
        print(f"{error}\nwrote {args.out / 'inside_one_step_graph.dot'}")

    # 2. Each gradient, and where it lives in the flat grad buffer.
    buffer = flat_buffer(next(iter(names.values())).grad.numpy())
    rows, views_hold = [], True
    for name, param in names.items():
        grad = param.grad.numpy()          # p.grad is a Tensor on the flat buffer's view
        start = offset_in(buffer, grad)
        stop = start + param.size
        views_hold &= bool(np.shares_memory(grad, buffer)
                           and np.array_equal(buffer[start:stop].reshape(param.shape), grad))
        rows.append([name, str(param.shape), f"[{start}, {stop})",
                     float(np.linalg.norm(grad)), float(np.abs(grad).max())])
    print(f"\n2. the gradients: one flat buffer of {buffer.size} {buffer.dtype} values")
    print(table(["parameter", "shape", "offsets", "|grad|", "max |g_i|"], rows))
    print(f"every p.grad is a view of the flat buffer at its offsets ({verdict(views_hold)})")

    # 3. RMSprop's v after a few steps.
    optimizer.step()
    for _ in range(args.steps - 1):
        X, y = next(batches)
        optimizer.zero_grad()
        loss_fn(model(X), y).backward()
        optimizer.step()
    v = {name: optimizer.state[p]["square_avg"].copy() for name, p in names.items()}
    print(f"\n3. RMSprop's v = mean of g^2 after {args.steps} steps, per parameter:")
    print(table(["parameter", "min v", "median v", "max v"],
                [[name, float(a.min()), float(np.median(a)), float(a.max())]
                 for name, a in v.items()]))

    # 4. The effective learning rate of each coordinate.
    eps = optimizer.param_groups[0]["eps"]
    rates = {name: args.lr / (np.sqrt(a.astype(np.float64)) + eps) for name, a in v.items()}
    every = np.concatenate([r.ravel() for r in rates.values()])
    span = np.log10(every.max() / every.min())
    print(f"\n4. effective learning rate lr / (sqrt(v) + eps); plain SGD's is {args.lr:g} "
          f"for every coordinate:")
    print(table(["parameter", "min", "median", "max", "max / min"],
                [[name, float(r.min()), float(np.median(r)), float(r.max()),
                  float(r.max() / r.min())] for name, r in rates.items()]))
    print(f"(v starts at 0, so after t steps it holds only 1 - 0.99^t of the mean of g^2: "
          f"{1 - 0.99 ** args.steps:.0%} after {args.steps}; the early rates are large)")
    print(f"the per-coordinate rates span {span:.1f} orders of magnitude while SGD's is one "
          f"number ({verdict(span >= 1)})")

    # 5. One more step, followed: the update against the formula.
    X, y = next(batches)
    optimizer.zero_grad()
    loss_fn(model(X), y).backward()
    before = {name: p.numpy().copy() for name, p in names.items()}
    grads = {name: p.grad.numpy().copy() for name, p in names.items()}
    optimizer.step()
    worst = 0.0
    updates, predicted = {}, {}
    for name, param in names.items():
        v_new = optimizer.state[param]["square_avg"].astype(np.float64)
        predicted[name] = -args.lr * grads[name] / (np.sqrt(v_new) + eps)
        updates[name] = param.numpy().astype(np.float64) - before[name]
        # float32 rounding: p_new is stored to half a spacing of its size, and the
        # kernel's float32 arithmetic is good to a few float32 epsilons of the step
        rounding = (np.spacing(np.maximum(np.abs(before[name]), np.abs(param.numpy())))
                    + np.finfo(np.float32).eps * np.abs(predicted[name]))
        worst = max(worst, float((np.abs(updates[name] - predicted[name]) / rounding).max()))
    print(f"\n5. the update p_new - p_old of step {args.steps + 1}:")
    print(table(["parameter", "|update|", "max |update_i|", "|update| / |p|"],
                [[name, float(np.linalg.norm(u)), float(np.abs(u).max()),
                  float(np.linalg.norm(u) / np.linalg.norm(before[name]))]
                 for name, u in updates.items()]))
    print(f"the update equals -lr * g / (sqrt(v) + eps) element for element, to float32 "
          f"rounding: the largest gap is {worst:.2f} x the rounding bound "
          f"({verdict(worst <= 2.0)})")

    plt = pyplot()
    if plt is not None:
        plot_gradients(plt, args.out, names, buffer, grads)
        plot_rmsprop(plt, args.out, v, rates, updates, predicted, args.lr)


def layers_of(names) -> dict[str, list[str]]:
    """Parameter names grouped by layer: {"0": ["0.weight", "0.bias"], ...}."""
    layers: dict[str, list[str]] = {}
    for name in names:
        layers.setdefault(name.rpartition(".")[0], []).append(name)
    return layers


def as_matrix(arrays, members) -> np.ndarray:
    """A layer's weight (out, in) with its bias (out,) as one more column: (out, in + 1)."""
    return np.hstack([arrays[name].reshape(len(arrays[name]), -1) for name in members])


def heatmap(figure, axes, matrix, label, **options) -> None:
    """One layer as an image: rows are output units, the last column is the bias."""
    from matplotlib.ticker import MaxNLocator

    image = axes.imshow(matrix, aspect="auto", interpolation="nearest", **options)
    axes.axvline(matrix.shape[1] - 1.5, color="w", lw=2)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set(xlabel="input (last column: bias)", ylabel="output unit")
    figure.colorbar(image, ax=axes, label=label)


def plot_gradients(plt, out, names, buffer, grads) -> None:
    """Each layer's gradient, and the flat buffer with the offsets where each lives."""
    layers = layers_of(names)
    figure = plt.figure(figsize=(12, 7), layout="constrained")
    grid = figure.add_gridspec(2, len(layers), height_ratios=[3, 1.3])
    for i, (layer, members) in enumerate(layers.items()):
        g = as_matrix(grads, members)
        limit = float(np.abs(g).max()) or 1.0
        axes = figure.add_subplot(grid[0, i])
        heatmap(figure, axes, g, "dL/dp", cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes.set_title(f"layer {layer}: gradient of " + " and ".join(members))
    strip = figure.add_subplot(grid[1, :])
    start = 0
    for i, (name, param) in enumerate(names.items()):
        stop = start + param.size
        strip.axvspan(start, stop, alpha=0.2, color=f"C{i}", label=f"{name}: [{start}, {stop})")
        start = stop
    strip.plot(np.arange(buffer.size), np.concatenate([grads[n].ravel() for n in names]),
               lw=0.8, color="k", label="flat grad buffer")
    strip.set(xlabel="offset in the optimizer's flat grad buffer", ylabel="dL/dp", xlim=(0, start),
              title="where the gradients live: one contiguous buffer, one view per parameter")
    low, high = strip.get_ylim()
    strip.set_ylim(low - (high - low) * 0.6, high)     # room for the legend below the curve
    strip.legend(fontsize="small", ncol=len(names) + 1, loc="lower left")
    save_figure(figure, out, "inside_one_step_grads.png")


def plot_rmsprop(plt, out, v, rates, updates, predicted, lr) -> None:
    """Per layer: v, the effective learning rate (log colours) and the update; beside
    them the rates' histogram against SGD's one lr, and the update against the formula."""
    from matplotlib.colors import LogNorm

    layers = layers_of(v)
    figure = plt.figure(figsize=(15, 11), layout="constrained")
    grid = figure.add_gridspec(3, len(layers) + 1)
    every = np.concatenate([r.ravel() for r in rates.values()])
    squares = np.concatenate([a.ravel() for a in v.values()])
    shared = {"v": LogNorm(squares.min(), squares.max()), "lr": LogNorm(every.min(), every.max())}
    for i, (layer, members) in enumerate(layers.items()):
        big = float(max(np.abs(updates[name]).max() for name in members))
        for row, (arrays, what, label, options) in enumerate((
                (v, "v (mean of g^2)", "v", {"norm": shared["v"]}),
                (rates, "effective lr = lr / (sqrt(v) + eps)", "effective lr",
                 {"norm": shared["lr"]}),
                (updates, "update p_new - p_old", "p_new - p_old",
                 {"cmap": "RdBu_r", "vmin": -big, "vmax": big}))):
            axes = figure.add_subplot(grid[row, i])
            heatmap(figure, axes, as_matrix(arrays, members), label, **options)
            axes.set_title(f"layer {layer}: {what}")
    histogram = figure.add_subplot(grid[:2, -1])
    bins = np.logspace(np.log10(min(every.min(), lr) / 2), np.log10(every.max() * 2), 40)
    for i, (name, rate) in enumerate(rates.items()):
        histogram.hist(rate.ravel(), bins=bins, histtype="step", lw=1.5, color=f"C{i}",
                       label=f"RMSprop, {name}")
    histogram.axvline(lr, color="k", ls="--", label=f"SGD: lr = {lr:g} for every coordinate")
    histogram.set(xscale="log", xlabel="effective learning rate (log)", ylabel="coordinates",
                  title="one rate per coordinate vs SGD's one number")
    histogram.set_ylim(top=histogram.get_ylim()[1] * 1.4)
    histogram.legend(fontsize="small", loc="upper left")
    check = figure.add_subplot(grid[2, -1])
    for i, name in enumerate(updates):
        check.scatter(predicted[name].ravel(), updates[name].ravel(), s=8, color=f"C{i}",
                      label=name)
    low = min(float(p.min()) for p in predicted.values())
    high = max(float(p.max()) for p in predicted.values())
    check.plot([low, high], [low, high], "k--", lw=0.8, label="p_new - p_old = formula")
    check.set(xlabel="-lr g / (sqrt(v) + eps)", ylabel="p_new - p_old",
              title="the update is the formula, element for element")
    check.locator_params(axis="x", nbins=4)  # five tick labels of -0.075 overlap
    check.legend(fontsize="small", loc="upper left")
    save_figure(figure, out, "inside_one_step_rmsprop.png")


if __name__ == "__main__":
    main()
