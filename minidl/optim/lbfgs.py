"""L-BFGS: a quasi-Newton step from the last few gradient differences, with a closure."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from ..tensor import Tensor
from ..versions import bump
from .optimizer import TORCH_ONLY_KEYS, Closure, Optimizer, check_number


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to
    ``bounds`` (default: between x1 and x2); their middle when the cubic has none."""
    xmin_bound, xmax_bound = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)   # in the dtype of the numbers, as torch's tensor sqrt
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """PyTorch's line search (from minFunc): a step t along d meeting the strong Wolfe
    conditions, f(x + t d) <= f + c1 t gtd and |g(x + t d) . d| <= -c2 gtd, by
    bracketing and then zooming with cubic interpolation. Returns (f, g, t, evals)."""
    d_norm = np.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:   # bracketing
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:   # zoom
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) \
                    else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


# The entries of LBFGS's state, as PyTorch names them: vectors over the flat buffer,
# lists of them, and numbers.
VECTORS, LISTS = ("d", "prev_flat_grad"), ("old_dirs", "old_stps", "ro", "al")
NUMBERS = ("func_evals", "n_iter", "t", "H_diag", "prev_loss")


class LBFGS(Optimizer):
    """L-BFGS (Nocedal, 1980), PyTorch's ``torch.optim.LBFGS``; ``step(closure)``.

    The idea. Newton's method steps by H^-1 g, the gradient rescaled by the
    inverse curvature; L-BFGS never forms H but rebuilds H^-1 g from the last
    ``history_size`` pairs s = x_{k+1} - x_k, y = g_{k+1} - g_k (the two-loop
    recursion), starting from the scaling gamma = s.y / y.y:

        q = -g
        for the pairs, newest first:  a_i = rho_i s_i.q;  q = q - a_i y_i   (rho_i = 1 / y_i.s_i)
        r = gamma q
        for the pairs, oldest first:  b = rho_i y_i.r;  r = r + (a_i - b) s_i
        x = x + t r

    A pair is kept only when y.s > 1e-10 (the curvature is positive). t is lr
    (the first iteration: min(1, 1 / |g|_1) lr), or with
    ``line_search_fn="strong_wolfe"`` a step meeting the strong Wolfe
    conditions. One ``step(closure)`` runs up to ``max_iter`` iterations and
    ``max_eval`` evaluations of ``closure`` (which zeroes the grads, computes
    the loss, calls ``backward`` and returns the loss), and stops early when
    max |g| <= tolerance_grad or the step or the loss change falls below
    tolerance_change. It returns the loss of the first evaluation.

    One param group only. Every vector lives over the group's flat buffer:
    the direction, the gradient and each history pair are arrays of the
    buffer's length, and x + t r is one operation on the flat params (a param
    without a grad counts as a zero gradient, as in PyTorch). The state, as
    PyTorch's, is one entry under the first param: ``func_evals``, ``n_iter``,
    ``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``,
    ``prev_flat_grad``, ``prev_loss`` (and ``al``); its state_dict loads into
    torch and back. No kernel: numpy's dot products on the host, whatever the
    device.
    """

    _kernel_name = ""
    _state_names = ()
    _host_only = True

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], lr: float = 1,
                 max_iter: int = 20, max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None, device: str = "auto"):
        if max_eval is None and isinstance(max_iter, int):
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        self._lbfgs: dict[str, Any] = {}
        super().__init__(params, defaults, device)

    def _checked_group(self, param_group: dict[str, Any], pending: list[dict[str, Any]]
                       ) -> dict[str, Any]:
        """The one group; a second is refused, as PyTorch refuses it."""
        if self.param_groups or pending:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        return super()._checked_group(param_group, pending)

    def _check(self, group: Mapping[str, Any]) -> None:
        check_number(group["lr"], "Invalid learning rate")
        for key in ("max_iter", "max_eval", "history_size"):
            value = group[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Invalid {key} value: {value!r} (expected an int >= 1)")
        check_number(group["tolerance_grad"], "Invalid tolerance_grad value")
        check_number(group["tolerance_change"], "Invalid tolerance_change value")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"Invalid line_search_fn value: {group['line_search_fn']!r}; "
                             f"only 'strong_wolfe' is supported (or None)")

    def _state_init(self, group: Mapping[str, Any]) -> dict[str, float]:
        return {}

    def _scalars(self, group: Mapping[str, Any]) -> tuple:
        return ()

    # -- the flat vectors ---------------------------------------------------------
    @property
    def _group(self):
        return self._flat[0]

    def _gather_flat_grad(self) -> np.ndarray:
        """A copy of the flat grads, zero where a param has no grad."""
        flat = self._group
        grad = flat.grad.copy()
        if flat.grads_present != len(flat.params):
            for param, (lo, hi) in zip(flat.params, flat.slices()):
                if param._grad is None:
                    grad[lo:hi] = 0
        return grad

    def _add_grad(self, step_size, update: np.ndarray) -> None:
        """x = x + step_size * update, on the flat params."""
        flat = self._group
        flat.data += flat.dtype.type(step_size) * update
        bump(flat.version)   # the params changed in place, as an optimizer step does

    def _directional_evaluate(self, closure: Closure, x: np.ndarray, t, d: np.ndarray):
        """(loss, grad) at x + t d; the params are x again afterwards."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._group.data[:] = x
        bump(self._group.version)
        return loss, flat_grad

    # -- the step -------------------------------------------------------------------
    def step(self, closure: Closure) -> Any:  # type: ignore[override]
        """Up to ``max_iter`` L-BFGS iterations; returns the first ``closure()``'s loss."""
        if closure is None:
            raise TypeError("LBFGS.step needs a closure that re-evaluates the model and "
                            "returns the loss (it should zero the grads and call backward)")
        group = self.param_groups[0]
        self._check(group)
        flat = self._group
        if flat.taken_over is not None:
            raise RuntimeError(flat.taken_over)
        cast = flat.dtype.type
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self._lbfgs
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        opt_cond = bool(np.abs(flat_grad).max() <= tolerance_grad)
        if opt_cond:   # already optimal
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * cast(t)
                ys = y.dot(s)
                if ys > 1e-10:   # keep the pair only where the curvature is positive
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(cast(1.0) / ys)
                    H_diag = ys / y.dot(y)
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):   # the two-loop recursion
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q += -al[i] * old_dirs[i]
                d = r = q * cast(H_diag)
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, cast(1.0) / np.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tolerance_change:   # not a descent direction
                break

            ls_func_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                x_init = flat.data.copy()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * cast(t)).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    # -- state: one entry, under the first param, as PyTorch's -------------------------
    @property
    def state(self) -> dict[Tensor, dict[str, Any]]:
        """{first param: the L-BFGS state} once a step ran (live, not copies)."""
        return {self._group.params[0]: self._lbfgs} if self._lbfgs else {}

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: {"state": {0: {...}}, "param_groups": [...]}, copies;
        vectors as arrays, ``ro``, ``al``, ``t`` and ``H_diag`` as numbers or 0-d arrays."""
        entry = {key: [None if v is None else np.array(v) for v in value] if key in LISTS
                 else np.array(value) if isinstance(value, (np.ndarray, np.generic)) else value
                 for key, value in self._lbfgs.items()}
        group = {key: value for key, value in self.param_groups[0].items() if key != "params"}
        group["params"] = list(range(len(self._group.params)))
        return {"state": {0: entry} if entry else {}, "param_groups": [group]}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Load a ``state_dict()`` of LBFGS (minidl's, or torch's with its tensors as
        numpy arrays); everything is checked before anything changes."""
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("a state dict must be a mapping with exactly the keys "
                             "'state' and 'param_groups'")
        groups = list(state_dict["param_groups"])
        if len(groups) != 1:
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, "
                             f"LBFGS has 1")
        flat = self._group
        if len(groups[0]["params"]) != len(flat.params):
            raise ValueError(f"loaded parameter group has {len(groups[0]['params'])} "
                             f"parameters, this optimizer's has {len(flat.params)}")
        new_group = {**self.param_groups[0],
                     **{k: v for k, v in groups[0].items() if k not in TORCH_ONLY_KEYS},
                     "params": self.param_groups[0]["params"]}
        self._check(new_group)
        saved = dict(state_dict["state"])
        if set(saved) - {groups[0]["params"][0]}:
            raise ValueError(f"loaded LBFGS state has entries {sorted(saved)}; expected "
                             f"at most one, under the first parameter")
        entry = dict(next(iter(saved.values()))) if saved else {}
        state = self._checked_state(entry, flat.size, flat.dtype)
        self.param_groups[0].update(new_group)
        self._lbfgs = state

    @staticmethod
    def _checked_state(entry: Mapping[str, Any], size: int, dtype: np.dtype) -> dict[str, Any]:
        """A loaded entry as the step keeps it, or ValueError naming what is wrong."""
        unknown = set(entry) - set(VECTORS) - set(LISTS) - set(NUMBERS)
        if unknown:
            raise ValueError(f"LBFGS state has unknown entries {sorted(unknown)}")

        def vector(value: Any, name: str) -> np.ndarray:
            array = np.asarray(value)
            if array.shape != (size,) or array.dtype.kind != "f":
                raise ValueError(f"LBFGS state '{name}' has shape {array.shape} and dtype "
                                 f"{array.dtype}; expected ({size},) floats, the params' "
                                 f"flat size")
            return array.astype(dtype)

        def number(value: Any) -> Any:
            return None if value is None else dtype.type(np.asarray(value))

        state: dict[str, Any] = {}
        for name, value in entry.items():
            if name in VECTORS:
                state[name] = None if value is None else vector(value, name)
            elif name in ("old_dirs", "old_stps"):
                state[name] = [vector(v, name) for v in value]
            elif name in ("ro", "al"):
                state[name] = [number(v) for v in value]
            elif name in ("func_evals", "n_iter"):
                state[name] = int(np.asarray(value))
            elif name == "prev_loss":
                state[name] = None if value is None else float(np.asarray(value))
            else:   # t, H_diag: a number in the params' dtype (H_diag starts as the int 1)
                state[name] = value if isinstance(value, int) else number(value)
        lengths = {len(state.get(name, [])) for name in ("old_dirs", "old_stps", "ro")}
        if len(lengths) > 1:
            raise ValueError("LBFGS state's old_dirs, old_stps and ro differ in length")
        return state
