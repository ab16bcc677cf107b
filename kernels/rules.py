"""Each optimizer's update of ONE element, written once for every compiled backend.

For every update ``X`` this module holds two functions:

    X_arguments(param, grad, *state, *hyperparameters)   on the host, in Python
        checks the arrays and folds the hyperparameters into the loop's
        constants, each cast to the array dtype (``t = param.dtype.type``):
        a float64 scalar would silently promote a float32 loop to float64
        (4x slower on the CPU, float64 instructions on a GPU). Returns the
        arguments of the loop: arrays, then constants, then flags.
    X(p, g, *state values, *constants, *flags)           numba.njit, per element
        the update of one element: takes the param, the grad and the state
        values of one index and returns the new param and state values.

``cpu.py`` calls the rules in serial and ``prange`` loops, ``cuda.py`` in
grid-stride kernels; ``reference.py`` is an independent numpy version of the
same equations (the test oracle). The rules obey three constraints so that
one function serves both targets (numba-cuda compiles a called njit function
as a device function, and a ``prange`` loop inlines it):

- ``math.sqrt``, never ``np.sqrt`` (which the CUDA target lacks);
- no explicit signature (an eagerly compiled callee is refused on the device);
- every constant precomputed in the array dtype and passed in: a literal
  such as ``(1 - alpha)`` or ``0`` inside a rule is an int or a float64 and
  promotes the float32 arithmetic around it to float64.

Options are folded into arithmetic where that is exact, so a rule has few
branches: ``g = sign * grad + weight_decay * p`` (sign = -1 when maximizing,
``0 * p`` adds nothing). The remaining flags are the same for every element:
the compiler hoists them out of the loop. ``error_model="numpy"`` lets a
division vectorise (numba's default model checks every division for zero).

Below, ``g`` is the gradient after the maximize negation and the coupled
weight decay: ``g = ±grad + weight_decay * p``.
"""
from __future__ import annotations

import math

import numba

from .reference import adabelief_step_size, check_arrays


def _rule(function):
    """numba.njit without a signature, numpy's error model, no cache: a rule is
    compiled inside each loop or kernel that calls it, and cached with it."""
    return numba.njit(function, error_model="numpy")


def _lerp_constants(weight: float, t) -> tuple:
    """(w, 1 - w, small) for ``lerp``: both forms' weights and which form PyTorch uses."""
    return t(weight), t(1 - weight), abs(weight) < 0.5


@_rule
def lerp(start, end, weight, rest, small):
    """PyTorch's ``start.lerp_(end, weight)``, in its two forms.

        start + weight * (end - start)      when |weight| < 0.5 (small)
        end - (end - start) * rest          otherwise, rest = 1 - weight

    Equal in exact arithmetic, each the more accurate one on its side of 0.5.
    """
    return start + weight * (end - start) if small else end - (end - start) * rest


# -- SGD ----------------------------------------------------------------------

def sgd_arguments(param, grad, momentum_buffer, lr, momentum, dampening, weight_decay,
                  nesterov, maximize, step) -> tuple:
    use_momentum = momentum != 0
    check_arrays(param, grad, (momentum_buffer, use_momentum))
    t = param.dtype.type
    return (param, grad, momentum_buffer, t(-lr), t(-1 if maximize else 1), t(weight_decay),
            t(momentum), t(1 - dampening), use_momentum, step == 1, bool(nesterov))


@_rule
def sgd(p, g, b, neg_lr, sign, weight_decay, momentum, one_minus_dampening,
        use_momentum, first_step, nesterov):
    """SGD with optional (Nesterov) momentum; returns (p, b).

        g = ±grad + weight_decay * p
        if momentum != 0:
            b = g                                            at the first step
            b = momentum * b + (1 - dampening) * g           after it
            g = g + momentum * b    if nesterov   else   g = b
        p = p - lr * g
    """
    g = sign * g + weight_decay * p
    if use_momentum:
        b = g if first_step else b * momentum + one_minus_dampening * g
        g = g + momentum * b if nesterov else b
    return p + neg_lr * g, b


# -- Adagrad ------------------------------------------------------------------

def adagrad_arguments(param, grad, state_sum, lr, lr_decay, weight_decay, eps, maximize,
                      step) -> tuple:
    check_arrays(param, grad, (state_sum, True))
    t = param.dtype.type
    clr = lr / (1 + (step - 1) * lr_decay)
    return (param, grad, state_sum, t(-clr), t(-1 if maximize else 1), t(weight_decay), t(eps))


@_rule
def adagrad(p, g, s, neg_clr, sign, weight_decay, eps):
    """Adagrad; returns (p, s). ``clr = lr / (1 + (step - 1) * lr_decay)`` (host, float64).

        g = ±grad + weight_decay * p
        s = s + g * g
        p = p - clr * g / (sqrt(s) + eps)
    """
    g = sign * g + weight_decay * p
    s = s + g * g
    return p + neg_clr * g / (math.sqrt(s) + eps), s


# -- RMSprop ------------------------------------------------------------------

def rmsprop_arguments(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                      weight_decay, momentum, centered, maximize, eps_in_sqrt,
                      lr_in_momentum=False) -> tuple:
    use_momentum = momentum > 0
    check_arrays(param, grad, (square_avg, True), (grad_avg, centered),
                 (momentum_buffer, use_momentum))
    t = param.dtype.type
    one, zero, neg_lr = t(1), t(0), t(-lr)
    in_scale, out_scale = (t(lr), t(-1)) if lr_in_momentum else (one, neg_lr)
    one_minus_alpha, lerp_rest, lerp_small = _lerp_constants(1 - alpha, t)
    return (param, grad, square_avg, grad_avg, momentum_buffer, neg_lr, -one if maximize else one,
            t(weight_decay), t(alpha), one_minus_alpha, lerp_rest,
            t(eps) if eps_in_sqrt else zero,
            zero if eps_in_sqrt else t(eps), t(momentum), in_scale, out_scale, zero,
            lerp_small, bool(centered), use_momentum)


@_rule
def rmsprop(p, g, v, m, b, neg_lr, sign, weight_decay, alpha, one_minus_alpha, lerp_rest,
            eps_inside, eps_outside, momentum, in_scale, out_scale, zero, lerp_small, centered,
            use_momentum):
    """RMSprop; returns (p, v, m, b).

        g = ±grad + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g                  (square_avg)
        if centered:
            m = m + (1 - alpha) * (g - m)                    (grad_avg, a lerp)
            d = max(v - m * m, 0)
        else:
            d = v
        denom = sqrt(d) + eps     or   sqrt(d + eps) when eps_in_sqrt
        if momentum > 0:
            b = momentum * b + in_scale * g / denom          (momentum_buffer)
            p = p + out_scale * b
        else:
            p = p - lr * g / denom

    (in_scale, out_scale) = (1, -lr), PyTorch's form, or (lr, -1) when
    lr_in_momentum, TensorFlow/Keras's: multiplying by 1 is exact, so each is
    its library's formula to the last bit.
    """
    g = sign * g + weight_decay * p
    v = v * alpha + one_minus_alpha * g * g
    d = v
    if centered:
        m = lerp(m, g, one_minus_alpha, lerp_rest, lerp_small)
        d = max(v - m * m, zero)
    denom = math.sqrt(d + eps_inside) + eps_outside
    if use_momentum:
        b = b * momentum + in_scale * g / denom
        return p + out_scale * b, v, m, b
    return p + neg_lr * g / denom, v, m, b


# -- Adam, AdamW ----------------------------------------------------------------

def _decay_constants(lr, weight_decay, decoupled, t) -> tuple:
    """(factor on p, coupled weight_decay): (1 - lr*wd, 0) decoupled, else (1, wd)."""
    if decoupled:
        return t(1 - lr * weight_decay), t(0)
    return t(1), t(weight_decay)


def adam_arguments(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr, beta1, beta2, eps,
                   weight_decay, decoupled_weight_decay, amsgrad, maximize, step) -> tuple:
    check_arrays(param, grad, (exp_avg, True), (exp_avg_sq, True), (max_exp_avg_sq, amsgrad))
    t = param.dtype.type
    one_minus_beta1, lerp_rest, lerp_small = _lerp_constants(1 - beta1, t)
    return (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, t(-lr / (1 - beta1 ** step)),
            t(-1 if maximize else 1),
            *_decay_constants(lr, weight_decay, decoupled_weight_decay, t),
            one_minus_beta1, lerp_rest, t(beta2), t(1 - beta2), t(math.sqrt(1 - beta2 ** step)),
            t(eps), lerp_small, bool(amsgrad))


@_rule
def adam(p, g, m, v, vmax, neg_step_size, sign, decay, weight_decay, one_minus_beta1,
         lerp_rest, beta2, one_minus_beta2, bias_correction2_sqrt, eps, lerp_small, amsgrad):
    """Adam, AMSGrad, AdamW; returns (p, m, v, vmax).

        p = p * (1 - lr * weight_decay)                      (decoupled: AdamW)
        g = ±grad + weight_decay * p                         (coupled: Adam)
        m = m + (1 - beta1) * (g - m)                        (exp_avg, a lerp)
        v = beta2 * v + (1 - beta2) * g * g                  (exp_avg_sq)
        if amsgrad: vmax = max(vmax, v), used in place of v
        p = p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """
    p = p * decay
    g = sign * g + weight_decay * p
    m = lerp(m, g, one_minus_beta1, lerp_rest, lerp_small)
    v = v * beta2 + one_minus_beta2 * g * g
    if amsgrad:
        vmax = max(vmax, v)
        return p + neg_step_size * m / (math.sqrt(vmax) / bias_correction2_sqrt + eps), m, v, vmax
    return p + neg_step_size * m / (math.sqrt(v) / bias_correction2_sqrt + eps), m, v, vmax


# -- Rprop ----------------------------------------------------------------------

def rprop_arguments(param, grad, prev, step_size, lr, etaminus, etaplus, step_size_min,
                    step_size_max, maximize, step) -> tuple:
    check_arrays(param, grad, (prev, True), (step_size, True))
    t = param.dtype.type
    return (param, grad, prev, step_size, t(-1 if maximize else 1), t(etaminus), t(etaplus),
            t(step_size_min), t(step_size_max), t(lr), t(0), t(1), step == 1)


@_rule
def rprop(p, g, prev, step_size, sign, etaminus, etaplus, step_size_min, step_size_max, lr,
          zero, one, first_step):
    """Rprop (Riedmiller and Braun, 1993): a step of its own size per coordinate,
    moved by the SIGN of the gradient only; returns (p, prev, step_size).

        g = ±grad
        at the first step: prev = 0, step_size = lr
        if g * prev > 0:   step_size = step_size * etaplus      (same sign: speed up)
        if g * prev < 0:   step_size = step_size * etaminus, g = 0   (overshot: slow
                                                    down, and skip this move)
        step_size = clamp(step_size, step_size_min, step_size_max)
        p    = p - sign(g) * step_size
        prev = g
    """
    g = sign * g
    if first_step:
        prev = zero
        step_size = lr
    agreement = g * prev
    if agreement > zero:
        step_size = step_size * etaplus
    elif agreement < zero:
        step_size = step_size * etaminus
        g = zero
    step_size = min(max(step_size, step_size_min), step_size_max)
    direction = one if g > zero else (-one if g < zero else zero)
    return p - direction * step_size, g, step_size


# -- Adadelta ---------------------------------------------------------------------

def adadelta_arguments(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay,
                       maximize) -> tuple:
    check_arrays(param, grad, (square_avg, True), (acc_delta, True))
    t = param.dtype.type
    return (param, grad, square_avg, acc_delta, t(-lr), t(-1 if maximize else 1),
            t(weight_decay), t(rho), t(1 - rho), t(eps))


@_rule
def adadelta(p, g, v, u, neg_lr, sign, weight_decay, rho, one_minus_rho, eps):
    """Adadelta (Zeiler, 2012); returns (p, v, u).

        g     = ±grad + weight_decay * p
        v     = rho * v + (1 - rho) * g * g                  (square_avg)
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u     = rho * u + (1 - rho) * delta * delta          (acc_delta)
        p     = p - lr * delta

    The numerator, an RMS of past *updates*, gives delta the units of p.
    """
    g = sign * g + weight_decay * p
    v = v * rho + one_minus_rho * g * g
    delta = math.sqrt(u + eps) / math.sqrt(v + eps) * g
    u = u * rho + one_minus_rho * delta * delta
    return p + neg_lr * delta, v, u


# -- Adamax -------------------------------------------------------------------------

def adamax_arguments(param, grad, exp_avg, exp_inf, lr, beta1, beta2, eps, weight_decay,
                     maximize, step) -> tuple:
    check_arrays(param, grad, (exp_avg, True), (exp_inf, True))
    t = param.dtype.type
    one_minus_beta1, lerp_rest, lerp_small = _lerp_constants(1 - beta1, t)
    return (param, grad, exp_avg, exp_inf, t(-lr / (1 - beta1 ** step)),
            t(-1 if maximize else 1), t(weight_decay), one_minus_beta1, lerp_rest, t(beta2),
            t(eps), lerp_small)


@_rule
def adamax(p, g, m, u, neg_clr, sign, weight_decay, one_minus_beta1, lerp_rest, beta2, eps,
           lerp_small):
    """Adamax (Kingma and Ba, 2015, section 7.1); returns (p, m, u).

        g = ±grad + weight_decay * p
        m = m + (1 - beta1) * (g - m)                        (exp_avg, a lerp)
        u = max(beta2 * u, |g| + eps)                        (exp_inf)
        p = p - (lr / (1 - beta1^t)) * (m / u)
    """
    g = sign * g + weight_decay * p
    m = lerp(m, g, one_minus_beta1, lerp_rest, lerp_small)
    u = max(u * beta2, abs(g) + eps)
    return p + neg_clr * (m / u), m, u


# -- NAdam --------------------------------------------------------------------------

_MU_PRODUCTS: dict[tuple[float, float], list[float]] = {}
# A schedule that moves beta1 every step (OneCycleLR's cycle_momentum) makes a new
# key each step: keep only the most recent keys, so memory stays bounded.
_MU_PRODUCT_KEYS = 4


def nadam_mu(beta1: float, momentum_decay: float, step: int) -> float:
    """mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)), NAdam's momentum at step t."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))


def nadam_mu_product(beta1: float, momentum_decay: float, step: int) -> float:
    """mu_1 * mu_2 * ... * mu_step (float64), remembered per (beta1, momentum_decay)
    (the last few pairs) so that each step costs one multiplication."""
    key = (beta1, momentum_decay)
    if key not in _MU_PRODUCTS and len(_MU_PRODUCTS) >= _MU_PRODUCT_KEYS:
        del _MU_PRODUCTS[next(iter(_MU_PRODUCTS))]   # the oldest key
    products = _MU_PRODUCTS.setdefault(key, [1.0])
    while len(products) <= step:
        products.append(products[-1] * nadam_mu(beta1, momentum_decay, len(products)))
    return products[step]


def nadam_arguments(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay,
                    momentum_decay, decoupled_weight_decay, maximize, step) -> tuple:
    check_arrays(param, grad, (exp_avg, True), (exp_avg_sq, True))
    t = param.dtype.type
    one_minus_beta1, lerp_rest, lerp_small = _lerp_constants(1 - beta1, t)
    mu = nadam_mu(beta1, momentum_decay, step)
    mu_next = nadam_mu(beta1, momentum_decay, step + 1)
    mu_product = nadam_mu_product(beta1, momentum_decay, step)
    return (param, grad, exp_avg, exp_avg_sq, t(-1 if maximize else 1),
            *_decay_constants(lr, weight_decay, decoupled_weight_decay, t),
            one_minus_beta1, lerp_rest, t(beta2), t(1 - beta2), t(1 - beta2 ** step), t(eps),
            t(-lr * (1 - mu) / (1 - mu_product)), t(-lr * mu_next / (1 - mu_product * mu_next)),
            lerp_small)


@_rule
def nadam(p, g, m, v, sign, decay, weight_decay, one_minus_beta1, lerp_rest, beta2,
          one_minus_beta2, bias_correction2, eps, grad_coefficient, momentum_coefficient,
          lerp_small):
    """NAdam (Dozat, 2016): Adam with Nesterov momentum; returns (p, m, v).

        p = p * (1 - lr * weight_decay)                      (decoupled_weight_decay)
        g = ±grad + weight_decay * p                         (coupled)
        m = m + (1 - beta1) * (g - m)                        (exp_avg, a lerp)
        v = beta2 * v + (1 - beta2) * g * g                  (exp_avg_sq)
        denom = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr (1 - mu_t) / (1 - mu_1...mu_t) * g / denom
        p = p - lr mu_{t+1} / (1 - mu_1...mu_{t+1}) * m / denom

    with mu_t = beta1 (1 - 0.5 * 0.96^(t momentum_decay)); both coefficients
    are float64 host scalars (``nadam_arguments``).
    """
    p = p * decay
    g = sign * g + weight_decay * p
    m = lerp(m, g, one_minus_beta1, lerp_rest, lerp_small)
    v = v * beta2 + one_minus_beta2 * g * g
    denom = math.sqrt(v / bias_correction2) + eps
    p = p + grad_coefficient * (g / denom)
    return p + momentum_coefficient * (m / denom), m, v


# -- RAdam --------------------------------------------------------------------------

def radam_rectification(beta2: float, step: int) -> float | None:
    """RAdam's variance rectification r_t, or None while rho_t <= 5 (no adaptive step).

        rho_inf = 2 / (1 - beta2) - 1
        rho_t   = rho_inf - 2 t beta2^t / (1 - beta2^t)
        r_t     = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
    """
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / (1 - beta2 ** step)
    if rho_t <= 5.0:
        return None
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5


def radam_arguments(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay,
                    decoupled_weight_decay, maximize, step) -> tuple:
    check_arrays(param, grad, (exp_avg, True), (exp_avg_sq, True))
    t = param.dtype.type
    one_minus_beta1, lerp_rest, lerp_small = _lerp_constants(1 - beta1, t)
    rectification = radam_rectification(beta2, step)
    return (param, grad, exp_avg, exp_avg_sq, t(-1 if maximize else 1),
            *_decay_constants(lr, weight_decay, decoupled_weight_decay, t),
            one_minus_beta1, lerp_rest, t(beta2), t(1 - beta2), t(1 - beta1 ** step), t(lr),
            t(math.sqrt(1 - beta2 ** step)), t(eps), t(rectification or 0), lerp_small,
            rectification is not None)


@_rule
def radam(p, g, m, v, sign, decay, weight_decay, one_minus_beta1, lerp_rest, beta2,
          one_minus_beta2, bias_correction1, lr, bias_correction2_sqrt, eps, rectification,
          lerp_small, rectify):
    """RAdam (Liu et al., 2020): Adam that waits for its variance estimate; returns (p, m, v).

        p = p * (1 - lr * weight_decay)                      (decoupled_weight_decay)
        g = ±grad + weight_decay * p                         (coupled)
        m = m + (1 - beta1) * (g - m)                        (exp_avg, a lerp)
        v = beta2 * v + (1 - beta2) * g * g                  (exp_avg_sq)
        m_hat = m / (1 - beta1^t)
        p = p - m_hat * lr * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t   while rho_t > 5
        p = p - m_hat * lr                                   before (plain momentum SGD)

    r_t and whether rho_t > 5 come from ``radam_rectification`` (host, float64).
    """
    p = p * decay
    g = sign * g + weight_decay * p
    m = lerp(m, g, one_minus_beta1, lerp_rest, lerp_small)
    v = v * beta2 + one_minus_beta2 * g * g
    m_hat = m / bias_correction1
    if rectify:
        return p - m_hat * lr * (bias_correction2_sqrt / (math.sqrt(v) + eps)) * rectification, m, v
    return p - m_hat * lr, m, v


# -- Adafactor and Muon: the elementwise pieces of the updates that see shapes ---
#
# Their reductions (RMS of a param, row and column means, Newton-Schulz) are in
# the backends (``cpu.adafactor`` and ``cpu.muon``, ``cuda_kernels.adafactor`` and
# the Muon kernels); the per-element math is here, shared by both.

@_rule
def adafactor_scaled(g, estimate, eps1_sq):
    """Adafactor's unclipped update of one element: U = g / sqrt(max(V, eps1^2))."""
    return g / math.sqrt(max(estimate, eps1_sq))


@_rule
def decayed_step(p, u, decay, neg_scale):
    """A decoupled weight decay, then a step along u: p * decay + neg_scale * u
    (Adafactor: decay 1 - lr wd, neg_scale -alpha / clip; Muon: -lr', u its O)."""
    return p * decay + neg_scale * u


@_rule
def muon_momentum(b, g, weight, rest, small, n_weight, n_rest, n_small, nesterov):
    """Muon's momentum of one element; returns (B, the element to orthogonalise).

        B = lerp(B, g, 1 - momentum)                        (momentum_buffer)
        U = lerp(g, B, momentum) if nesterov else B
    """
    b = lerp(b, g, weight, rest, small)
    return b, (lerp(g, b, n_weight, n_rest, n_small) if nesterov else b)


# -- ASGD -----------------------------------------------------------------------------

def asgd_arguments(param, grad, ax, lambd, weight_decay, maximize, eta, mu) -> tuple:
    check_arrays(param, grad, (ax, True))
    t = param.dtype.type
    return (param, grad, ax, t(1 - lambd * eta), t(-eta), t(-1 if maximize else 1),
            t(weight_decay), t(mu), mu != 1)


@_rule
def asgd(p, g, ax, decay, neg_eta, sign, weight_decay, mu, average):
    """Averaged SGD, PyTorch's ASGD, given the param's eta and mu; returns (p, ax).

        g  = ±grad + weight_decay * p
        p  = p * (1 - lambd * eta) - eta * g
        ax = ax + (p - ax) * mu      if mu != 1 (average),   else   ax = p
    """
    g = sign * g + weight_decay * p
    p = p * decay + neg_eta * g
    return p, (ax + (p - ax) * mu if average else p)


# -- Lion -----------------------------------------------------------------------------

def lion_arguments(param, grad, exp_avg, lr, beta1, beta2, weight_decay) -> tuple:
    check_arrays(param, grad, (exp_avg, True))
    t = param.dtype.type
    return (param, grad, exp_avg, t(1 - lr * weight_decay), t(-lr), t(beta1), t(1 - beta1),
            t(beta2), t(1 - beta2), t(0))


@_rule
def lion(p, g, m, decay, neg_lr, beta1, one_minus_beta1, beta2, one_minus_beta2, zero):
    """Lion, lion-pytorch's update; returns (p, m).

        p = p * (1 - lr * weight_decay)
        c = beta1 * m + (1 - beta1) * g
        p = p - lr * sign(c)                  (sign(0) = 0)
        m = beta2 * m + (1 - beta2) * g
    """
    c = m * beta1 + one_minus_beta1 * g
    if c > zero:
        p = p * decay + neg_lr
    elif c < zero:
        p = p * decay - neg_lr
    else:
        p = p * decay
    return p, m * beta2 + one_minus_beta2 * g


# -- AdaBelief ------------------------------------------------------------------------

def adabelief_arguments(param, grad, exp_avg, exp_avg_var, max_exp_avg_var, lr, beta1, beta2,
                        eps, weight_decay, amsgrad, weight_decouple, fixed_decay, rectify,
                        degenerated_to_sgd, step) -> tuple:
    check_arrays(param, grad, (exp_avg, True), (exp_avg_var, True), (max_exp_avg_var, amsgrad))
    t = param.dtype.type
    step_lr, adaptive = adabelief_step_size(lr, beta1, beta2, rectify, degenerated_to_sgd, step)
    decay = 1 - (weight_decay if fixed_decay else lr * weight_decay) if weight_decouple else 1
    bias_correction2_sqrt = 1.0 if rectify else math.sqrt(1 - beta2 ** step)
    return (param, grad, exp_avg, exp_avg_var, max_exp_avg_var, t(decay),
            t(0 if weight_decouple else weight_decay), t(beta1), t(1 - beta1), t(beta2),
            t(1 - beta2), t(eps), t(bias_correction2_sqrt), t(-step_lr), bool(amsgrad),
            adaptive, bool(amsgrad and not rectify))


@_rule
def adabelief(p, g, m, s, smax, decay, weight_decay, beta1, one_minus_beta1, beta2,
              one_minus_beta2, eps, bias_correction2_sqrt, neg_step_lr, amsgrad, adaptive,
              use_max):
    """AdaBelief, adabelief-pytorch 0.2's update; returns (p, m, s, smax).

        p = p * decay             (1 - lr * wd decoupled, 1 - wd fixed, else 1)
        g = grad + wd * p         (coupled: wd = 0 when decoupled)
        m = beta1 * m + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * (g - m)^2 + eps            (exp_avg_var)
        smax = max(smax, s)                                      (amsgrad)
        adaptive:  p = p - step_lr * m / (sqrt(smax or s) / bias_correction2_sqrt + eps)
        else:      p = p - step_lr * m           (SGD before the rectification starts)

    step_lr and whether the step is adaptive come from ``adabelief_step_size``
    (host, float64); bias_correction2_sqrt is 1 when rectifying, and the
    rectified step divides by s even with amsgrad (use_max False), as the package.
    """
    p = p * decay
    g = g + weight_decay * p
    m = m * beta1 + one_minus_beta1 * g
    residual = g - m
    s = s * beta2 + one_minus_beta2 * residual * residual + eps
    if amsgrad:
        smax = max(smax, s)
    if not adaptive:
        return p + neg_step_lr * m, m, s, smax
    belief = smax if use_max else s
    return p + neg_step_lr * (m / (math.sqrt(belief) / bias_correction2_sqrt + eps)), m, s, smax


# -- schedule-free SGD and AdamW --------------------------------------------------------

def schedule_free_arguments(param, grad, z, exp_avg_sq, lr, beta1, beta2, eps, weight_decay,
                            ckp1, group_step, step) -> tuple:
    adaptive = exp_avg_sq.size > 0
    check_arrays(param, grad, (z, True), (exp_avg_sq, adaptive))
    t = param.dtype.type
    weight, lerp_rest, lerp_small = _lerp_constants(ckp1, t)
    return (param, grad, z, exp_avg_sq, t(beta2), t(1 - beta2), t(1 - beta2 ** group_step),
            t(eps), t(weight_decay), weight, lerp_rest, t(lr * (beta1 * (1 - ckp1) - 1)),
            t(-lr), lerp_small, step == 1, adaptive)


@_rule
def schedule_free(y, g, z, v, beta2, one_minus_beta2, bias_correction2, eps, weight_decay,
                  ckp1, lerp_rest, y_coefficient, neg_lr, lerp_small, first_step, adaptive):
    """Schedule-free AdamW (adaptive) and SGD, the schedulefree package's; returns (y, z, v).

        z = y                                               at the param's first step
        v = beta2 * v + (1 - beta2) * g * g                 (adaptive: AdamW)
        g = g / (sqrt(v / (1 - beta2^k)) + eps)             (adaptive)
        g = g + weight_decay * y
        y = y + ckp1 * (z - y)                              (a lerp)
        y = y + lr * (beta1 * (1 - ckp1) - 1) * g           (y_coefficient)
        z = z - lr * g
    """
    if first_step:
        z = y
    if adaptive:
        v = v * beta2 + one_minus_beta2 * g * g
        g = g / (math.sqrt(v / bias_correction2) + eps)
    g = g + weight_decay * y
    y = lerp(y, z, ckp1, lerp_rest, lerp_small)
    return y + y_coefficient * g, z + neg_lr * g, v


# -- a lerp of two buffers: schedule-free's train()/eval() switch ------------------------

def interpolate_arguments(param, end, weight) -> tuple:
    check_arrays(param, end)
    return (param, end, *_lerp_constants(weight, param.dtype.type))
