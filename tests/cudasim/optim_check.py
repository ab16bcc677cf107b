"""The optimizers on device="cuda" under numba's CUDA simulator, against device="cpu".

Run by tests/test_optim_cudasim.py with NUMBA_ENABLE_CUDASIM=1 (it must be set
before numba is imported, hence a process of its own), and as a script on a
real GPU by benchmarks/gpu_check.sh. Exits non-zero, with the failing
assertion, when anything disagrees.
"""
from __future__ import annotations

import os

import numpy as np

from minidl.kernels import cuda_problem

assert os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or cuda_problem() is None, (
    f"run me with NUMBA_ENABLE_CUDASIM=1 or on a GPU ({cuda_problem()})")

from minidl import Tensor  # noqa: E402  (after the environment check)
from minidl.optim import (ASGD, SGD, AdaBelief, Adadelta, Adagrad, Adam,  # noqa: E402
                          Adamax, AdamW, AdamWScheduleFree, Lion, NAdam, RAdam, RMSprop,
                          Rprop, SGDScheduleFree)
from minidl.optim import Adafactor, Muon  # noqa: E402
from minidl.nn.utils import vector_to_parameters  # noqa: E402

SHAPES = [(3, 2), (4,), (2, 2)]
CASES = [
    (SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    (RMSprop, dict(lr=0.01, centered=True, momentum=0.9, weight_decay=0.01)),
    (RMSprop, dict(lr=0.01, eps_in_sqrt=True, initial_accumulator_value=1.0, maximize=True)),
    (Adam, dict(lr=0.01, amsgrad=True)),
    (AdamW, dict(lr=0.01, weight_decay=0.1)),
    (RMSprop, dict(lr=0.01, momentum=0.9, lr_in_momentum=True)),
    (Rprop, dict(lr=0.01, etas=(0.4, 1.3))),
    (Adadelta, dict(lr=1.0, weight_decay=0.01)),
    (Adamax, dict(lr=0.01)),
    (NAdam, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    (RAdam, dict(lr=0.01, betas=(0.9, 0.99))),
    (Adafactor, dict(lr=0.05, weight_decay=0.1, maximize=True)),
]
STEPS = 10


def make_params(seed: int = 0) -> list[Tensor]:
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(shape), requires_grad=True) for shape in SHAPES]


def grads_for(step: int, params: list[Tensor]) -> list[np.ndarray]:
    rng = np.random.default_rng(1000 + step)
    return [rng.standard_normal(p.shape).astype(np.float32) for p in params]


def groups(params: list[Tensor]) -> list[dict]:
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.02}]


def run(opt, params, steps, skip=lambda step, i: False, first_step=0) -> None:
    for step in range(first_step, first_step + steps):
        for i, (p, g) in enumerate(zip(params, grads_for(step, params))):
            p.grad = None if skip(step, i) else g
        opt.step()


def assert_close(params, others, what: str) -> None:
    for p, q in zip(params, others):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-5, atol=1e-6, err_msg=what)


def assert_same_run(on_gpu: tuple, on_host: tuple, what: str) -> None:
    """The (params, optimizer) pairs of a cuda and a cpu run agree: params and state."""
    (gpu, gpu_opt), (host, host_opt) = on_gpu, on_host
    assert_close(gpu, host, what)
    for p, q in zip(gpu, host):
        for name, value in host_opt.state[q].items():
            np.testing.assert_allclose(gpu_opt.state[p][name], value, rtol=1e-5, atol=1e-6,
                                       err_msg=f"{what}: state {name}")


def check_matches_cpu() -> None:
    for cls, options in CASES:
        pair = []
        for device in ("cuda", "cpu"):
            params = make_params()
            opt = cls(groups(params), device=device, **options)
            assert opt.device == device
            run(opt, params, STEPS)
            pair.append((params, opt))
        assert_same_run(*pair, f"{cls.__name__} {options}")


def check_unused_params_run_in_pieces() -> None:
    skip = lambda step, i: (i == 1 and step < 3) or (i == 0 and step == 5)  # noqa: E731
    results = []
    for device in ("cuda", "cpu"):
        params = make_params()
        opt = Adam(params, lr=0.01, device=device)
        run(opt, params, STEPS, skip)
        results.append((params, [opt.state[p]["step"] for p in params]))
    (gpu, gpu_steps), (host, host_steps) = results
    assert gpu_steps == host_steps == [STEPS - 1, STEPS - 3, STEPS], gpu_steps
    assert_close(gpu, host, "unused params")


def check_adafactor_skips_params_without_grads_in_both_dtypes() -> None:
    """One launch per group, a block per param: a 3-D and a 0-d param too."""
    skip = lambda step, i: (i == 1 and step < 3) or (i == 3 and step == 5)  # noqa: E731
    for dtype in (np.float32, np.float64):
        results = []
        for device in ("cuda", "cpu"):
            rng = np.random.default_rng(0)
            params = [Tensor(rng.standard_normal(shape), requires_grad=True, dtype=dtype)
                      for shape in ((3, 2), (4,), (2, 2, 3), ())]
            opt = Adafactor(params, lr=0.05, device=device)
            for step in range(STEPS):
                for i, p in enumerate(params):
                    p.grad = None if skip(step, i) else rng.standard_normal(p.shape)
                opt.step()
            results.append((params, [opt.state[p]["step"] for p in params]))
        (gpu, gpu_steps), (host, host_steps) = results
        assert gpu_steps == host_steps == [STEPS, STEPS - 3, STEPS, STEPS - 1], gpu_steps
        tolerance = 1e-12 if dtype == np.float64 else 1e-6
        for p, q in zip(gpu, host):
            np.testing.assert_allclose(np.asarray(p), np.asarray(q), rtol=tolerance,
                                       atol=tolerance)


def check_muon_on_wide_tall_and_square_matrices() -> None:
    """The momentum in one launch, then per matrix the Newton-Schulz GEMMs (a tall
    matrix is iterated transposed), with grads skipped on some steps."""
    skip = lambda step, i: i == 1 and step < 2  # noqa: E731
    for dtype in (np.float32, np.float64):
        for options in (dict(lr=0.05), dict(lr=0.05, nesterov=False, ns_steps=2,
                                            adjust_lr_fn="match_rms_adamw")):
            results = []
            for device in ("cuda", "cpu"):
                rng = np.random.default_rng(0)
                params = [Tensor(rng.standard_normal(shape), requires_grad=True, dtype=dtype)
                          for shape in ((3, 2), (2, 4), (3, 3))]
                opt = Muon(params, device=device, **options)
                for step in range(4):
                    for i, p in enumerate(params):
                        p.grad = None if skip(step, i) else rng.standard_normal(p.shape)
                    opt.step()
                results.append((params, opt))
            (gpu, gpu_opt), (host, host_opt) = results
            tolerance = 1e-12 if dtype == np.float64 else 1e-5
            for p, q in zip(gpu, host):
                np.testing.assert_allclose(np.asarray(p), np.asarray(q), rtol=tolerance,
                                           atol=tolerance)
                np.testing.assert_allclose(gpu_opt.state[p]["momentum_buffer"],
                                           host_opt.state[q]["momentum_buffer"],
                                           rtol=tolerance, atol=tolerance)


def check_data_assigned_after_construction_is_uploaded() -> None:
    """Assigning a new array, an in-place write through ``p.data[...] = x`` and
    ``p.data += x`` all reach the device: each write through minidl marks the
    flat buffer dirty."""
    results = []
    for device in ("cuda", "cpu"):
        params = make_params()
        opt = RMSprop(params, lr=0.01, momentum=0.5, device=device)
        run(opt, params, 3)
        params[1].data = np.full(params[1].shape, 5.0)
        run(opt, params, 3, first_step=3)
        params[2].data[...] = -7.0
        params[0].data += 9.0
        run(opt, params, 3, first_step=6)
        results.append(params)
    assert abs(results[0][1].numpy() - 5.0).max() < 1.0, "the assigned data was not used"
    assert abs(results[0][2].numpy() + 7.0).max() < 1.0, "the edited data was not used"
    assert results[0][0].numpy().min() > 7.0, "the incremented data was not used"
    assert_close(*results, "data assigned after construction")


def check_vector_to_parameters_is_uploaded() -> None:
    """``nn.utils.vector_to_parameters`` writes into the params' own arrays through
    minidl's copy_, so the device copy of the flat buffer follows it."""
    results = []
    for device in ("cuda", "cpu"):
        params = make_params()
        opt = SGD(params, lr=0.1, momentum=0.9, device=device)
        run(opt, params, 3)
        total = sum(p.numel() for p in params)
        vector_to_parameters(Tensor(np.linspace(10.0, 11.0, total, dtype=np.float32)), params)
        run(opt, params, 3, first_step=3)
        results.append(params)
    assert results[0][0].numpy().min() > 8.0, "the written vector was not used"
    assert_close(*results, "vector_to_parameters after construction")


def check_state_dict_moves_between_cuda_and_cpu() -> None:
    straight = make_params()
    run(RMSprop(groups(straight), centered=True, momentum=0.9, device="cpu"), straight, 15)

    params = make_params()
    on_gpu = RMSprop(groups(params), centered=True, momentum=0.9, device="cuda")
    run(on_gpu, params, 5)
    on_cpu = RMSprop(groups(params), device="cpu")      # takes the params over
    on_cpu.load_state_dict(on_gpu.state_dict())
    run(on_cpu, params, 5, first_step=5)
    back_on_gpu = RMSprop(groups(params), device="cuda")
    back_on_gpu.load_state_dict(on_cpu.state_dict())
    run(back_on_gpu, params, 5, first_step=10)
    assert_close(params, straight, "state_dict cuda -> cpu -> cuda")


def check_a_failed_launch_leaves_host_params_untouched() -> None:
    params = make_params()
    opt = SGD(params, lr=0.1, momentum=0.9, device="cuda")
    run(opt, params, 2)
    before = [np.array(p.numpy()) for p in params]
    kernel = opt._kernel

    def fails_after_launch(*args):
        kernel(*args)
        raise RuntimeError("simulated CUDA error")

    opt._kernel = fails_after_launch
    for p, g in zip(params, grads_for(2, params)):
        p.grad = g
    try:
        opt.step()
    except RuntimeError as error:
        assert "simulated CUDA error" in str(error)
    else:
        raise AssertionError("the error did not propagate")
    assert all(np.array_equal(p.numpy(), b) for p, b in zip(params, before))
    assert opt._flat[0].host_dirty, "the host params must be re-sent before the next step"
    assert list(opt._flat[0].step_counts()) == [2, 2, 2]   # SGD's state shows no step


DESCENDANTS = [
    (ASGD, dict(lr=0.05, lambd=0.1, t0=3.0, weight_decay=0.01)),
    (Lion, dict(lr=0.01, weight_decay=0.1)),
    (AdaBelief, dict(lr=0.01, amsgrad=True, rectify=False)),
    (AdaBelief, dict(lr=0.01, betas=(0.9, 0.9))),
    (AdamWScheduleFree, dict(lr=0.05, weight_decay=0.01, warmup_steps=3)),
    (SGDScheduleFree, dict(lr=0.1)),
]


def check_descendants_match_cpu() -> None:
    """Skipped grads (ASGD's eta and mu then differ between params: one launch per run),
    an lr change, and schedule-free's eval()/train() switch on the device."""
    skip = lambda step, i: (i == 1 and step < 3) or (i == 0 and step == 5)  # noqa: E731
    for cls, options in DESCENDANTS:
        pair = []
        for device in ("cuda", "cpu"):
            params = make_params()
            opt = cls(groups(params), device=device, **options)
            if hasattr(opt, "train"):
                opt.train()
            run(opt, params, 5, skip)
            opt.param_groups[0]["lr"] *= 0.5
            if hasattr(opt, "eval"):
                opt.eval()
                opt.train()
            run(opt, params, 5, skip, first_step=5)
            if hasattr(opt, "eval"):
                opt.eval()
            pair.append((params, opt))
        assert_same_run(*pair, f"{cls.__name__} {options}")


def main() -> None:
    check_matches_cpu()
    check_descendants_match_cpu()
    check_unused_params_run_in_pieces()
    check_adafactor_skips_params_without_grads_in_both_dtypes()
    check_muon_on_wide_tall_and_square_matrices()
    check_data_assigned_after_construction_is_uploaded()
    check_vector_to_parameters_is_uploaded()
    check_state_dict_moves_between_cuda_and_cpu()
    check_a_failed_launch_leaves_host_params_untouched()
    assert RMSprop(make_params()).device == "cuda", "auto should pick the (simulated) GPU"
    where = "the CUDA simulator" if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" else "a GPU"
    print(f"optim under {where}: ok")


if __name__ == "__main__":
    main()
