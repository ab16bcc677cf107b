"""The Tensor and its reverse-mode autograd engine.

A Tensor wraps a numpy array. An op (see ``ops/``) computes its output array
and a *closure* ``backward(g)`` that maps the gradient of the output, ``g``, to
one gradient per input: the vector-Jacobian products ``g @ d out / d input``.
``Tensor.backward`` sorts the graph topologically (iteratively, so a chain of
10,000 ops is fine) and runs the closures from the output back to the leaves,
summing the gradient that reaches each tensor along every path:

    dL/dx = sum over every op y = f(..., x, ...) of  vjp_f(dL/dy)

Leaves (tensors made by the user with ``requires_grad=True``) accumulate the
result into ``.grad``, as in PyTorch; intermediate tensors keep nothing. The
walk itself is ``run_backward``, which ``minidl.autograd.grad`` and
``minidl.autograd.backward`` call too.

In-place ops (``ops/inplace.py``) write into a tensor's array, which other
tensors may view. A tensor and its views share a ``Version`` counter that
counts those writes, and every op output remembers the engine's clock when it
was made. ``backward`` refuses to run an op's closure when an input's storage,
or the op's own output that the closure reads, was written after the op ran:
the closure would read values it did not see, so the gradient could be wrong.
"""
from __future__ import annotations

import warnings
import weakref
from typing import Any, Callable, Sequence

import numpy as np

from . import grad_mode
from .grad_fn import GradFn, public_caller
from .hooks import RemovableHandle
from .versions import Clock, Version, bump, check_unchanged

Grads = Sequence["np.ndarray | None"]
BackwardFn = Callable[[np.ndarray], Grads]


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    """float32 unless asked otherwise; integer and bool data keep their kind.
    A Tensor holds real numbers: None (numpy would make it nan) and complex,
    string or other dtypes raise TypeError."""
    if isinstance(data, Tensor):
        data = data._data
    array = np.asarray(data)
    if array.dtype == object and any(item is None for item in array.flat):
        raise TypeError("cannot make a Tensor from data holding None: None is not a number "
                        "(numpy would turn it into nan)")
    if dtype is not None:
        if np.dtype(dtype).kind not in "fiub":
            raise TypeError(f"Invalid dtype: {np.dtype(dtype)} (a Tensor holds float, int "
                            f"or bool numbers)")
        return np.asarray(array, dtype=dtype)
    if array.dtype.kind in "iub":
        return array
    if array.dtype.kind != "f" and array.dtype != object:
        raise TypeError(f"cannot make a Tensor from data of dtype {array.dtype}")
    return np.asarray(array, dtype=np.float32)


def _root_array(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory ``array`` views."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class Tensor:
    """An n-dimensional array that records the ops applied to it.

    ``Tensor(data, requires_grad=False, dtype=None)``: float32 unless ``dtype``
    asks otherwise (float64 for gradient checks); integer data stays integer.
    """

    __array_priority__ = 1000  # numpy_array + tensor calls Tensor.__radd__

    # Defaults shared by every instance until a tensor needs its own (see Version):
    _base: Tensor | None = None          # the tensor whose storage this one views
    _version_box: Version | None = None  # made on the first write or view
    _made_at = 0                         # the clock when the op made this tensor
    _overwritten = False                 # its array was written in place after it was made
    _grad_tensor: Tensor | None = None   # the Tensor that ``.grad`` returns
    _views: list | None = None           # weak references to the views of this base
    _detached = False                    # a .data or detach() alias: not a differentiable view
    _retains_grad = False                # a non-leaf that keeps its .grad (retain_grad())
    _cut_at = 0                          # the clock when detach_() cut it (0: never)
    _grad_fn_name: str | None = None     # the op that made it (set by _make; grad_fn.py)

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        self._data = _as_array(data, dtype)
        self._grad: np.ndarray | None = None
        # An optimizer may move the arrays into its flat buffers (see ``_bind``).
        self._grad_view: np.ndarray | None = None
        self._owner: Any = None
        # The graph: the inputs of the op that made this tensor, and its closure.
        self._parents: tuple[Tensor, ...] = ()
        self._backward: BackwardFn | None = None
        self._freed = False
        self.requires_grad = requires_grad

    # -- construction of op outputs ----------------------------------------
    @staticmethod
    def _make(data: np.ndarray, parents: tuple[Tensor, ...], backward: BackwardFn) -> Tensor:
        """The output of an op: a node of the graph when any input needs grad.

        An output that views an input's memory (reshape, transpose, basic
        indexing) is a view of that input: they share one version counter, so
        an in-place write through either is seen by the graphs of both."""
        out = Tensor.__new__(Tensor)
        out._data, out._grad, out._grad_view, out._owner = np.asarray(data), None, None, None
        out._freed = False
        out._made_at = Clock.now
        out._requires_grad = grad_mode._mode.enabled and any([p._requires_grad for p in parents])
        out._parents = parents if out._requires_grad else ()
        out._backward = backward if out._requires_grad else None
        out._grad_fn_name = backward.__qualname__ if out._requires_grad else None
        if out._requires_grad and out._grad_fn_name[0] == "_":   # made in a shared helper
            out._grad_fn_name = public_caller()
        if parents and (out._data.base is not None or out._data is parents[0]._data):
            out._view_of(parents)
        return out

    def _view_of(self, parents: tuple[Tensor, ...]) -> None:
        """Make this tensor a view of the parent whose memory its array shares, if any:
        the parent's array itself or its base (reshape, basic indexing: the common
        case, one comparison), else an array with the same root whose bounds overlap
        (np.may_share_memory tells siblings in one flat buffer apart)."""
        data, root = self._data, None
        for parent in parents:
            if data.base is not parent._data and data is not parent._data:
                root = _root_array(data) if root is None else root
                if _root_array(parent._data) is not root or (
                        len(parents) > 1 and not np.may_share_memory(data, parent._data)):
                    continue
            base = parent._base if parent._base is not None else parent
            self._base, self._version_box = base, base._version_counter()
            if base._views is None:
                base._views = []
            base._views.append(weakref.ref(self))
            if len(base._views) % 64 == 0:   # a parameter is viewed at every step:
                base._live_views()           # drop the views that are gone
            return

    def _live_views(self) -> list[Tensor]:
        """The views of this base that are still alive."""
        views = [view for view in map(lambda ref: ref(), self._views or ()) if view is not None]
        self._views = [weakref.ref(view) for view in views]
        return views

    def _version_counter(self) -> Version:
        """The version counter of this tensor's storage (made when first asked for)."""
        if self._version_box is None:
            self._version_box = Version()
        return self._version_box

    def _alias(self) -> Tensor:
        """A tensor outside the graph on the same storage and version counter."""
        alias = Tensor.__new__(Tensor)
        alias._data, alias._grad, alias._grad_view, alias._owner = self._data, None, None, None
        alias._parents, alias._backward, alias._freed = (), None, False
        alias._requires_grad = False
        alias._base = self._base if self._base is not None else self
        alias._version_box = alias._base._version_counter()
        alias._detached = True
        return alias

    # -- data, grad and their binding to an optimizer's flat buffers ---------
    @property
    def data(self) -> Tensor:
        """The same storage as a tensor outside the graph, as PyTorch's ``.data``:
        ``p.data.zero_()`` and ``p.data[0] = 1`` write into ``p`` (and into an
        optimizer's flat buffer that holds it). Assigning ``p.data = x`` replaces
        the values (copies them in, for a tensor in an optimizer's flat buffer)."""
        return self._alias()

    @data.setter
    def data(self, value: Any) -> None:
        value = np.asarray(value._data if isinstance(value, Tensor) else value)
        if self._owner is None:
            self._data = value
            return
        if value.shape != self._data.shape:
            raise ValueError(
                f"cannot assign data of shape {value.shape} to a tensor of shape "
                f"{self._data.shape} that lives in an optimizer's flat buffer")
        np.copyto(self._data, value, casting="same_kind")
        self._owner.data_assigned(self)

    @property
    def grad(self) -> Tensor | None:
        """d loss / d self after ``backward()`` (None before): a Tensor on the grad
        array, which for a parameter is a view of its optimizer's flat grad buffer,
        so ``p.grad.zero_()`` and ``p.grad += g`` write there. A non-leaf keeps its
        gradient only after ``retain_grad()`` (or ``backward(inputs=[t])``); reading it
        while it is None otherwise warns, as in PyTorch."""
        if self._grad is None and not self._retains_grad and not self.is_leaf:
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being "
                          "accessed. Its .grad attribute won't be populated during "
                          "backward(); use .retain_grad() on the non-leaf Tensor if you want "
                          "it, or access the leaf Tensor instead.", UserWarning, stacklevel=2)
        g = self._grad
        if g is None:
            return None
        wrapper = self._grad_tensor
        if wrapper is None or wrapper._data is not g:
            wrapper = self._grad_tensor = Tensor(g, dtype=g.dtype)
        return wrapper

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            cleared, self._grad = self._grad is not None, None
            if cleared and self._owner is not None:
                self._owner.grad_cleared(self)
            return
        value = np.asarray(value._data if isinstance(value, Tensor) else value, dtype=self.dtype)
        if value.shape != self._data.shape:
            raise ValueError(f"cannot assign a grad of shape {value.shape} "
                             f"to a tensor of shape {self._data.shape}")
        if self._grad_view is None:
            self._grad = value
        else:
            self._store_grad(value)

    def _store_grad(self, value: np.ndarray) -> None:
        """Copy a grad of the right shape into the flat buffer's view."""
        np.copyto(self._grad_view, value, casting="same_kind")
        if self._grad is None:
            self._grad = self._grad_view
            self._owner.grad_arrived(self)

    def _bind(self, data_view: np.ndarray, grad_view: np.ndarray, owner: Any,
              version: Version) -> None:
        """Move data and grad into views of an optimizer's flat buffers.

        From now on assigning ``.data`` or ``.grad`` copies into the views, and
        ``owner.data_assigned(self)`` / ``owner.grad_arrived(self)`` are told;
        setting a grad back to None tells ``owner.grad_cleared(self)``. The
        parameters of one flat buffer share its ``version`` counter, which the
        optimizer's step advances, as it writes them all at once.
        """
        np.copyto(data_view, self._data)
        grad, self._grad = self._grad, None
        self._data, self._grad_view, self._owner = data_view, grad_view, owner
        self._version_box = version
        if grad is not None:
            self.grad = grad

    # -- in-place writes: the version counter and the graph ------------------
    @property
    def _version(self) -> int:
        """How many times this tensor's storage was written in place (PyTorch's)."""
        return 0 if self._version_box is None else self._version_box.count

    def _written(self) -> None:
        """Count an in-place write into this tensor's storage, and tell the
        optimizer that holds the storage, if any (a device copy goes stale)."""
        bump(self._version_counter())
        root = self._base if self._base is not None else self
        if root._owner is not None:
            root._owner.data_assigned(root)

    def _snapshot(self) -> Tensor:
        """This tensor's place in the graph with a copy of its current values, as a
        tensor of its own: the input of an in-place op that is about to overwrite it.
        The op that made those values may have kept their array for its backward:
        it is marked overwritten (see ``_check_unchanged``)."""
        old = Tensor.__new__(Tensor)
        old._data, old._grad, old._grad_view, old._owner = self._data.copy(), None, None, None
        old._parents, old._backward, old._freed = self._parents, self._backward, self._freed
        old._grad_fn_name = getattr(self, "_grad_fn_name", None)
        old._requires_grad, old._made_at = self._requires_grad, self._made_at
        old._overwritten = self._backward is not None
        return old

    def _rebase(self, result: Tensor) -> None:
        """After an in-place op recorded in the graph: this tensor, whose array now
        holds ``result``'s values, takes ``result``'s place in the graph."""
        self._parents, self._backward = result._parents, result._backward
        self._grad_fn_name, self._requires_grad = result._grad_fn_name, result._requires_grad
        self._freed, self._overwritten, self._made_at = False, False, Clock.now

    def _accumulate_grad(self, g: np.ndarray) -> None:
        """Add the gradient that reached this leaf (already of its shape) to .grad."""
        if self._grad is not None:
            self._grad += g
        elif self._grad_view is not None:
            self._store_grad(g)
        else:
            self._grad = np.array(g, dtype=self.dtype)

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"requires_grad must be True or False, not {value!r}")
        if value and self._data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require grad, "
                            f"not a tensor of dtype {self._data.dtype}")
        self._requires_grad = bool(value)

    @property
    def is_leaf(self) -> bool:
        """Made by the user (or under no_grad), not by an op that recorded a graph."""
        return self._backward is None and not self._freed

    @property
    def grad_fn(self) -> GradFn | None:
        """The op that made this tensor (None for a leaf): ``.name``, ``.next_functions``
        (see grad_fn.py)."""
        return GradFn(self) if self._backward is not None or self._freed else None

    # -- array-like conveniences --------------------------------------------
    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)

    def __len__(self) -> int:
        return len(self._data)

    def numpy(self) -> np.ndarray:
        return self._data

    def item(self) -> float | int | bool:
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, not shape {self.shape}")
        return self._data.item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def detach(self) -> Tensor:
        """The same storage, cut from the graph; it shares this tensor's version
        counter, so an in-place write through it is seen by the graph, as in PyTorch."""
        return self._alias()

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place: it becomes a leaf that does not require
        grad. A view refuses, as in PyTorch (its base's graph runs through it). Unlike
        PyTorch, ops recorded earlier on this tensor lose their path through it too: in
        minidl the tensor is the graph's node. So the cut is dated (``_cut_at``), and a
        backward through such an op raises (``check_unchanged``) instead of leaving the
        gradients behind it out; after their backward (truncated BPTT's
        ``h.detach_()``) nothing is lost."""
        if self._base is not None and not self._detached:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        if self._requires_grad:
            Clock.now = self._cut_at = next(Clock.ticks)
        self._parents, self._backward, self._freed = (), None, False
        self._requires_grad, self._retains_grad = False, False
        return self

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        shown = self._data.dtype not in (np.float32, np.int64, np.bool_)   # PyTorch's defaults
        extras = f", dtype={self._data.dtype}" if shown else ""
        if self.grad_fn is not None:
            extras += f", grad_fn=<{self.grad_fn.name}>"
        elif self._requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    # -- PyTorch's conveniences: numel, requires_grad_, numpy interop, grad hooks
    _grad_hooks: dict[int, Callable[[Tensor], Any]] | None = None   # per instance once set

    def numel(self) -> int:
        """The number of elements: the product of the shape."""
        return int(self._data.size)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return this tensor (leaves only)."""
        if not requires_grad and not self.is_leaf:
            raise RuntimeError("you can only change requires_grad of leaf tensors; use "
                               "detach() to get a tensor cut from the graph")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep d loss / d self in ``.grad`` after ``backward()`` on this non-leaf (the
        gradient after its hooks, summed over backward calls); on a leaf it does nothing."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if not self.is_leaf:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        """Whether ``backward()`` keeps this non-leaf's gradient (``retain_grad()``)."""
        return self._retains_grad

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)`` is the tensor's data (a copy when asked, as numpy does)."""
        if copy:
            return np.array(self._data, dtype=dtype)
        return np.asarray(self._data, dtype=dtype)

    def register_hook(self, hook: Callable[[Tensor], Any]) -> RemovableHandle:
        """Call ``hook(grad)`` whenever ``backward`` has computed d loss / d self.

        ``grad`` is a Tensor; a hook returning a Tensor or an array replaces the
        gradient that flows on (and that a leaf accumulates). Hooks run in the
        order registered; the returned handle's ``remove()`` takes the hook off.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self._grad_hooks is None:
            self._grad_hooks = {}
        return RemovableHandle(self._grad_hooks, hook)

    def _run_grad_hooks(self, g: np.ndarray) -> np.ndarray:
        """``g`` passed through each hook in turn; a hook's non-None result replaces it."""
        for hook in list(self._grad_hooks.values()):
            result = hook(Tensor(g, dtype=g.dtype))
            if result is not None:
                result = np.asarray(result._data if isinstance(result, Tensor) else result,
                                    dtype=g.dtype)
                if result.shape != g.shape:
                    raise RuntimeError(f"a gradient hook returned shape {result.shape} for "
                                       f"a tensor of shape {g.shape}")
                g = result
        return g

    # -- copying and pickling ---------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """What ``copy.deepcopy`` and ``pickle`` keep: data, grad, requires_grad.

        The copy is a leaf of its own: in no optimizer's flat buffer (an
        optimizer pickled along with it binds it again), and without the graph
        that made it (its closures cannot be pickled).
        """
        state = dict(self.__dict__)
        state.update(_grad_view=None, _owner=None, _parents=(), _backward=None, _freed=False)
        for name in ("_module_call",    # minidl.viz's record of the Module that made it
                     "_base", "_version_box", "_made_at", "_overwritten", "_grad_tensor",
                     "_views", "_detached", "_retains_grad"):
            state.pop(name, None)
        return state

    # -- the engine -----------------------------------------------------------
    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate d self / d leaf into every leaf's ``.grad`` (PyTorch's signature).

        ``gradient`` is d loss / d self; it may be left out only for a one-element
        tensor (then it is 1). Unless ``retain_graph``, the graph is freed. With
        ``inputs`` (tensors, leaves or not), only their ``.grad`` is accumulated.
        ``create_graph=True`` is refused: the backward closures run on numpy
        arrays, so the gradient has no graph of its own (no second derivatives).
        """
        accumulate_backward([self], [root_gradient(self, gradient, "gradient")], retain_graph,
                            create_graph, inputs)

    def _topological_order(self) -> list[Tensor]:
        """Every tensor that needs grad, each after all of its parents."""
        return topological_order([self])


def accumulate_backward(roots: Sequence[Tensor], gradients: Sequence[np.ndarray],
                        retain_graph: bool | None, create_graph: bool, inputs: Any) -> None:
    """A backward pass from ``roots`` that adds into ``.grad``: of every leaf, or with
    ``inputs``, of those tensors only (leaves or not), as PyTorch's ``inputs=``."""
    refuse_create_graph(create_graph)
    if inputs is None:
        run_backward(roots, gradients, bool(retain_graph))
        return
    wanted = list({id(tensor): tensor for tensor in as_tensors("inputs", inputs)}.values())
    if not wanted:
        raise RuntimeError("'inputs' argument to backward() cannot be empty")
    found = run_backward(roots, gradients, bool(retain_graph), wanted)
    for tensor in wanted:
        if id(tensor) in found and not tensor._retains_grad:   # a retained one has it
            tensor._accumulate_grad(found[id(tensor)])


def refuse_create_graph(create_graph: bool) -> None:
    if create_graph:
        raise NotImplementedError(
            "create_graph=True: minidl's backward closures compute on numpy arrays, so a "
            "gradient has no graph of its own to differentiate again (no second derivatives)")


def as_tensors(name: str, tensors: Any) -> list[Tensor]:
    """``tensors`` (a Tensor or a sequence of them) as a list, refusing anything else."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for i, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{name}[{i}] must be a Tensor, not {type(tensor).__name__}")
    return tensors


def root_gradient(root: Tensor, gradient: Any, name: str) -> np.ndarray:
    """d loss / d root for a backward pass from ``root``: ``gradient`` as an array of
    root's shape and dtype, or 1 for a one-element root when it is None."""
    if not root._requires_grad:
        raise RuntimeError("backward() on a tensor that does not require grad: "
                           "no input of the ops that made it has requires_grad=True")
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError(
                f"backward() without a {name} works only on a one-element tensor "
                f"(a loss); this one has shape {root.shape}: pass {name}, an array "
                f"of that shape holding d loss / d tensor")
        return np.ones_like(root._data)
    gradient = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient,
                          dtype=root.dtype)
    if gradient.shape != root.shape:
        raise ValueError(f"backward({name}): {name} has shape {gradient.shape}, "
                         f"the tensor has shape {root.shape}")
    return gradient


def run_backward(roots: Sequence[Tensor], gradients: Sequence[np.ndarray], retain_graph: bool,
                 wanted: Sequence[Tensor] | None = None) -> dict[int, np.ndarray]:
    """The engine: call every op's backward closure from the roots back to the leaves.

    Each node's gradient is the sum of what reaches it along every path
    (seeded with ``gradients`` at the ``roots``). Without ``wanted``, a leaf
    adds its gradient into ``.grad``; with ``wanted``, only the ops on a path
    to a ``wanted`` tensor run (as in PyTorch: no hook of a tensor off those
    paths fires), no leaf's ``.grad`` changes, and the gradients of the
    ``wanted`` tensors come back as {id(tensor): array}. A non-leaf that
    ``retain_grad()`` adds its gradient into ``.grad`` either way. Unless
    ``retain_graph``, each op's closure is released after it ran.
    """
    grads: dict[int, np.ndarray] = {}
    for root, gradient in zip(roots, gradients):
        grads[id(root)] = grads[id(root)] + gradient if id(root) in grads else gradient
    order = topological_order(roots)
    wanted_ids = None if wanted is None else {id(tensor) for tensor in wanted}
    on_the_way = None if wanted_ids is None else _leading_to(order, wanted_ids)
    found: dict[int, np.ndarray] = {}
    for node in reversed(order):
        g = grads.pop(id(node), None)
        if g is None:              # every op on the way gave it no gradient (None): zero
            continue
        if node._freed:            # (its parents are gone: whether it leads to wanted too)
            raise RuntimeError(
                "backward through a graph that was already freed: the first "
                "backward() released it; pass retain_graph=True to the first call "
                "to go through the graph twice")
        if on_the_way is not None and id(node) not in on_the_way:
            continue
        if node._grad_hooks:
            g = node._run_grad_hooks(g)
        if wanted_ids is not None and id(node) in wanted_ids:
            found[id(node)] = g
        if node._backward is None:
            if wanted_ids is None:
                node._accumulate_grad(g)
            continue
        if node._retains_grad:     # t.retain_grad() on an op's output
            node._accumulate_grad(g)
        if on_the_way is not None and not any(id(p) in on_the_way for p in node._parents):
            continue               # a wanted tensor with nothing wanted behind it
        if node._made_at != Clock.now:   # something was written since the op ran
            check_unchanged(node)
        for parent, parent_grad in zip(node._parents, node._backward(g)):
            if parent_grad is None or not parent._requires_grad:
                continue
            if parent_grad.shape != parent._data.shape:
                raise RuntimeError(
                    f"an op's backward returned a gradient of shape {parent_grad.shape} "
                    f"for an input of shape {parent.shape}")
            key = id(parent)
            grads[key] = grads[key] + parent_grad if key in grads else parent_grad
        if not retain_graph:
            node._backward, node._parents, node._freed = None, (), True
    return found


def _leading_to(order: Sequence[Tensor], targets: set[int]) -> set[int]:
    """The ids of the tensors of ``order`` (parents first) that are among ``targets``
    or have one of them behind them: the nodes whose ops lead to a target."""
    leading: set[int] = set()
    for node in order:
        if id(node) in targets or any(id(parent) in leading for parent in node._parents):
            leading.add(id(node))
    return leading


def topological_order(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor that needs grad behind ``roots``, each after all of its parents
    (a depth-first walk without recursion, so a chain of any length fits)."""
    order: list[Tensor] = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack: list[tuple[Tensor, int]] = [(root, 0)]
        while stack:
            node, next_parent = stack.pop()
            if next_parent < len(node._parents):
                stack.append((node, next_parent + 1))
                parent = node._parents[next_parent]
                if parent._requires_grad and id(parent) not in visited:
                    visited.add(id(parent))
                    stack.append((parent, 0))
            else:
                order.append(node)
    return order


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` back to ``shape``: the adjoint of numpy broadcasting."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)
