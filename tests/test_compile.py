"""minidl.compile: a replayed step follows the eager trajectory and leaves eager's state.

Each test builds the same network twice from one seed, runs the same step
function eagerly on one and compiled on the other, and compares the loss at
every step (1e-5 relative) and the parameters, grads and optimizer state at
the end (rtol 1e-4; the plan repeats eager's numpy calls and kernels, and its
fused loops do eager's float operations, so they agree to the bit). What a
plan cannot hold runs eagerly with a warning, or raises CompileError with
``fallback=False``. The fused loops themselves: test_compile_fused.py.
"""
import warnings

import numpy as np
import pytest

import minidl
import minidl.datasets
import minidl.nn as nn
from minidl.optim import lr_scheduler

DIGITS = minidl.datasets.load("digits", seed=0)     # standardised, as the MLP trains
X = np.asarray(DIGITS.X_train, np.float32)
Y = np.asarray(DIGITS.y_train, np.int64)

OPTIMIZERS = {
    "SGD": dict(lr=1e-2, momentum=0.9, nesterov=True), "Adagrad": dict(lr=1e-2),
    "RMSprop": dict(lr=1e-3), "Adam": dict(lr=1e-3), "AdamW": dict(lr=1e-3),
    "Rprop": dict(lr=1e-3), "Adadelta": dict(), "Adamax": dict(lr=1e-3),
    "NAdam": dict(lr=1e-3), "RAdam": dict(lr=1e-3),
}


def build(optimizer="RMSprop", seed=0, **options):
    """The digits MLP 64-128-128-10, its optimizer and a step function."""
    minidl.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    opt = getattr(minidl.optim, optimizer)(model.parameters(), **OPTIMIZERS[optimizer])
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad(**options.get("zero_grad", {}))
        loss = loss_fn(model(x), y)
        loss.backward()
        if "clip" in options:
            nn.utils.clip_grad_norm_(model.parameters(), options["clip"])
        opt.step()
        return loss
    return model, opt, step


def batches(steps, sizes=(64,)):
    """(x, y) tensors walking through the data, batch sizes taken in turn."""
    start = 0
    for i in range(steps):
        size = sizes[i % len(sizes)]
        if start + size > len(X):
            start = 0
        yield minidl.tensor(X[start:start + size]), minidl.tensor(Y[start:start + size])
        start += size


def run_both(steps=100, optimizer="RMSprop", sizes=(64,), schedule=False, **options):
    """Run eager and compiled side by side; compare the losses; return both setups."""
    eager, compiled = build(optimizer, **options), build(optimizer, **options)
    step = minidl.compile(compiled[2], fallback=False)
    schedulers = [lr_scheduler.ExponentialLR(setup[1], gamma=0.97) if schedule else None
                  for setup in (eager, compiled)]
    for x, y in batches(steps, sizes):
        expected, got = eager[2](x, y), step(x, y)
        assert got.shape == () and got.dtype == np.float32
        np.testing.assert_allclose(got.item(), expected.item(), rtol=1e-5)
        for scheduler in schedulers:
            if scheduler is not None:
                scheduler.step()
    return eager, compiled, step


def assert_same_state(eager, compiled):
    for (name, p), q in zip(eager[0].named_parameters(), compiled[0].parameters()):
        np.testing.assert_allclose(np.asarray(q), np.asarray(p), rtol=1e-4, atol=1e-7,
                                   err_msg=name)
        if p.grad is None:
            assert q.grad is None, name
            continue
        np.testing.assert_allclose(np.asarray(q.grad), np.asarray(p.grad), rtol=1e-4,
                                   atol=1e-7, err_msg=name)
    want, got = eager[1].state_dict(), compiled[1].state_dict()
    assert want["param_groups"] == got["param_groups"]
    assert want["state"].keys() == got["state"].keys()
    for index, entry in want["state"].items():
        for key, value in entry.items():
            np.testing.assert_allclose(got["state"][index][key], value, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_every_optimizer_follows_the_eager_trajectory_to_the_bit(optimizer):
    eager, compiled, step = run_both(100, optimizer)
    assert_same_state(eager, compiled)
    for p, q in zip(eager[0].parameters(), compiled[0].parameters()):
        assert np.array_equal(np.asarray(p), np.asarray(q))
        assert np.array_equal(np.asarray(p.grad), np.asarray(q.grad))
    assert "linear" in step.plan


def test_a_changing_batch_size_gets_a_plan_per_shape():
    eager, compiled, step = run_both(60, sizes=(64, 64, 17))
    assert_same_state(eager, compiled)
    assert "(17, 64)" in step.plan and len(step._entries) == 2


def test_a_scheduler_changing_the_lr_every_step():
    eager, compiled, _ = run_both(60, schedule=True)
    assert_same_state(eager, compiled)
    assert compiled[1].param_groups[0]["lr"] == pytest.approx(1e-3 * 0.97 ** 60)


def test_a_scheduler_stepped_inside_the_step_is_replayed():
    eager, compiled = build("SGD"), build("SGD")
    steps = []
    for model, opt, _ in (eager, compiled):
        scheduler = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)

        def step(x, y, model=model, opt=opt, scheduler=scheduler):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            scheduler.step()
            return loss
        steps.append(step)
    compiled_step = minidl.compile(steps[1], fallback=False)
    for x, y in batches(10):
        assert compiled_step(x, y).item() == steps[0](x, y).item()
    assert compiled[1].param_groups[0]["lr"] == eager[1].param_groups[0]["lr"] == 1e-2 / 8
    assert "scheduler: StepLR.step()" in compiled_step.plan
    assert_same_state(eager, compiled)


def test_gradient_clipping_inside_the_step():
    eager, compiled, step = run_both(40, clip=0.05)
    assert_same_state(eager, compiled)
    assert "clip: clip_grad_norm_(max_norm=0.05" in step.plan


def test_zero_grad_to_zeros_accumulates_into_the_flat_buffer():
    eager, compiled, _ = run_both(30, "Adam", zero_grad={"set_to_none": False})
    assert_same_state(eager, compiled)


def test_checkpoint_after_compiled_steps_resumes_bit_identically_in_eager(tmp_path):
    eager, compiled, _ = run_both(20, "Adam")
    minidl.save(tmp_path / "a.npz", model=eager[0], optimizer=eager[1])
    minidl.save(tmp_path / "b.npz", model=compiled[0], optimizer=compiled[1])
    resumed = [build("Adam", seed=1), build("Adam", seed=2)]
    for setup, path in zip(resumed, ("a.npz", "b.npz")):
        saved = minidl.load(tmp_path / path)
        setup[0].load_state_dict(saved["model"])
        setup[1].load_state_dict(saved["optimizer"])
    for x, y in batches(10):
        assert resumed[0][2](x, y).item() == resumed[1][2](x, y).item()
    for p, q in zip(resumed[0][0].parameters(), resumed[1][0].parameters()):
        assert np.array_equal(np.asarray(p), np.asarray(q))


def test_numpy_inputs_are_cast_as_eager_linear_casts_them():
    eager, compiled = build("SGD"), build("SGD")
    step = minidl.compile(compiled[2], fallback=False)
    for i in range(5):
        x, y = X[i * 64:(i + 1) * 64].astype(np.float64), Y[i * 64:(i + 1) * 64]
        assert step(x, y).item() == eager[2](x, y).item()


def test_a_target_outside_the_classes_runs_that_call_eagerly():
    eager, compiled = build(), build()
    loss_fn = nn.CrossEntropyLoss()

    def with_ignored(model, opt):
        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step
    step = minidl.compile(with_ignored(*compiled[:2]), fallback=False)
    reference = with_ignored(*eager[:2])
    for i, (x, y) in enumerate(batches(6)):
        if i == 3:
            y = minidl.tensor(np.where(np.arange(64) < 5, -100, np.asarray(y)))
        np.testing.assert_allclose(step(x, y).item(), reference(x, y).item(), rtol=1e-5)
    assert_same_state(eager, compiled)
    with pytest.raises(ValueError, match="out of range"):
        step(x, minidl.tensor(np.full(64, 10)))


def test_forward_only_under_no_grad_and_eval_get_plans_of_their_own():
    model, opt, train_step = build()
    step = minidl.compile(train_step, fallback=False)
    predict = minidl.compile(lambda x: model(x), fallback=False)
    x, y = next(batches(1))
    step(x, y)
    with minidl.no_grad():
        expected = np.asarray(model(x))
        for _ in range(2):
            got = predict(x)
            np.testing.assert_array_equal(np.asarray(got), expected)
    assert not got.requires_grad
    assert "backward" not in predict.plan and "backward" in step.plan
    model.eval()
    step(x, y)      # a train step in eval mode: another key, traced again
    assert len(step._entries) == 2


def test_the_plan_names_buffers_kernels_and_stages():
    _, _, step = run_both(2)
    text = step.plan
    for part in ("buffers:", "0.weight", "(64, 128)", "forward:", "relu", "cross_entropy",
                 "bias, ReLU and its mask in one loop", "b5 is b4 (fused into the linear)",
                 "backward of", "zero_grad: RMSprop(set_to_none=True)",
                 "step: RMSprop.step(): one rmsprop kernel call"):
        assert part in text, part


def _with_layers(make_layers, optimizer="Adam"):
    """eager and compiled copies of a network with extra layers, and the compiled step."""
    setups = []
    for _ in range(2):
        minidl.manual_seed(0)
        model = nn.Sequential(*make_layers())
        opt = getattr(minidl.optim, optimizer)(model.parameters(), lr=1e-3)

        def step(x, y, model=model, opt=opt):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        setups.append((model, opt, step))
    return setups[0], setups[1], minidl.compile(setups[1][2], fallback=False)


def _train_side_by_side(eager, compiled, step, steps, shape=(-1, 64)):
    for i, (x, y) in enumerate(batches(steps)):
        x = minidl.tensor(np.asarray(x).reshape(shape))
        minidl.manual_seed(100 + i)
        expected = eager[2](x, y).item()
        minidl.manual_seed(100 + i)     # the same random stream for both
        np.testing.assert_allclose(step(x, y).item(), expected, rtol=1e-5)


def test_dropout_draws_the_same_masks_from_the_same_stream():
    eager, compiled, step = _with_layers(lambda: [nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.3),
                                                  nn.Linear(128, 10)])
    _train_side_by_side(eager, compiled, step, 50)
    for p, q in zip(eager[0].parameters(), compiled[0].parameters()):
        assert np.array_equal(np.asarray(p), np.asarray(q))
    assert "mask drawn from minidl's generator" in step.plan
    for model in (eager[0], compiled[0]):
        model.eval()
    _train_side_by_side(eager, compiled, step, 5)    # eval: dropout is the identity
    assert "dropout (identity)" in step.plan


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_moves_its_running_statistics_as_eager(momentum):
    eager, compiled, step = _with_layers(lambda: [
        nn.Linear(64, 64), nn.BatchNorm1d(64, momentum=momentum), nn.ReLU(),
        nn.Linear(64, 10)])
    _train_side_by_side(eager, compiled, step, 60)
    assert_same_state(eager, compiled)
    want, got = eager[0].state_dict(), compiled[0].state_dict()
    assert int(got["1.num_batches_tracked"]) == int(want["1.num_batches_tracked"]) == 60
    for key, value in want.items():   # the bias before the BatchNorm has a gradient of pure
        assert np.array_equal(got[key], value), key    # rounding noise, which Adam amplifies:
                                                       # only a bit-exact replay follows it
    for model in (eager[0], compiled[0]):
        model.eval()            # a plan of its own, on the running statistics
    _train_side_by_side(eager, compiled, step, 10)
    assert "the running statistics" in step.plan
    assert_same_state(eager, compiled)


def test_batch_norm_2d_in_a_cnn():
    eager, compiled, step = _with_layers(lambda: [
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128, 10)], optimizer="SGD")
    _train_side_by_side(eager, compiled, step, 30, shape=(-1, 1, 8, 8))
    assert_same_state(eager, compiled)
    np.testing.assert_allclose(compiled[0][1].running_var, eager[0][1].running_var, rtol=1e-5)


# -- what a plan cannot hold -----------------------------------------------------------
def _refusing_steps(model, opt):
    def other_op(x, y):
        opt.zero_grad()
        loss = (model(x).tanh() ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    def item_inside(x, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        if loss.item() > 100:
            return loss
        loss.backward()
        opt.step()
        return loss

    def in_place(x, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        with minidl.no_grad():
            model[0].weight.mul_(0.999)
        opt.step()
        return loss

    def numpy_read(x, y):
        opt.zero_grad()
        out = model(x)
        loss = nn.functional.cross_entropy(out, y)
        np.asarray(out).argmax(axis=1)
        loss.backward()
        opt.step()
        return loss
    return {"the op tanh has no compiled form": other_op,
            r"reads a tensor's value in Python \(item\)": item_inside,
            "writes into a tensor in place": in_place,
            r"value in Python \(__array__\)": numpy_read}


@pytest.mark.parametrize("case", range(4))
def test_what_a_plan_cannot_hold_runs_eagerly_with_one_warning(case):
    eager, compiled = build("Adam"), build("Adam")
    reason, fn = list(_refusing_steps(*compiled[:2]).items())[case]
    reference = list(_refusing_steps(*eager[:2]).values())[case]
    step = minidl.compile(fn)
    with pytest.warns(RuntimeWarning, match=reason):
        for x, y in batches(3):
            assert step(x, y).item() == reference(x, y).item()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step(*next(batches(1)))
        reference(*next(batches(1)))
    assert_same_state(eager, compiled)
    assert step.plan.startswith("eager (no plan):")


@pytest.mark.parametrize("case", range(4))
def test_fallback_false_raises_naming_the_reason(case):
    model, opt, _ = build("Adam")
    reason, fn = list(_refusing_steps(model, opt).items())[case]
    with pytest.raises(minidl.CompileError, match=reason):
        minidl.compile(fn, fallback=False)(*next(batches(1)))


def test_what_the_plan_cannot_replay_is_refused_by_name():
    model, opt, _ = build("SGD")
    x, y = next(batches(1))

    def retain(x, y):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward(retain_graph=True)
        return loss

    def closure_step(x, y):
        def closure():
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            return loss
        return opt.step(closure)

    def made_inside(x, y):
        return nn.functional.cross_entropy(model(x) + minidl.zeros(10), y)
    for fn, reason in ((retain, "retain_graph"), (closure_step, r"step\(closure\)"),
                       (made_inside, "makes a tensor from Python data")):
        with pytest.raises(minidl.CompileError, match=reason):
            minidl.compile(fn, fallback=False)(x, y)
    x.requires_grad_()
    with pytest.raises(minidl.CompileError, match="input of the step requires grad"):
        minidl.compile(lambda x: model(x), fallback=False)(x)


def test_hooks_are_refused():
    model, opt, fn = build()
    handle = model[0].register_forward_hook(lambda module, args, out: None)
    with pytest.raises(minidl.CompileError, match="forward hook"):
        minidl.compile(fn, fallback=False)(*next(batches(1)))
    handle.remove()
    model[2].weight.register_hook(lambda g: g * 2)
    with pytest.raises(minidl.CompileError, match="gradient hook"):
        minidl.compile(fn, fallback=False)(*next(batches(1)))


def test_a_hook_added_after_tracing_sends_the_step_back_to_tracing():
    eager, compiled = build(), build()
    step = minidl.compile(compiled[2])
    x, y = next(batches(1))
    step(x, y), eager[2](x, y)
    for setup in (eager, compiled):
        setup[0][0].register_forward_hook(lambda module, args, out: out * 0.5)
    with pytest.warns(RuntimeWarning, match="forward hook"):
        assert step(x, y).item() == eager[2](x, y).item()


def test_a_swapped_layer_or_a_frozen_parameter_is_a_new_key():
    eager, compiled = build("SGD"), build("SGD")
    step = minidl.compile(compiled[2], fallback=False)
    data = list(batches(6))
    for x, y in data[:2]:
        assert step(x, y).item() == eager[2](x, y).item()
    for setup in (eager, compiled):
        minidl.manual_seed(5)
        setattr(setup[0], "4", nn.Linear(128, 10))   # not in the optimizer: trains no further
    for x, y in data[2:4]:
        assert step(x, y).item() == eager[2](x, y).item()
    for setup in (eager, compiled):
        setup[0][0].weight.requires_grad_(False)
    for x, y in data[4:]:
        assert step(x, y).item() == eager[2](x, y).item()
    assert len(step._entries) == 3
    assert_same_state(eager, compiled)


def test_bad_arguments():
    with pytest.raises(TypeError, match="expects a function"):
        minidl.compile(3)
    with pytest.raises(TypeError, match="fallback must be True or False"):
        minidl.compile(lambda: None, fallback="no")
    with pytest.raises(TypeError, match="fullgraph must be True or False"):
        minidl.compile(lambda: None, fullgraph="yes")
    with pytest.raises(TypeError, match="disable must be True or False"):
        minidl.compile(fullgraph=True)(lambda: None, disable=1)
    assert "no plan yet" in minidl.compile(lambda: None).plan


def test_the_digits_cnn_follows_the_eager_trajectory():
    images = X.reshape(-1, 1, 8, 8)

    def cnn():
        minidl.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
                              nn.Flatten(), nn.Linear(128, 10))
        opt = minidl.optim.RMSprop(model.parameters(), lr=1e-3)

        def step(x, y):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return model, opt, step
    eager, compiled = cnn(), cnn()
    step = minidl.compile(compiled[2], fallback=False)
    for i in range(30):
        start = (i * 48) % 250
        x, y = minidl.tensor(images[start:start + 48]), minidl.tensor(Y[start:start + 48])
        np.testing.assert_allclose(step(x, y).item(), eager[2](x, y).item(), rtol=1e-5)
    assert_same_state(eager, compiled)
    for part in ("conv2d(in0, 0.weight) + 0.bias", "max_pool2d", "avg_pool2d", "flatten"):
        assert part in step.plan, part


# -- fit, the estimators and the command line ----------------------------------------------
def _fit_twice(targets, loss_fn, outputs, **options):
    results = []
    for compile in (False, True):
        minidl.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, outputs))
        opt = minidl.optim.Adam(model.parameters(), lr=1e-3)
        with warnings.catch_warnings():
            warnings.simplefilter("error")      # no fallback: every step after the first compiled
            history = minidl.fit(model, loss_fn, opt, (X, targets), epochs=3, batch_size=64,
                                 progress=False, seed=0, compile=compile, **options)
        results.append((history, [np.asarray(p).copy() for p in model.parameters()]))
    (eager, eager_params), (compiled, compiled_params) = results
    np.testing.assert_allclose(compiled.loss, eager.loss, rtol=1e-5)
    for p, q in zip(eager_params, compiled_params):
        np.testing.assert_allclose(q, p, rtol=1e-4, atol=1e-7)
    return eager, compiled


def test_fit_compile_classification_with_clipping():
    eager, compiled = _fit_twice(Y, nn.CrossEntropyLoss(), 10, clip_grad_norm=0.5)
    assert compiled.accuracy == eager.accuracy


def test_fit_compile_regression_reshapes_the_targets_before_the_plan():
    _fit_twice(X[:, 0] - X[:, 1], nn.MSELoss(), 1, metrics=())


def test_fit_compile_with_optimizer_stats_measures_every_compiled_step():
    from minidl.monitor import OptimizerStats
    records = []
    for compile in (False, True):
        model, opt, _ = build("RMSprop")
        stats = OptimizerStats(opt)
        minidl.fit(model, nn.CrossEntropyLoss(), opt, (X, Y), epochs=2, batch_size=64,
                   progress=False, seed=0, compile=compile, callbacks=[stats])
        records.append(stats.history)
    assert records[0].history == records[1].history and records[1].epochs == 2


def test_fit_compile_must_be_a_bool():
    model, opt, _ = build()
    with pytest.raises(TypeError, match="compile must be True or False"):
        minidl.fit(model, nn.CrossEntropyLoss(), opt, (X, Y), compile="yes")


def test_estimators_with_compile_predict_as_without():
    from minidl.sklearn import MLPClassifier, MLPRegressor
    for estimator, y in ((MLPClassifier, Y), (MLPRegressor, X[:, 0] * 2.0)):
        fitted = [estimator(hidden_layer_sizes=(32,), epochs=3, random_state=0,
                            compile=compile).fit(X, y) for compile in (False, True)]
        np.testing.assert_allclose(fitted[1].loss_curve_, fitted[0].loss_curve_, rtol=1e-5)
        np.testing.assert_allclose(fitted[1].predict(X), fitted[0].predict(X), rtol=1e-4,
                                   atol=1e-6)
        assert fitted[1].get_params()["compile"] is True


def test_the_command_line_trains_the_same_run_with_compile(capsys):
    from minidl.cli import main
    outputs = []
    for extra in ([], ["--compile"]):
        assert main(["train", "--dataset", "moons", "--hidden", "16", "--no-progress",
                     "--epochs", "2", *extra]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]


def test_pytorchs_forms_of_compile():
    """torch.compile(model) returns the model (a plan is made of whole steps), the
    decorator forms work, fullgraph=True refuses a graph break as fallback=False does,
    disable=True returns the function, and torch's other options change nothing."""
    model, _, step = build()
    assert minidl.compile(model) is model
    assert minidl.compile(model, mode="max-autotune", dynamic=True, backend="eager") is model
    assert minidl.compile(step, disable=True) is step
    decorated, later = minidl.compile(step), minidl.compile()(step)
    assert decorated.fallback is True and later.fallback is True
    x, y = next(batches(1))
    decorated(x, y)
    assert decorated(x, y).item() > 0 and "no plan yet" not in decorated.plan

    def breaks(x, y):
        return step(x, y) if step(x, y).item() > 0 else None    # .item() inside the step
    strict = minidl.compile(fullgraph=True)(breaks)
    assert strict.fallback is False
    with pytest.raises(minidl.CompileError, match="item"):
        strict(x, y)
