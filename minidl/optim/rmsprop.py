"""RMSprop: the centre of minidl's optimizers."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..tensor import Tensor
from .optimizer import Optimizer, check_common, check_flag, check_number


class RMSprop(Optimizer):
    """RMSprop (Tieleman and Hinton, 2012), PyTorch's ``torch.optim.RMSprop``.

    The idea. Plain gradient descent takes the same learning rate on every
    coordinate, so a coordinate whose gradients are large (a steep direction)
    overshoots while one whose gradients are small (a flat direction) barely
    moves. RMSprop divides each coordinate's gradient by a running estimate of
    its root mean square, so every coordinate moves by about ``lr`` per step,
    whatever the scale of its gradients:

        v_t   = alpha * v_{t-1} + (1 - alpha) * g_t^2       (square_avg)
        p_t   = p_{t-1} - lr * g_t / (sqrt(v_t) + eps)

    v is an exponential moving average of g^2 over about 1 / (1 - alpha) steps
    (100 for alpha = 0.99): unlike Adagrad's ever-growing sum, it forgets, so
    the step size recovers when the gradients shrink. eps keeps the division
    finite where v is ~0.

    The full update, for each parameter p with gradient grad, as run by
    ``minidl.kernels.<backend>.rmsprop`` (``minidl.kernels.reference.rmsprop``
    is the readable numpy version; ``cpu`` is a numba.njit loop, ``cuda`` a
    numba.cuda kernel):

        g     = -grad if maximize else grad
        g     = g + weight_decay * p                       (L2 penalty)
        v     = alpha * v + (1 - alpha) * g * g            (square_avg)
        if centered:
            m = m + (1 - alpha) * (g - m)                  (grad_avg)
            d = max(v - m * m, 0)
        else:
            d = v
        denom = sqrt(d) + eps      (or sqrt(d + eps) when eps_in_sqrt)
        if momentum > 0:
            b = momentum * b + g / denom                   (momentum_buffer)
            p = p - lr * b
            (lr_in_momentum:  b = momentum * b + lr * g / denom;  p = p - b)
        else:
            p = p - lr * g / denom

    Centered (Graves, 2013): v - m^2 estimates the *variance* of the gradient
    rather than its raw second moment, so a gradient with a large constant part
    is not scaled down as if it were noisy. On a nearly constant gradient v and
    m^2 are nearly equal and ``v - m*m`` rounds to 0 or slightly below it.
    PyTorch takes the sqrt of a negative number there and the parameter
    becomes NaN; minidl clamps at 0, which keeps it finite, but is no cure: the
    denominator is then eps alone and the step is ``lr * g / eps``, with
    eps = 1e-8 a step 1e8 times g. Parameters run off to huge values (an audit
    saw 3.6e8 where PyTorch's still-finite coordinates stayed near 2e3).
    Where gradients can be nearly constant, use a larger eps (1e-4 .. 1e-2)
    or ``eps_in_sqrt=True`` (Graves's own form, sqrt(v - m^2 + eps): with
    eps = 1e-4 the step is at most lr * g * 100), or the uncentered form.

    Momentum: b accumulates the *scaled* steps ``g / denom``, as PyTorch does.
    TensorFlow/Keras accumulate ``lr * g / denom`` instead:
    ``lr_in_momentum=True``. The two agree while lr is constant and differ as
    soon as it changes, as under every scheduler: PyTorch's form applies a
    new lr to the whole accumulated buffer at once, Keras's only to new steps.

    Keras's ``keras.optimizers.RMSprop(learning_rate=0.001, rho=0.9,
    momentum=0.0, epsilon=1e-7, centered=False)``: Keras's ``rho`` is
    ``alpha`` here, and its update is ``RMSprop(lr=1e-3, alpha=0.9, eps=1e-7,
    eps_in_sqrt=True, lr_in_momentum=True)`` (PyTorch's defaults differ: lr
    1e-2, alpha 0.99, eps 1e-8 outside the root). Keras's centered form
    does not clamp.

    TensorFlow-style variants: ``eps_in_sqrt=True`` divides by sqrt(d + eps)
    instead of sqrt(d) + eps (TensorFlow/Keras, optax's ``eps_in_sqrt``,
    Chainer's ``eps_inside_sqrt``), and ``initial_accumulator_value`` starts v
    at that value instead of 0. TensorFlow 1.x's ``tf.train.RMSPropOptimizer``
    is ``RMSprop(alpha=0.9, eps=1e-10, eps_in_sqrt=True,
    initial_accumulator_value=1.0)``: starting v at 1 rather than 0 keeps the
    first steps at about lr * g instead of lr * g / |g| * 10 (with alpha 0.99,
    v_1 = 0.01 g^2, so the very first PyTorch step is 10 lr in each coordinate).

    State per parameter: ``step``, ``square_avg``, and ``grad_avg`` when
    centered, ``momentum_buffer`` when momentum > 0.
    """

    _kernel_name = "rmsprop"
    _state_names = ("square_avg", "grad_avg", "momentum_buffer")
    _takes_step = False

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1e-2,
                 alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, maximize: bool = False,
                 eps_in_sqrt: bool = False, initial_accumulator_value: float = 0.0,
                 lr_in_momentum: bool = False, device: str = "auto"):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize,
                        eps_in_sqrt=eps_in_sqrt,
                        initial_accumulator_value=initial_accumulator_value,
                        lr_in_momentum=lr_in_momentum)
        super().__init__(params, defaults, device)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_common(group)
        check_number(group["alpha"], "Invalid alpha value", high=1.0, high_open=True)
        check_number(group["eps"], "Invalid eps value")
        check_number(group["momentum"], "Invalid momentum value")
        check_number(group["initial_accumulator_value"],
                     "Invalid initial_accumulator_value value")
        check_flag(group["centered"], "centered")
        check_flag(group["eps_in_sqrt"], "eps_in_sqrt")
        check_flag(group["lr_in_momentum"], "lr_in_momentum")

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        init = {"square_avg": float(group["initial_accumulator_value"])}
        if group["centered"]:
            init["grad_avg"] = 0.0
        if group["momentum"] > 0:
            init["momentum_buffer"] = 0.0
        return init

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        return (float(group["lr"]), float(group["alpha"]), float(group["eps"]),
                float(group["weight_decay"]), float(group["momentum"]),
                bool(group["centered"]), bool(group["maximize"]), bool(group["eps_in_sqrt"]),
                bool(group["lr_in_momentum"]))
