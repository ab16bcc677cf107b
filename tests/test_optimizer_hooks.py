"""Optimizer hooks (step, state_dict, load_state_dict: optim/optimizer_hooks.py), and
minidl.compile with them, with a module's full backward hooks and with the halves of
clip_grad_norm_: a compiled step runs the hooks as the eager step does, or goes eager."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import minidl
import minidl.nn as nn
from minidl import optim


def sgd(**options):
    p = minidl.ones(3, requires_grad=True)
    p.grad = np.ones(3, np.float32)
    return optim.SGD([p], lr=0.1, device="cpu", **options), p


def test_step_hooks_run_around_the_step_in_order_and_come_off():
    optimizer, p = sgd()
    calls = []
    first = optimizer.register_step_pre_hook(
        lambda opt, args, kwargs: calls.append(("pre", opt is optimizer, args, kwargs,
                                                 p.numpy()[0])))
    optimizer.register_step_post_hook(
        lambda opt, args, kwargs: calls.append(("post", p.numpy()[0])))
    optimizer.step()
    assert calls == [("pre", True, (), {}, 1.0), ("post", pytest.approx(0.9))]
    first.remove()
    optimizer.step()
    assert calls[-1] == ("post", pytest.approx(0.8)) and len(calls) == 3


def test_a_pre_hook_may_replace_the_steps_arguments():
    optimizer, _ = sgd()
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: ((), {"closure": lambda: 42.0}))
    assert optimizer.step() == 42.0
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: "no")
    with pytest.raises(RuntimeError, match="must return None or a tuple of \\(new_args, "
                                           "new_kwargs\\), but got no"):
        optimizer.step()


def _train(optimizer):
    optimizer.train()
    return optimizer


@pytest.mark.parametrize("make", [
    lambda ps: optim.ASGD(ps, lr=0.1, device="cpu"),                 # step calls super().step()
    lambda ps: _train(optim.SGDScheduleFree(ps, lr=0.1, device="cpu")),
    lambda ps: optim.LBFGS(ps, lr=0.1, max_iter=2),
], ids=["ASGD", "SGDScheduleFree", "LBFGS"])
def test_hooks_run_once_for_optimizers_with_a_step_of_their_own(make):
    p = minidl.ones(2, requires_grad=True)
    optimizer = make([p])
    counts = {"pre": 0, "post": 0}
    optimizer.register_step_pre_hook(lambda *a: counts.__setitem__("pre", counts["pre"] + 1))
    optimizer.register_step_post_hook(lambda *a: counts.__setitem__("post", counts["post"] + 1))

    def closure():
        optimizer.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    optimizer.step(closure)
    assert counts == {"pre": 1, "post": 1}


def test_state_dict_hooks_and_prepend():
    optimizer, _ = sgd()
    order = []
    optimizer.register_state_dict_pre_hook(lambda opt: order.append("pre"))
    optimizer.register_state_dict_pre_hook(lambda opt: order.append("pre first"), prepend=True)
    optimizer.register_state_dict_post_hook(lambda opt, state: {**state, "extra": 1})
    state = optimizer.state_dict()
    assert order == ["pre first", "pre"] and state["extra"] == 1
    assert set(state) == {"state", "param_groups", "extra"}


def test_load_state_dict_hooks_see_a_copy_and_may_replace_it():
    optimizer, _ = sgd(momentum=0.9)
    saved = optimizer.state_dict()
    saved["param_groups"][0]["lr"] = 0.5
    saved["extra"] = "written by a newer version"
    seen = []

    def drop_extra(opt, state):
        seen.append(sorted(state))
        state.pop("extra")

    optimizer.register_load_state_dict_pre_hook(drop_extra)
    optimizer.register_load_state_dict_post_hook(lambda opt: seen.append(opt.param_groups[0]["lr"]))
    optimizer.load_state_dict(saved)
    assert seen == [["extra", "param_groups", "state"], 0.5] and "extra" in saved
    optimizer.register_load_state_dict_pre_hook(
        lambda opt, state: {**state, "param_groups": [{**state["param_groups"][0], "lr": 0.25}]})
    optimizer.load_state_dict(saved)
    assert optimizer.param_groups[0]["lr"] == 0.25


def test_hooks_are_not_copied_and_copying_runs_none():
    import copy
    optimizer, _ = sgd()
    optimizer.register_step_pre_hook(lambda *a: 1 / 0)
    optimizer.register_state_dict_post_hook(lambda opt, state: {**state, "extra": 1})
    copy.deepcopy(optimizer).step()


# -- minidl.compile -----------------------------------------------------------------------
def setup():
    minidl.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, device="cpu")
    return model, optimizer


def data(steps: int):
    rng = np.random.default_rng(0)
    for _ in range(steps):
        yield (minidl.tensor(rng.standard_normal((6, 4)).astype(np.float32)),
               minidl.tensor(rng.integers(0, 3, 6)))


def step_of(model, optimizer):
    def step(x, y):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return step


def halve_grads(optimizer, args, kwargs):
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.grad.mul_(0.5)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_compiled_step_runs_step_hooks_as_the_eager_one(when):
    runs = []
    for compiled in (False, True):
        model, optimizer = setup()
        calls = []
        step = step_of(model, optimizer)
        step = minidl.compile(step, fallback=False) if compiled else step
        for i, (x, y) in enumerate(data(6)):
            if i == (0 if when == "before" else 3):
                optimizer.register_step_pre_hook(halve_grads)
                optimizer.register_step_post_hook(lambda *a: calls.append(1))
            step(x, y)
        runs.append(([p.numpy().copy() for p in model.parameters()], len(calls)))
    (eager, eager_calls), (replayed, replayed_calls) = runs
    assert eager_calls == replayed_calls == (6 if when == "before" else 3)
    for a, b in zip(eager, replayed):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_backward_hook_added_after_tracing_sends_the_step_back_to_eager():
    runs = []
    for compiled in (False, True):
        model, optimizer = setup()
        step = step_of(model, optimizer)
        step = minidl.compile(step) if compiled else step
        seen = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i, (x, y) in enumerate(data(4)):
                if i == 2:
                    model[2].register_full_backward_hook(
                        lambda m, gi, go: seen.append(1) or (gi[0] * 0,))
                step(x, y)
        runs.append([p.numpy().copy() for p in model.parameters()])
        assert len(seen) == 2
        if compiled:
            assert any("full backward hook" in str(w.message) for w in caught)
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    model, optimizer = setup()
    model[0].register_full_backward_pre_hook(lambda m, go: None)
    with pytest.raises(minidl.CompileError, match="full backward hook"):
        minidl.compile(step_of(model, optimizer), fallback=False)(*next(data(1)))


def test_the_halves_of_clip_grad_norm_send_a_compiled_step_back_to_eager():
    model, optimizer = setup()

    def step(x, y):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        nn.utils.clip_grads_with_norm_(model.parameters(), 0.1, 10.0)   # a total known
        optimizer.step()
    with pytest.raises(minidl.CompileError, match="nn.utils.clip_grads_with_norm_: the plan "
                                                  "records clip_grad_norm_"):
        minidl.compile(step, fallback=False)(*next(data(1)))
