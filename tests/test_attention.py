"""Attention, the Transformer encoder, RMSNorm and GroupNorm.

Parity with PyTorch in float32 and float64: outputs and every gradient (inputs,
parameters, float masks) match vectors that tests/data/make_attention_vectors.py
generated with torch 2.13.0, with torch's weights loaded (the suite does not
need torch). Then gradchecks, dropout, state_dict round trips with torch's own
modules (where torch is installed). Bad input: test_sequence_errors.py.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minidl
import minidl.nn as nn
import minidl.nn.functional as F

VECTORS = np.load(Path(__file__).parent / "data" / "torch_attention_vectors.npz")
CASES = json.loads(str(VECTORS["cases"]))
HAS_TORCH = importlib.util.find_spec("torch") is not None
TOLERANCE = {"float32": {"rtol": 2e-4, "atol": 2e-5}, "float64": {"rtol": 1e-10, "atol": 1e-12}}


def stored(number: int, group: str) -> dict[str, np.ndarray]:
    prefix = f"{number}/{group}/"
    return {key[len(prefix):]: VECTORS[key] for key in VECTORS.files if key.startswith(prefix)}


def build(kind: str, settings: dict, dtype: str) -> nn.Module:
    """The minidl module of a stored case."""
    if kind == "mha":
        return nn.MultiheadAttention(**settings, dtype=dtype)
    if kind == "encoder_layer":
        return nn.TransformerEncoderLayer(**settings, dtype=dtype)
    if kind == "encoder":
        layer = nn.TransformerEncoderLayer(**settings["layer"], dtype=dtype)
        norm = nn.LayerNorm(settings["layer"]["d_model"], dtype=dtype) \
            if settings.get("norm") else None
        return nn.TransformerEncoder(layer, settings["num_layers"], norm=norm)
    if kind == "rms_norm":
        return nn.RMSNorm(**settings, dtype=dtype)
    return nn.GroupNorm(**settings, dtype=dtype)


@pytest.mark.parametrize("number", range(len(CASES)),
                         ids=lambda i: f"{CASES[i]['kind']}-{CASES[i]['dtype']}-{i}")
def test_matches_torch(number):
    case = CASES[number]
    kind, dtype, forward = case["kind"], case["dtype"], dict(case["forward"])
    inputs = {name: minidl.Tensor(a.copy(), requires_grad=True, dtype=a.dtype)
              for name, a in stored(number, "in").items()}
    args = {name: a.copy() for name, a in stored(number, "arg").items()}
    params = {}
    if kind == "sdpa":
        out = F.scaled_dot_product_attention(*inputs.values(), **args, **forward)
    else:
        module = build(kind, case["settings"], dtype)
        module.load_state_dict(stored(number, "p"))
        params = dict(module.named_parameters())
        assert set(params) == set(stored(number, "p"))
        positional = list(inputs.values()) * (3 if forward.pop("self", False) else 1)
        out = module(*positional, **args, **forward)
    outputs = {"y": out[0], "w": out[1]} if kind == "mha" else {"y": out}
    tolerance = TOLERANCE[dtype]
    total = None
    for name, y in outputs.items():
        if f"{number}/{name}" not in VECTORS:
            assert y is None
            continue
        assert y.dtype == np.dtype(dtype)
        np.testing.assert_allclose(y.numpy(), VECTORS[f"{number}/{name}"], **tolerance,
                                   err_msg=name)
        g = VECTORS[f"{number}/{'g' if name == 'y' else 'gw'}"]
        term = (y * minidl.Tensor(g, dtype=g.dtype)).sum()
        total = term if total is None else total + term
    total.backward()
    for group, tensors in (("in", inputs), ("p", params)):
        expected = stored(number, f"grad_{group}")
        for name, tensor in tensors.items():
            np.testing.assert_allclose(np.asarray(tensor.grad), expected[name], **tolerance,
                                       err_msg=f"gradient of {name}")


def leaf(*shape: int, seed: int = 0) -> minidl.Tensor:
    data = np.random.default_rng(seed).standard_normal(shape)
    return minidl.Tensor(data, requires_grad=True, dtype=np.float64)


@pytest.mark.parametrize("options", [{}, {"is_causal": True}, {"scale": 0.7},
                                     {"attn_mask": np.tri(4, 5, 1, dtype=bool)}])
def test_attention_gradcheck(options):
    q, k, v = leaf(2, 4, 3), leaf(2, 5, 3, seed=1), leaf(2, 5, 2, seed=2)
    assert minidl.gradcheck(lambda *t: F.scaled_dot_product_attention(*t, **options), q, k, v)


@settings(max_examples=15, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2), length=st.integers(1, 4),
       source=st.integers(1, 4), features=st.integers(1, 3), values=st.integers(1, 3),
       mask=st.sampled_from(["none", "bool", "float", "causal"]), seed=st.integers(0, 99))
def test_attention_gradcheck_on_drawn_sizes(batch, length, source, features, values, mask,
                                            seed):
    q = leaf(*batch, length, features, seed=seed)
    k = leaf(*batch, source, features, seed=seed + 1)
    v = leaf(*batch, source, values, seed=seed + 2)
    options = {"is_causal": mask == "causal"}
    if mask == "bool":
        allowed = np.random.default_rng(seed).random((length, source)) < 0.6
        allowed[:, 0] = True
        options["attn_mask"] = allowed
    inputs = (q, k, v, leaf(length, source, seed=seed + 3)) if mask == "float" else (q, k, v)
    out = F.scaled_dot_product_attention(*inputs, **options)
    assert out.shape == (*batch, length, values) and out.dtype == np.float64
    assert minidl.gradcheck(lambda *t: F.scaled_dot_product_attention(*t, **options), *inputs)


def test_attention_without_keys_or_queries_is_empty_or_zero_as_in_torch():
    q = leaf(2, 3, 4)
    out = F.scaled_dot_product_attention(q, leaf(2, 0, 4), leaf(2, 0, 5))
    np.testing.assert_array_equal(out.numpy(), np.zeros((2, 3, 5)))
    out.sum().backward()
    np.testing.assert_array_equal(np.asarray(q.grad), np.zeros((2, 3, 4)))
    assert F.scaled_dot_product_attention(leaf(2, 0, 4), q, q).shape == (2, 0, 4)


def test_attention_gradcheck_through_a_float_mask_and_broadcast_batch_axes():
    q, k, v, mask = leaf(3, 1, 4, 3), leaf(1, 2, 5, 3, seed=1), leaf(2, 5, 2, seed=2), leaf(4, 5)
    assert F.scaled_dot_product_attention(q, k, v, mask).shape == (3, 2, 4, 2)
    assert minidl.gradcheck(F.scaled_dot_product_attention, q, k, v, mask)
    full_mask = leaf(3, 2, 4, 5, seed=3)                 # its gradient is d_scores itself
    assert minidl.gradcheck(F.scaled_dot_product_attention, q, k, v, full_mask)


def test_attention_dropout_scales_the_kept_weights_and_its_gradient_checks():
    q, k = leaf(2, 6, 3), leaf(2, 6, 3, seed=1)
    identity = minidl.Tensor(np.eye(6), dtype=np.float64)       # so y is the weights
    weights = F.scaled_dot_product_attention(q, k, identity).numpy()
    minidl.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, k, identity, dropout_p=0.25).numpy()
    kept = dropped != 0
    assert 0.6 < kept.mean() < 0.9
    np.testing.assert_allclose(dropped[kept], weights[kept] / 0.75)

    def attention(*t):
        minidl.manual_seed(1)
        return F.scaled_dot_product_attention(*t, dropout_p=0.5)
    assert minidl.gradcheck(attention, q, k, leaf(2, 6, 2, seed=2))


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("batch_first", [True, False])
def test_multihead_attention_gradcheck(need_weights, batch_first):
    minidl.manual_seed(0)
    attention = nn.MultiheadAttention(4, 2, batch_first=batch_first, dtype=np.float64)
    padding = np.zeros((2, 5), dtype=bool)
    padding[0, -1] = True
    query, key = leaf(3, 2, 4), leaf(5, 2, 4, seed=1)
    if batch_first:
        query, key = leaf(2, 3, 4), leaf(2, 5, 4, seed=1)
    assert minidl.gradcheck(lambda q, k: attention(q, k, k, key_padding_mask=padding,
                                                   need_weights=need_weights)[0], query, key)


@pytest.mark.parametrize("need_weights", [True, False])
def test_unbatched_masks_fit_a_batch_first_attention(need_weights):
    """Unbatched (L, E) input has its sequence on axis 0 whatever batch_first says, so
    masks of shape (S,) and (L, S) fit it (as in PyTorch) and give batch_first=False's
    result."""
    minidl.manual_seed(0)
    first = nn.MultiheadAttention(4, 2, batch_first=True, dtype=np.float64)
    second = nn.MultiheadAttention(4, 2, dtype=np.float64)
    second.load_state_dict(first.state_dict())
    query, key = leaf(3, 4), leaf(5, 4, seed=1)
    padding = np.array([False, False, True, False, False])
    causal = np.triu(np.ones((3, 5), dtype=bool), 1)
    got, expected = (module(query, key, key, key_padding_mask=padding, attn_mask=causal,
                            need_weights=need_weights) for module in (first, second))
    np.testing.assert_array_equal(got[0].numpy(), expected[0].numpy())
    assert got[0].shape == (3, 4)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_gradcheck(norm_first):
    minidl.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=norm_first,
                                       activation="gelu", dtype=np.float64)
    encoder = nn.TransformerEncoder(layer, 2)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=np.float64)
    assert minidl.gradcheck(lambda x: encoder(x, mask=mask), leaf(3, 2, 4))


def test_norms_gradcheck():
    assert minidl.gradcheck(lambda x, w: F.rms_norm(x, (3, 2), w, eps=1e-3),
                            leaf(4, 3, 2), leaf(3, 2, seed=1))
    assert minidl.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b),
                            leaf(3, 4, 5), leaf(4, seed=1), leaf(4, seed=2))


def test_multihead_attention_init_shapes_and_dropout_in_training_only():
    minidl.manual_seed(0)
    attention = nn.MultiheadAttention(8, 2, dropout=0.5)
    assert dict((n, p.shape) for n, p in attention.named_parameters()) == {
        "in_proj_weight": (24, 8), "in_proj_bias": (24,), "out_proj.weight": (8, 8),
        "out_proj.bias": (8,)}
    bound = np.sqrt(6 / (24 + 8))                        # xavier_uniform_ on (3E, E)
    assert np.abs(attention.in_proj_weight.numpy()).max() <= bound
    assert np.abs(attention.in_proj_weight.numpy()).max() > 0.9 * bound
    assert not attention.in_proj_bias.numpy().any() and not attention.out_proj.bias.numpy().any()
    x = minidl.randn(3, 5, 8)
    y, w = attention(x, x, x)
    assert y.dtype == np.float32 and y.shape == (3, 5, 8) and w.shape == (5, 3, 3)
    y_unbatched, w_unbatched = attention(x[:, 0], x[:, 0], x[:, 0], average_attn_weights=False)
    assert y_unbatched.shape == (3, 8) and w_unbatched.shape == (2, 3, 3)
    attention.eval()
    first, _ = attention(x, x, x)
    again, _ = attention(x, x, x, need_weights=False)
    np.testing.assert_allclose(first.numpy(), again.numpy(), rtol=1e-5, atol=1e-6)
    attention.train()
    dropped, _ = attention(x, x, x, need_weights=False)
    assert np.abs(dropped.numpy() - first.numpy()).max() > 1e-3


def test_encoder_layer_activation_callables_defaults_and_dropout():
    layers = []
    for activation in ("gelu", nn.GELU(), F.gelu):
        minidl.manual_seed(0)
        layers.append(nn.TransformerEncoderLayer(8, 2, 16, activation=activation))
    by_name, by_module, by_function = layers
    assert by_name.linear1.out_features == 16 and by_name.dropout.p == 0.1
    assert nn.TransformerEncoderLayer(8, 2).linear1.out_features == 2048
    assert "activation" in dict(by_module.named_modules())   # a Module is a submodule
    x = minidl.randn(5, 3, 8)
    for layer in (by_name, by_module, by_function):
        layer.eval()
    expected = by_name(x).numpy()
    for layer in (by_module, by_function):
        np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6)
    by_name.train()
    assert np.abs(by_name(x).numpy() - expected).max() > 1e-3       # dropout in training


def test_generate_square_subsequent_mask():
    mask = nn.Transformer.generate_square_subsequent_mask(3).numpy()
    assert mask.dtype == np.float32
    np.testing.assert_array_equal(mask, [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]])


def test_encoder_detects_a_causal_mask():
    minidl.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2)
    calls = []
    encoder.layers[0].register_forward_hook(lambda m, args, out: calls.append(out))
    x = minidl.randn(4, 2, 8)
    causal = nn.Transformer.generate_square_subsequent_mask(4)
    detected = encoder(x, mask=causal)
    told = encoder(x, mask=causal, is_causal=False)
    as_bool = encoder(x, mask=~np.tri(4, dtype=bool))
    for other in (told, as_bool):
        np.testing.assert_allclose(detected.numpy(), other.numpy(), rtol=1e-5, atol=1e-6)
    assert len(calls) == 3
    assert nn.transformer._is_causal_mask(causal, 4)
    assert not nn.transformer._is_causal_mask(causal, 3)
    assert not nn.transformer._is_causal_mask(np.zeros((4, 4)), 4)


def test_rms_norm_and_group_norm_defaults():
    norm = nn.RMSNorm([2, 3])
    assert norm.eps is None and norm.weight.shape == (2, 3) and norm.weight.numpy().all()
    x = minidl.randn(4, 2, 3, dtype=np.float64)
    y = norm.double()(x).numpy()
    rms = np.sqrt((x.numpy() ** 2).mean(axis=(1, 2), keepdims=True) + np.finfo(np.float64).eps)
    np.testing.assert_allclose(y, x.numpy() / rms)
    group = nn.GroupNorm(2, 4)
    assert dict(group.state_dict()).keys() == {"weight", "bias"}
    assert nn.GroupNorm(2, 4, affine=False).weight is None


@pytest.mark.skipif(not HAS_TORCH, reason="needs torch")
@pytest.mark.parametrize("batch_first", [False, True])
def test_state_dict_round_trips_with_torch(batch_first):
    import torch
    torch.manual_seed(0)
    settings = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "dropout": 0.0,
                "batch_first": batch_first}
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(**settings), 2, nn.LayerNorm(8))
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**settings), 2,
                                         torch.nn.LayerNorm(8), enable_nested_tensor=False)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3, 8)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(minidl.Tensor(x)).numpy(), expected, rtol=1e-4, atol=1e-5)
    torch.manual_seed(1)
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**settings), 2,
                                         torch.nn.LayerNorm(8), enable_nested_tensor=False)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    with torch.no_grad():
        expected = theirs(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours(minidl.Tensor(x)).numpy(), expected, rtol=1e-4, atol=1e-5)
    for ours_norm, theirs_norm in ((nn.RMSNorm(5), torch.nn.RMSNorm(5)),
                                   (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4))):
        assert list(ours_norm.state_dict()) == list(theirs_norm.state_dict())
