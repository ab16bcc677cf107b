"""Reference optimizer updates in plain numpy: the test oracle, written for clarity.

Every update works IN PLACE on flat, contiguous 1-D arrays of one float dtype
(float32 or float64): ``param`` and its state buffers are overwritten, ``grad``
is only read. A state buffer the chosen options do not use is passed as a
zero-length array of the same dtype. Scalars are cast to the array's dtype
before use, so a float32 update stays float32 throughout.

The semantics are PyTorch's ``torch.optim`` 2.x single-tensor path
(``foreach=False``), in PyTorch's operation order, so float32 results agree
with PyTorch's to rounding; the descendants beyond torch.optim (``lion``,
``adabelief``, ``schedule_free``) follow their authors' packages in the same
way. Below, ``g`` is the gradient after the ``maximize``
negation and the coupled weight decay:

    g = -grad if maximize else grad
    g = g + weight_decay * p                       (when weight_decay != 0)

The other backends (``cpu``, ``cuda``) export the same functions, with the same
positional arguments, and the small array API at the bottom of this module.
"""
from __future__ import annotations

import math

import numpy as np

name = "reference"
on_host = True

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_arrays(param: np.ndarray, grad: np.ndarray,
                 *buffers: tuple[np.ndarray, bool]) -> None:
    """Raise unless param, grad and the state buffers fit one update.

    ``buffers`` are ``(state buffer, whether these options use it)`` pairs.
    param, grad and every used buffer must be 1-D arrays of param's size;
    every array, used or not, must have param's dtype, float32 or float64.
    Kernels write through raw indices, so a short buffer would be a silent
    out-of-bounds write and a mixed dtype a silent float64 promotion.
    """
    dtype = param.dtype
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"Invalid param dtype: {dtype} (expected float32 or float64)")
    for index, (array, in_use) in enumerate(((param, True), (grad, True), *buffers)):
        if array.dtype != dtype:
            raise TypeError(f"Invalid array dtype: {array.dtype} for argument {index} "
                            f"(param is {dtype})")
        if in_use and (array.ndim != 1 or array.size != param.size):
            raise ValueError(f"Invalid array shape: {array.shape} for argument {index} "
                             f"(expected flat arrays of param's size {param.size})")


def _effective_grad(param: np.ndarray, grad: np.ndarray, weight_decay: float,
                    maximize: bool) -> np.ndarray:
    """g = (-grad if maximize else grad) + weight_decay * p, as a new array."""
    cast = param.dtype.type
    g = -grad if maximize else grad.copy()
    if weight_decay != 0:
        g = g + cast(weight_decay) * param
    return g


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start <- start + weight * (end - start), in place, in PyTorch's two forms.

    PyTorch evaluates ``lerp`` as ``start + w * (end - start)`` when |w| < 0.5
    and as ``end - (end - start) * (1 - w)`` otherwise: equal in exact
    arithmetic, each the more accurate one on its side of 0.5.
    """
    cast = start.dtype.type
    if abs(weight) < 0.5:
        start += cast(weight) * (end - start)
    else:
        start[...] = end - (end - start) * cast(1 - weight)


def sgd(param: np.ndarray, grad: np.ndarray, momentum_buffer: np.ndarray, lr: float,
        momentum: float, dampening: float, weight_decay: float, nesterov: bool, maximize: bool,
        step: int) -> None:
    """Stochastic gradient descent with optional (Nesterov) momentum.

        g   = ±grad + weight_decay * p
        if momentum != 0:
            buf = g                                      at step == 1
            buf = momentum * buf + (1 - dampening) * g   after
            g   = g + momentum * buf     if nesterov else   g = buf
        p   = p - lr * g

    ``step`` is this update's 1-based count for the param: the momentum buffer
    is created (set to g) at step 1, as PyTorch creates it on the first step.
    """
    check_arrays(param, grad, (momentum_buffer, momentum != 0))
    cast = param.dtype.type
    g = _effective_grad(param, grad, weight_decay, maximize)
    if momentum != 0:
        if step == 1:
            momentum_buffer[...] = g
        else:
            momentum_buffer *= cast(momentum)
            momentum_buffer += cast(1 - dampening) * g
        if nesterov:
            g = g + cast(momentum) * momentum_buffer
        else:
            g = momentum_buffer
    param += cast(-lr) * g


def adagrad(param: np.ndarray, grad: np.ndarray, state_sum: np.ndarray, lr: float,
            lr_decay: float, weight_decay: float, eps: float, maximize: bool, step: int) -> None:
    """Adagrad: per-coordinate steps shrink with the sum of squared gradients.

        g    = ±grad + weight_decay * p
        clr  = lr / (1 + (step - 1) * lr_decay)
        sum  = sum + g * g
        p    = p - clr * g / (sqrt(sum) + eps)

    ``step`` is the 1-based count of this update. PyTorch's
    ``initial_accumulator_value`` is the initial value of ``state_sum``.
    """
    check_arrays(param, grad, (state_sum, True))
    cast = param.dtype.type
    g = _effective_grad(param, grad, weight_decay, maximize)
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += g * g
    std = np.sqrt(state_sum) + cast(eps)
    param += cast(-clr) * g / std


def rmsprop(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray, grad_avg: np.ndarray,
            momentum_buffer: np.ndarray, lr: float, alpha: float, eps: float,
            weight_decay: float, momentum: float, centered: bool, maximize: bool,
            eps_in_sqrt: bool, lr_in_momentum: bool = False) -> None:
    """RMSprop: divide the gradient by a running root mean square of its history.

        g    = ±grad + weight_decay * p
        v    = alpha * v + (1 - alpha) * g * g          (square_avg)
        if centered:
            m = m + (1 - alpha) * (g - m)               (grad_avg, a lerp)
            d = max(v - m * m, 0)
        else:
            d = v
        denom = sqrt(d) + eps            or  sqrt(d + eps) when eps_in_sqrt
        if momentum > 0 and lr_in_momentum:            (TensorFlow/Keras)
            buf = momentum * buf + lr * g / denom
            p   = p - buf
        elif momentum > 0:                              (PyTorch)
            buf = momentum * buf + g / denom
            p   = p - lr * buf
        else:
            p   = p - lr * g / denom

    Two minidl extensions to PyTorch: the centered variance ``v - m*m`` is
    clamped at 0 (in floating point it can dip below 0 when the gradient is
    nearly constant, and PyTorch's ``sqrt`` then gives NaN), and
    ``eps_in_sqrt`` selects the TensorFlow/optax denominator ``sqrt(d + eps)``.
    An initial value of ``v`` is the initial value of ``square_avg``.
    """
    check_arrays(param, grad, (square_avg, True), (grad_avg, centered),
                 (momentum_buffer, momentum > 0))
    cast = param.dtype.type
    g = _effective_grad(param, grad, weight_decay, maximize)
    square_avg *= cast(alpha)
    square_avg += cast(1 - alpha) * g * g
    if centered:
        _lerp_(grad_avg, g, 1 - alpha)
        d = np.maximum(square_avg - grad_avg * grad_avg, cast(0))
    else:
        d = square_avg
    denom = np.sqrt(d + cast(eps)) if eps_in_sqrt else np.sqrt(d) + cast(eps)
    if momentum > 0 and lr_in_momentum:
        momentum_buffer *= cast(momentum)
        momentum_buffer += cast(lr) * g / denom
        param -= momentum_buffer
    elif momentum > 0:
        momentum_buffer *= cast(momentum)
        momentum_buffer += g / denom
        param += cast(-lr) * momentum_buffer
    else:
        param += cast(-lr) * g / denom


def adam(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray,
         max_exp_avg_sq: np.ndarray, lr: float, beta1: float, beta2: float, eps: float,
         weight_decay: float, decoupled_weight_decay: bool, amsgrad: bool, maximize: bool,
         step: int) -> None:
    """Adam, AMSGrad and AdamW (decoupled weight decay).

        if decoupled_weight_decay:  p = p * (1 - lr * weight_decay),  g = ±grad
        else:                       g = ±grad + weight_decay * p
        m     = m + (1 - beta1) * (g - m)               (exp_avg, a lerp)
        v     = beta2 * v + (1 - beta2) * g * g         (exp_avg_sq)
        bc1   = 1 - beta1 ** step,   bc2 = 1 - beta2 ** step
        if amsgrad:  vmax = max(vmax, v), and vmax is used in place of v
        denom = sqrt(v) / sqrt(bc2) + eps
        p     = p - (lr / bc1) * m / denom

    ``step`` is the 1-based count of this update. The bias corrections are
    computed in float64 once per call, then cast to the array dtype.
    """
    check_arrays(param, grad, (exp_avg, True), (exp_avg_sq, True), (max_exp_avg_sq, amsgrad))
    cast = param.dtype.type
    if decoupled_weight_decay:
        if weight_decay != 0:
            param *= cast(1 - lr * weight_decay)
        g = _effective_grad(param, grad, 0, maximize)
    else:
        g = _effective_grad(param, grad, weight_decay, maximize)
    _lerp_(exp_avg, g, 1 - beta1)
    exp_avg_sq *= cast(beta2)
    exp_avg_sq += cast(1 - beta2) * g * g
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        v = max_exp_avg_sq
    else:
        v = exp_avg_sq
    denom = np.sqrt(v) / cast(bias_correction2_sqrt) + cast(eps)
    param += cast(-step_size) * exp_avg / denom


def rprop(param: np.ndarray, grad: np.ndarray, prev: np.ndarray, step_size: np.ndarray,
          lr: float, etaminus: float, etaplus: float, step_size_min: float,
          step_size_max: float, maximize: bool, step: int) -> None:
    """Rprop: each coordinate moves by its own step size, in the direction of
    the gradient's sign; the step size grows while the sign holds, shrinks when
    it flips.

        g = -grad if maximize else grad
        at step 1:  prev = 0,  step_size = lr
        s = sign(g * prev)
        step_size = clamp(step_size * (etaplus if s > 0, etaminus if s < 0,
                          1 if s == 0), step_size_min, step_size_max)
        g = 0 where s < 0          (the previous step overshot: no move now)
        p = p - sign(g) * step_size
        prev = g
    """
    check_arrays(param, grad, (prev, True), (step_size, True))
    cast = param.dtype.type
    g = -grad if maximize else grad.copy()
    if step == 1:
        prev[...] = 0
        step_size[...] = cast(lr)
    s = np.sign(g * prev)
    factor = np.where(s > 0, cast(etaplus), np.where(s < 0, cast(etaminus), cast(1)))
    np.clip(step_size * factor, cast(step_size_min), cast(step_size_max), out=step_size)
    g[s < 0] = 0
    param -= np.sign(g) * step_size
    prev[...] = g


def adadelta(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
             acc_delta: np.ndarray, lr: float, rho: float, eps: float, weight_decay: float,
             maximize: bool) -> None:
    """Adadelta: RMSprop whose step is rescaled by the RMS of past steps.

        g     = ±grad + weight_decay * p
        v     = rho * v + (1 - rho) * g * g              (square_avg)
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u     = rho * u + (1 - rho) * delta * delta      (acc_delta)
        p     = p - lr * delta
    """
    check_arrays(param, grad, (square_avg, True), (acc_delta, True))
    cast = param.dtype.type
    g = _effective_grad(param, grad, weight_decay, maximize)
    square_avg *= cast(rho)
    square_avg += cast(1 - rho) * g * g
    delta = np.sqrt(acc_delta + cast(eps)) / np.sqrt(square_avg + cast(eps)) * g
    acc_delta *= cast(rho)
    acc_delta += cast(1 - rho) * delta * delta
    param += cast(-lr) * delta


def adamax(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_inf: np.ndarray,
           lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
           maximize: bool, step: int) -> None:
    """Adamax: Adam with the infinity norm in place of the RMS.

        g = ±grad + weight_decay * p
        m = m + (1 - beta1) * (g - m)                   (exp_avg, a lerp)
        u = max(beta2 * u, |g| + eps)                   (exp_inf)
        p = p - lr / (1 - beta1 ** step) * (m / u)
    """
    check_arrays(param, grad, (exp_avg, True), (exp_inf, True))
    cast = param.dtype.type
    g = _effective_grad(param, grad, weight_decay, maximize)
    _lerp_(exp_avg, g, 1 - beta1)
    exp_inf *= cast(beta2)
    np.maximum(exp_inf, np.abs(g) + cast(eps), out=exp_inf)
    param += cast(-lr / (1 - beta1 ** step)) * (exp_avg / exp_inf)


def _decay_or_couple(param: np.ndarray, grad: np.ndarray, lr: float, weight_decay: float,
                     decoupled: bool, maximize: bool) -> np.ndarray:
    """Decoupled: p *= 1 - lr * weight_decay and g = ±grad; else g = ±grad + wd * p."""
    if decoupled:
        if weight_decay != 0:
            param *= param.dtype.type(1 - lr * weight_decay)
        return _effective_grad(param, grad, 0, maximize)
    return _effective_grad(param, grad, weight_decay, maximize)


def nadam(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray,
          lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
          momentum_decay: float, decoupled_weight_decay: bool, maximize: bool,
          step: int) -> None:
    """NAdam: Adam with Nesterov momentum, with Dozat's momentum schedule.

        mu_k  = beta1 * (1 - 0.5 * 0.96 ** (k * momentum_decay))
        P_k   = mu_1 * mu_2 * ... * mu_k
        g, p  as in Adam/AdamW (coupled or decoupled weight decay)
        m     = m + (1 - beta1) * (g - m)               (exp_avg, a lerp)
        v     = beta2 * v + (1 - beta2) * g * g         (exp_avg_sq)
        denom = sqrt(v / (1 - beta2 ** step)) + eps
        p     = p - lr * (1 - mu_t) / (1 - P_t) * (g / denom)
        p     = p - lr * mu_{t+1} / (1 - P_{t+1}) * (m / denom)
    """
    check_arrays(param, grad, (exp_avg, True), (exp_avg_sq, True))
    cast = param.dtype.type
    g = _decay_or_couple(param, grad, lr, weight_decay, decoupled_weight_decay, maximize)
    mus = [beta1 * (1 - 0.5 * 0.96 ** (k * momentum_decay)) for k in range(1, step + 2)]
    product = math.prod(mus[:step])
    _lerp_(exp_avg, g, 1 - beta1)
    exp_avg_sq *= cast(beta2)
    exp_avg_sq += cast(1 - beta2) * g * g
    denom = np.sqrt(exp_avg_sq / cast(1 - beta2 ** step)) + cast(eps)
    param += cast(-lr * (1 - mus[step - 1]) / (1 - product)) * (g / denom)
    param += cast(-lr * mus[step] / (1 - product * mus[step])) * (exp_avg / denom)


def radam(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray,
          lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
          decoupled_weight_decay: bool, maximize: bool, step: int) -> None:
    """RAdam: Adam whose adaptive step is switched on, and rectified, only once
    the variance estimate has enough history.

        g, p  as in Adam/AdamW (coupled or decoupled weight decay)
        m     = m + (1 - beta1) * (g - m);   v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1
        rho_t   = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
        m_hat   = m / (1 - beta1 ** t)
        if rho_t > 5:
            r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            p = p - m_hat * lr * sqrt(1 - beta2 ** t) / (sqrt(v) + eps) * r
        else:
            p = p - m_hat * lr
    """
    check_arrays(param, grad, (exp_avg, True), (exp_avg_sq, True))
    cast = param.dtype.type
    g = _decay_or_couple(param, grad, lr, weight_decay, decoupled_weight_decay, maximize)
    _lerp_(exp_avg, g, 1 - beta1)
    exp_avg_sq *= cast(beta2)
    exp_avg_sq += cast(1 - beta2) * g * g
    m_hat = exp_avg / cast(1 - beta1 ** step)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * beta2 ** step / (1 - beta2 ** step)
    if rho_t > 5:
        r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                      / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        adaptive = cast(math.sqrt(1 - beta2 ** step)) / (np.sqrt(exp_avg_sq) + cast(eps))
        param -= m_hat * cast(lr) * adaptive * cast(r)
    else:
        param -= m_hat * cast(lr)


# -- updates that see each parameter's shape ----------------------------------
#
# Adafactor and Muon reduce over rows, columns or whole matrices. They take the
# flat buffers and a ``table`` with one row per parameter (``minidl.optim.flat``):
#
#     offset, size, ndim, batch, rows, cols, then each state buffer's offset
#
# (the param as ``batch`` matrices of ``rows x cols``), and ``steps``, each
# param's new 1-based step count, 0 for a param without a grad (left alone).

def _piece(buffer: np.ndarray, offset: int, shape: tuple[int, ...]) -> np.ndarray:
    """The view of ``buffer`` from ``offset`` in ``shape``."""
    return buffer[offset:offset + math.prod(shape)].reshape(shape)


def adafactor(param: np.ndarray, grad: np.ndarray, row_var: np.ndarray, col_var: np.ndarray,
              variance: np.ndarray, table: np.ndarray, steps: np.ndarray, lr: float,
              beta2_decay: float, eps1: float, eps2: float, d: float, weight_decay: float,
              maximize: bool) -> None:
    """Adafactor (Shazeer and Stern, 2018), PyTorch's single-tensor form. Per param
    p with step t, as a stack of (n, m) matrices (a vector: its own variance):

        g = -grad if maximize else grad
        alpha = max(eps2, RMS(p)) * min(lr, 1 / sqrt(t))
        p = p * (1 - lr * weight_decay)
        matrix: R = lerp(R, mean_j g^2, t^beta2_decay)   (row_var, n x 1)
                C = lerp(C, mean_i g^2, t^beta2_decay)   (col_var, 1 x m)
                V = R C / max(mean_i R, eps1)
        vector: V = lerp(V, g^2, t^beta2_decay)          (variance)
        U = g / sqrt(max(V, eps1^2))
        p = p - alpha / max(1, RMS(U) / d) * U

    eps1 None is the dtype's machine epsilon.
    """
    cast = param.dtype.type
    eps1 = float(np.finfo(param.dtype).eps) if eps1 is None else eps1
    for (offset, size, ndim, batch, rows, cols, row_at, col_at, var_at), step in zip(table, steps):
        if step == 0:
            continue
        shape = (batch, rows, cols)
        p, g = _piece(param, offset, shape), _piece(grad, offset, shape)
        g = -g if maximize else g
        weight = float(step) ** beta2_decay
        rho = min(lr, 1 / math.sqrt(step))
        alpha = max(eps2, float(np.linalg.norm(p)) / math.sqrt(size)) * rho
        if weight_decay != 0:
            p *= cast(1 - lr * weight_decay)
        if ndim > 1:
            r = _piece(row_var, row_at, (batch, rows, 1))
            c = _piece(col_var, col_at, (batch, 1, cols))
            _lerp_(r, np.square(np.sqrt((g * g).sum(axis=2, keepdims=True))) / cast(cols), weight)
            _lerp_(c, np.square(np.sqrt((g * g).sum(axis=1, keepdims=True))) / cast(rows), weight)
            estimate = (r * c) / np.maximum(r.mean(axis=1, keepdims=True), cast(eps1))
        else:
            v = _piece(variance, var_at, shape)
            _lerp_(v, g * g, weight)
            estimate = v
        update = g / np.sqrt(np.maximum(estimate, cast(eps1 * eps1)))
        denom = max(1.0, float(np.linalg.norm(update)) / (math.sqrt(size) * d))
        p += cast(-alpha / denom) * update


def newton_schulz(x: np.ndarray, a: float, b: float, c: float, steps: int,
                  eps: float) -> np.ndarray:
    """Muon's quintic Newton-Schulz iteration: an approximately orthogonal matrix
    with x's singular vectors (its singular values pushed towards 0.7 .. 1.2):

        X = x / max(||x||_F, eps), as a wide matrix (transposed when tall)
        repeat steps times:  A = X X^T;  X = a X + (b A + c A A) X
    """
    cast = x.dtype.type
    tall = x.shape[0] > x.shape[1]
    o = x.T if tall else x
    o = o / max(cast(np.linalg.norm(o)), cast(eps))
    for _ in range(steps):
        gram = o @ o.T
        o = cast(a) * o + (cast(b) * gram + cast(c) * (gram @ gram)) @ o
    return o.T if tall else o


def muon_lr(lr: float, adjust_lr_fn: int, rows: int, cols: int) -> float:
    """Muon's learning rate for an (rows, cols) matrix: "original" (0) scales by
    sqrt(max(1, rows / cols)), "match_rms_adamw" (1) by 0.2 sqrt(max(rows, cols))."""
    if adjust_lr_fn == 0:
        return lr * math.sqrt(max(1.0, rows / cols))
    return lr * 0.2 * math.sqrt(max(rows, cols))


def muon(param: np.ndarray, grad: np.ndarray, momentum_buffer: np.ndarray, table: np.ndarray,
         steps: np.ndarray, lr: float, weight_decay: float, momentum: float, nesterov: bool,
         a: float, b: float, c: float, eps: float, ns_steps: int, adjust_lr_fn: int) -> None:
    """Muon (Jordan et al., 2024), PyTorch's form, per 2-D param p:

        B = lerp(B, g, 1 - momentum)                      (momentum_buffer)
        U = lerp(g, B, momentum) if nesterov else B
        O = newton_schulz(U)
        p = p * (1 - lr * weight_decay) - muon_lr(lr, p's shape) * O
    """
    cast = param.dtype.type
    for (offset, size, ndim, batch, rows, cols, buffer_at), step in zip(table, steps):
        if step == 0:
            continue
        p, g = _piece(param, offset, (rows, cols)), _piece(grad, offset, (rows, cols))
        buffer = _piece(momentum_buffer, buffer_at, (rows, cols))
        _lerp_(buffer, g, 1 - momentum)
        if nesterov:
            update = g.copy()
            _lerp_(update, buffer, momentum)
        else:
            update = buffer
        ortho = newton_schulz(update, a, b, c, ns_steps, eps)
        p *= cast(1 - lr * weight_decay)
        p += cast(-muon_lr(lr, adjust_lr_fn, rows, cols)) * ortho


# -- RMSprop's descendants beyond torch.optim's classic family --------------------

def asgd(param: np.ndarray, grad: np.ndarray, ax: np.ndarray, lambd: float,
         weight_decay: float, maximize: bool, eta: float, mu: float) -> None:
    """Averaged SGD (Polyak and Juditsky, 1992), PyTorch's ASGD, given this step's eta and mu.

        g  = ±grad + weight_decay * p
        p  = p * (1 - lambd * eta) - eta * g
        ax = ax + mu * (p - ax)          if mu != 1,   else   ax = p

    ``eta`` and ``mu`` are the per-param scalars PyTorch keeps in its state;
    after the step the caller sets eta = lr / (1 + lambd lr t)^alpha and
    mu = 1 / max(1, t - t0).
    """
    check_arrays(param, grad, (ax, True))
    cast = param.dtype.type
    g = _effective_grad(param, grad, weight_decay, maximize)
    param *= cast(1 - lambd * eta)
    param -= cast(eta) * g
    if mu != 1:
        ax += (param - ax) * cast(mu)
    else:
        ax[...] = param


def lion(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, lr: float, beta1: float,
         beta2: float, weight_decay: float) -> None:
    """Lion (Chen et al., 2023), lion-pytorch's update: the sign of an interpolated momentum.

        p = p * (1 - lr * weight_decay)
        p = p - lr * sign(beta1 * m + (1 - beta1) * g)
        m = beta2 * m + (1 - beta2) * g
    """
    check_arrays(param, grad, (exp_avg, True))
    cast = param.dtype.type
    param *= cast(1 - lr * weight_decay)
    param -= cast(lr) * np.sign(exp_avg * cast(beta1) + cast(1 - beta1) * grad)
    exp_avg *= cast(beta2)
    exp_avg += cast(1 - beta2) * grad


def adabelief_step_size(lr: float, beta1: float, beta2: float, rectify: bool,
                        degenerated_to_sgd: bool, step: int) -> tuple[float, bool]:
    """(the step's lr, whether it divides by the belief), as adabelief-pytorch computes them.

    Without rectify: (lr / (1 - beta1^t), True). With it, RAdam's rectification
    (here ``N_sma >= 5``, where torch.optim.RAdam has ``> 5``); before that an
    SGD step (``degenerated_to_sgd``) or no step at all (0).
    """
    bias_correction1 = 1 - beta1 ** step
    if not rectify:
        return lr / bias_correction1, True
    beta2_t = beta2 ** step
    n_sma_max = 2 / (1 - beta2) - 1
    n_sma = n_sma_max - 2 * step * beta2_t / (1 - beta2_t)
    if n_sma >= 5:
        step_size = math.sqrt((1 - beta2_t) * (n_sma - 4) / (n_sma_max - 4) * (n_sma - 2)
                              / n_sma * n_sma_max / (n_sma_max - 2)) / bias_correction1
        return step_size * lr, True
    return (1.0 / bias_correction1 * lr if degenerated_to_sgd else 0.0), False


def adabelief(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_var: np.ndarray,
              max_exp_avg_var: np.ndarray, lr: float, beta1: float, beta2: float, eps: float,
              weight_decay: float, amsgrad: bool, weight_decouple: bool, fixed_decay: bool,
              rectify: bool, degenerated_to_sgd: bool, step: int) -> None:
    """AdaBelief (Zhuang et al., 2020), adabelief-pytorch 0.2's update.

        p = p * (1 - lr * wd)   (weight_decouple; 1 - wd with fixed_decay)
        g = grad + wd * p       (otherwise)
        m = beta1 * m + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * (g - m)^2 + eps       (exp_avg_var: eps is stored)
        amsgrad: smax = max(smax, s)
        rectify off:  p = p - lr / (1 - beta1^t) * m / (sqrt(smax or s) / sqrt(1 - beta2^t) + eps)
        rectify on:   p = p - lr * step_size * m / (sqrt(s) + eps)   once N_sma >= 5
                      p = p - lr / (1 - beta1^t) * m                 before (degenerated_to_sgd)

    The package's rectified branch divides by ``s`` even with amsgrad, and so does this.
    """
    check_arrays(param, grad, (exp_avg, True), (exp_avg_var, True), (max_exp_avg_var, amsgrad))
    cast = param.dtype.type
    g = grad.copy()
    if weight_decouple:
        param *= cast(1 - (weight_decay if fixed_decay else lr * weight_decay))
    elif weight_decay != 0:
        g += cast(weight_decay) * param
    exp_avg *= cast(beta1)
    exp_avg += cast(1 - beta1) * g
    residual = g - exp_avg
    exp_avg_var *= cast(beta2)
    exp_avg_var += cast(1 - beta2) * residual * residual
    exp_avg_var += cast(eps)
    if amsgrad:
        np.maximum(max_exp_avg_var, exp_avg_var, out=max_exp_avg_var)
    step_lr, adaptive = adabelief_step_size(lr, beta1, beta2, rectify, degenerated_to_sgd, step)
    if not adaptive:
        param -= cast(step_lr) * exp_avg
    elif rectify:
        param -= cast(step_lr) * (exp_avg / (np.sqrt(exp_avg_var) + cast(eps)))
    else:
        belief = max_exp_avg_var if amsgrad else exp_avg_var
        denom = np.sqrt(belief) / cast(math.sqrt(1 - beta2 ** step)) + cast(eps)
        param -= cast(step_lr) * (exp_avg / denom)


def schedule_free(param: np.ndarray, grad: np.ndarray, z: np.ndarray, exp_avg_sq: np.ndarray,
                  lr: float, beta1: float, beta2: float, eps: float, weight_decay: float,
                  ckp1: float, group_step: int, step: int) -> None:
    """Schedule-free SGD and AdamW (Defazio et al., 2024), the ``schedulefree`` package's.

    ``param`` holds y, the point where gradients are taken; z is the SGD
    sequence and x, the average that is evaluated, is implicit:
    y = (1 - beta1) z + beta1 x. ``lr`` is the warmed-up lr, ``ckp1`` the
    weight of this step in the average, ``group_step`` the group's 1-based
    count (k + 1), ``step`` the param's (z starts as y at its first step).

        z = y                                                    at step 1
        AdamW (exp_avg_sq in use):
            v = beta2 * v + (1 - beta2) * g * g
            g = g / (sqrt(v / (1 - beta2^group_step)) + eps)
        g = g + weight_decay * y
        y = y + ckp1 * (z - y) + lr * (beta1 * (1 - ckp1) - 1) * g
        z = z - lr * g

    SGD's ``momentum`` is beta1; it passes a zero-length exp_avg_sq.
    """
    adaptive = exp_avg_sq.size > 0
    check_arrays(param, grad, (z, True), (exp_avg_sq, adaptive))
    cast = param.dtype.type
    if step == 1:
        z[...] = param
    g = grad.copy()
    if adaptive:
        exp_avg_sq *= cast(beta2)
        exp_avg_sq += cast(1 - beta2) * grad * grad
        g /= np.sqrt(exp_avg_sq / cast(1 - beta2 ** group_step)) + cast(eps)
    if weight_decay != 0:
        g += cast(weight_decay) * param
    _lerp_(param, z, ckp1)
    param += cast(lr * (beta1 * (1 - ckp1) - 1)) * g
    z -= cast(lr) * g


def interpolate(param: np.ndarray, end: np.ndarray, weight: float) -> None:
    """param <- param + weight * (end - param): schedule-free's train()/eval() switch."""
    check_arrays(param, end)
    _lerp_(param, end, weight)


# -- the array API an optimizer uses to stay backend-generic -----------------

def to_device(host_array: np.ndarray) -> np.ndarray:
    """The backend array for a host array: the array itself on host backends."""
    return host_array


def zeros(n: int, dtype) -> np.ndarray:
    return np.zeros(n, dtype=dtype)


def full(n: int, value: float, dtype) -> np.ndarray:
    return np.full(n, value, dtype=dtype)


def copy_from_host(dst: np.ndarray, src: np.ndarray) -> None:
    """dst (backend) <- src (host); nothing to do when they are one array."""
    if dst is not src:
        np.copyto(dst, src)


def copy_to_host(src: np.ndarray, dst: np.ndarray) -> None:
    """dst (host) <- src (backend); nothing to do when they are one array."""
    if dst is not src:
        np.copyto(dst, src)


def synchronize() -> None:
    """Host backends finish every update before returning: nothing to wait for."""
