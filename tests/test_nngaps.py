"""The nn modules and functions a PyTorch script reaches for beyond the basics: how the
random ones draw (tests/test_nngaps_torch.py checks their values against torch given the
same draw), the containers and nn.Buffer with optimizers and state_dicts, the in-place
aliases, the Transformer's options, and PyTorch's exception types for bad input.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import minidl
import minidl.nn as nn
import minidl.nn.functional as F


# -- channel and alpha dropout -------------------------------------------------------------------
@pytest.mark.parametrize("function, shape", [(F.dropout1d, (40, 30, 5)),
                                             (F.dropout2d, (40, 30, 2, 3)),
                                             (F.dropout3d, (40, 30, 2, 2, 2))])
def test_channel_dropout_zeros_whole_channels(function, shape):
    minidl.manual_seed(0)
    x = minidl.ones(*shape)
    y = function(x, p=0.25).numpy()
    per_channel = y.reshape(shape[0], shape[1], -1)
    assert np.all(per_channel == per_channel[..., :1])          # one bit per channel
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((per_channel[..., 0] == 0).mean() - 0.25) < 0.05  # 1200 channels
    minidl.manual_seed(0)
    np.testing.assert_array_equal(function(x, p=0.25).numpy(), y)   # the global generator


def test_channel_dropout_gradient_is_the_mask():
    minidl.manual_seed(1)
    x = minidl.randn(4, 6, 3, requires_grad=True)
    y = F.dropout1d(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(np.asarray(x.grad), np.where(y.numpy() != 0, 2.0, 0.0))


def test_unbatched_channel_dropout():
    minidl.manual_seed(2)
    y = F.dropout1d(minidl.ones(50, 4), 0.5).numpy()
    assert np.all(y == y[:, :1]) and 0 < (y[:, 0] == 0).sum() < 50
    y = F.dropout3d(minidl.ones(50, 2, 2, 2), 0.5).numpy().reshape(50, -1)
    assert np.all(y == y[:, :1]) and 0 < (y[:, 0] == 0).sum() < 50


def test_dropout_modules_train_eval_and_inplace():
    x = minidl.randn(3, 4, 5, 5)
    for module, ndim in ((nn.Dropout1d(0.3), 3), (nn.Dropout2d(0.3), 4), (nn.Dropout3d(0.3), 5),
                         (nn.AlphaDropout(), 4), (nn.FeatureAlphaDropout(0.2), 4)):
        inputs = minidl.randn(*(3, 4, 5, 5, 5)[:ndim])
        assert module.eval()(inputs) is inputs
    minidl.manual_seed(3)
    expected = F.dropout2d(x, 0.4).numpy()
    minidl.manual_seed(3)
    copy = x.clone()
    assert nn.Dropout2d(0.4, inplace=True)(copy) is copy
    np.testing.assert_array_equal(copy.numpy(), expected)
    assert repr(nn.Dropout2d(0.3)) == "Dropout2d(p=0.3, inplace=False)"
    assert repr(nn.AlphaDropout(0.2)) == "AlphaDropout(p=0.2, inplace=False)"
    np.testing.assert_array_equal(F.dropout2d(x, 1.0).numpy(), np.zeros(x.shape))
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, True).numpy(), np.zeros(x.shape))


def test_alpha_dropout_keeps_zero_mean_and_unit_variance():
    minidl.manual_seed(4)
    x = minidl.randn(200_000)
    for function in (F.alpha_dropout, F.feature_alpha_dropout):
        y = function(x.reshape(2000, 100) if function is F.feature_alpha_dropout else x,
                     0.3, True).numpy()
        assert abs(y.mean()) < 0.03 and abs(y.std() - 1) < 0.03
    assert F.alpha_dropout(x, 0.3) is x            # training=False by default, as PyTorch


def test_dropout2d_warns_about_3d_input_as_pytorch():
    with pytest.warns(UserWarning, match="dropout1d"):
        F.dropout2d(minidl.ones(2, 3, 4), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(minidl.ones(2, 3, 4, 4), 0.5)


@pytest.mark.parametrize("call, error, match", [
    (lambda: F.dropout1d(minidl.ones(5), 0.5), RuntimeError, "dropout1d.*2D or 3D.*1D"),
    (lambda: F.dropout3d(minidl.ones(2, 3, 4), 0.5), RuntimeError, "dropout3d.*4D or 5D"),
    (lambda: F.feature_alpha_dropout(minidl.ones(5), 0.5, True), RuntimeError,
     "at least 2 dimensions"),
    (lambda: F.dropout1d(minidl.ones(2, 3), 1.5), ValueError, "p=1.5"),
    (lambda: nn.Dropout2d(-0.1), ValueError, "p=-0.1"),
    (lambda: nn.AlphaDropout("a"), ValueError, "p='a'"),
])
def test_dropout_refuses(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- gumbel_softmax ---------------------------------------------------------------------------
def test_gumbel_softmax_samples_the_softmax_distribution():
    minidl.manual_seed(5)
    logits = minidl.tensor(np.log([[0.1, 0.2, 0.7]] * 20_000), dtype=np.float32)
    soft = F.gumbel_softmax(logits, tau=0.5).numpy()
    np.testing.assert_allclose(soft.sum(axis=1), 1, rtol=1e-5)
    hard = F.gumbel_softmax(logits, hard=True).numpy()
    assert set(np.unique(hard)) == {0.0, 1.0} and np.all(hard.sum(axis=1) == 1)
    np.testing.assert_allclose(hard.mean(axis=0), [0.1, 0.2, 0.7], atol=0.015)
    minidl.manual_seed(5)
    np.testing.assert_array_equal(F.gumbel_softmax(logits, tau=0.5).numpy(), soft)


def test_hard_gumbel_softmax_passes_the_soft_gradient_straight_through():
    logits = minidl.randn(4, 3, requires_grad=True)
    minidl.manual_seed(6)
    F.gumbel_softmax(logits, hard=True)[:, 0].sum().backward()
    hard_grad = np.asarray(logits.grad).copy()
    logits.grad = None
    minidl.manual_seed(6)
    F.gumbel_softmax(logits)[:, 0].sum().backward()
    np.testing.assert_allclose(hard_grad, np.asarray(logits.grad), rtol=1e-6)


def test_gumbel_softmax_eps_is_deprecated():
    with pytest.warns(UserWarning, match="eps"):
        F.gumbel_softmax(minidl.randn(2, 3), eps=1e-5)


# -- padding, Unflatten, shuffles and pools ----------------------------------------------------
def test_padding_modules_keep_padding_as_a_tuple_and_print_as_pytorch():
    assert nn.ZeroPad2d(2).padding == (2, 2, 2, 2)
    assert nn.ConstantPad2d([1, 2, 3, 4], 1.0).padding == (1, 2, 3, 4)
    assert repr(nn.ZeroPad1d((1, 2))) == "ZeroPad1d((1, 2))"
    assert repr(nn.ConstantPad1d(2, 3.5)) == "ConstantPad1d(padding=(2, 2), value=3.5)"
    assert repr(nn.ReflectionPad2d(1)) == "ReflectionPad2d((1, 1, 1, 1))"
    assert repr(nn.CircularPad1d(1)) == "CircularPad1d((1, 1))"


@pytest.mark.parametrize("call, error, match", [
    (lambda: nn.ReflectionPad1d(1)(minidl.ones(5)), NotImplementedError, "2D or 3D"),
    (lambda: nn.ReplicationPad2d(1)(minidl.ones(2, 5)), NotImplementedError, "3D or 4D"),
    (lambda: nn.CircularPad1d(1)(minidl.ones(5)), ValueError, "2D or 3D"),
    (lambda: nn.ZeroPad2d(1)(minidl.ones(5)), ValueError, "at least 2D"),
    (lambda: nn.ReflectionPad1d(5)(minidl.ones(1, 2, 5)), ValueError, "reflect padding"),
    (lambda: nn.ZeroPad1d((1, 2, 3)), TypeError, r"padding: \(1, 2, 3\)"),
    (lambda: nn.ZeroPad2d(1.5), TypeError, "padding: 1.5"),
    (lambda: nn.Unflatten(1, 3), TypeError, "unflattened_size.*int"),
    (lambda: nn.Unflatten(1, (2, "a")), TypeError, "'a'.*pos 1"),
    (lambda: nn.Unflatten(1, (2, 4))(minidl.ones(2, 6)), RuntimeError, r"\(2, 2, 4\)"),
    (lambda: F.channel_shuffle(minidl.ones(2, 5, 3), 2), RuntimeError, "5 channels.*groups=2"),
    (lambda: F.channel_shuffle(minidl.ones(2, 4, 3), 0), RuntimeError, "groups.*0"),
    (lambda: F.channel_shuffle(minidl.ones(4), 2), RuntimeError, "> 2 dims"),
    (lambda: F.lp_pool2d(minidl.ones(1, 2, 4, 4), 0, 2), ValueError, "norm_type.*0"),
    (lambda: nn.LPPool2d(2, 0), ValueError, "kernel_size: 0"),
])
def test_layers_refuse(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_with_indices_aliases_always_return_the_indices():
    x = minidl.randn(2, 3, 6, 6)
    for values, indices in (F.max_pool2d_with_indices(x, 2),
                            F.max_pool1d_with_indices(x[:, :, 0], 2),
                            F.adaptive_max_pool2d_with_indices(x, 3),
                            F.adaptive_max_pool1d_with_indices(x[:, :, 0], 3)):
        assert indices.dtype == np.int64 and values.shape == indices.shape


# -- distances and Bilinear ---------------------------------------------------------------------
@pytest.mark.parametrize("call, error, match", [
    (lambda: F.cosine_similarity(minidl.ones(2, 3), minidl.ones(2, 4)), RuntimeError,
     r"\(2, 3\).*\(2, 4\)"),
    (lambda: F.pairwise_distance(minidl.ones(2, 3), minidl.ones(2, 4)), RuntimeError,
     "broadcast"),
    (lambda: F.pdist(minidl.ones(2, 3, 3)), RuntimeError, "2D.*3D"),
    (lambda: F.pdist(minidl.ones(3, 3), p=-1), RuntimeError, "p=-1"),
    (lambda: F.bilinear(minidl.ones(2, 3), minidl.ones(2, 4), minidl.ones(5, 3, 3)),
     RuntimeError, r"input2 of shape \(2, 4\).*must be 3"),
    (lambda: F.bilinear(minidl.ones(2, 3), minidl.ones(3, 4), minidl.ones(5, 3, 4)),
     RuntimeError, "leading"),
    (lambda: nn.Bilinear(0, 2, 3), ValueError, "in1_features: 0"),
    (lambda: nn.Bilinear(2, 2, 3, bias="no"), TypeError, "bias: 'no'"),
])
def test_distances_and_bilinear_refuse(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_pairwise_distance_of_two_scalars_is_their_distance_as_pytorchs():
    """PyTorch takes the norm over dim -1 of the 0-d difference: |x1 - x2 + eps|."""
    y = F.pairwise_distance(minidl.tensor(1.0), minidl.tensor(3.0), keepdim=True)
    assert y.shape == () and y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), 2.0 - 1e-6, rtol=1e-7)


def test_cosine_similarity_of_a_zero_vector_is_zero_with_a_finite_gradient():
    x1 = minidl.zeros(2, 3, requires_grad=True)
    x2 = minidl.randn(2, 3)
    y = F.cosine_similarity(x1, x2)
    np.testing.assert_array_equal(y.numpy(), [0, 0])
    y.sum().backward()
    assert np.all(np.isfinite(np.asarray(x1.grad)))


def test_bilinear_init_and_state_dict_keys_are_pytorchs():
    minidl.manual_seed(7)
    layer = nn.Bilinear(4, 3, 5)
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert layer.weight.shape == (5, 4, 3) and layer.bias.shape == (5,)
    for p in (layer.weight, layer.bias):                  # U(-1/2, 1/2): std 0.29
        assert np.abs(p.numpy()).max() <= 0.5
    assert 0.2 < layer.weight.numpy().std() < 0.35
    assert nn.Bilinear(4, 3, 5, bias=False).bias is None
    assert repr(layer) == "Bilinear(in1_features=4, in2_features=3, out_features=5, bias=True)"


def test_lazy_linear_is_refused_and_says_why():
    with pytest.raises(NotImplementedError, match="optimizer.*flat buffer.*Linear"):
        nn.LazyLinear(10)


# -- ParameterList, ParameterDict and Buffer -----------------------------------------------------
class WithContainers(nn.Module):
    def __init__(self):
        super().__init__()
        self.scales = nn.ParameterList([minidl.ones(3), nn.Parameter(minidl.zeros(2))])
        self.tables = nn.ParameterDict({"a": minidl.ones(2, 2)})
        self.mask = nn.Buffer(minidl.tensor([1.0, 0.0, 1.0]))
        self.scratch = nn.Buffer(minidl.zeros(3), persistent=False)

    def forward(self, x):
        return (x * self.scales[0] * self.mask).sum() + self.scales[1].sum() \
            + self.tables["a"].sum()


def test_parameter_containers_and_buffers_register_as_pytorchs():
    model = WithContainers()
    # a module's own buffers before its children's entries, as in PyTorch
    assert list(model.state_dict()) == ["mask", "scales.0", "scales.1", "tables.a"]
    assert [name for name, _ in model.named_buffers()] == ["mask", "scratch"]
    assert len(list(model.parameters())) == 3
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())
    optimizer = minidl.optim.SGD(model.parameters(), lr=0.5)      # flat buffers bind them
    model(minidl.ones(3)).backward()
    optimizer.step()
    np.testing.assert_allclose(model.scales[0].numpy(), [0.5, 1, 0.5])
    np.testing.assert_allclose(model.scales[1].numpy(), [-0.5, -0.5])
    np.testing.assert_allclose(model.tables["a"].numpy(), np.full((2, 2), 0.5))
    state = {"scales.0": np.arange(3.0), "scales.1": np.ones(2), "tables.a": np.eye(2),
             "mask": np.zeros(3)}
    model.load_state_dict(state)          # as a torch state_dict of the same model loads
    np.testing.assert_array_equal(model.scales[0].numpy(), [0, 1, 2])
    np.testing.assert_array_equal(optimizer.param_groups[0]["params"][0].numpy(), [0, 1, 2])
    np.testing.assert_array_equal(np.asarray(model.mask), np.zeros(3))


def test_parameter_list_and_dict_behave_as_a_list_and_a_dict():
    values = nn.ParameterList([minidl.ones(1)])
    values.append(minidl.ones(2))
    values += [minidl.ones(3)]
    assert [p.shape for p in values] == [(1,), (2,), (3,)] and len(values) == 3
    assert values[-1].shape == (3,) and [p.shape for p in values[1:]] == [(2,), (3,)]
    values[0] = minidl.zeros(4)
    assert isinstance(values[0], nn.Parameter) and values[0].shape == (4,)
    table = nn.ParameterDict([("w", minidl.ones(1))])
    table.update({"b": minidl.zeros(1)})
    assert table.keys() == ["w", "b"] and "w" in table and table.get("z") is None
    assert table.setdefault("c", minidl.ones(2)).shape == (2,)
    assert table.pop("w").shape == (1,) and list(table) == ["b", "c"]
    assert repr(nn.ParameterDict({"b": minidl.ones(3, 2)})) == \
        "ParameterDict(\n    (b): Parameter containing: [float32 of size 3x2]\n)"


@pytest.mark.parametrize("call, error, match", [
    (lambda: nn.ParameterList([minidl.ones(2), 3]), TypeError, "int 3"),
    (lambda: nn.ParameterList([minidl.ones(2)])[5], IndexError, "index 5"),
    (lambda: nn.ParameterList(minidl.ones(2)), TypeError, "iterable of Tensors"),
    (lambda: nn.ParameterDict({"a": minidl.ones(2)})["c"], KeyError, "'c'"),
    (lambda: nn.ParameterDict({1: minidl.ones(2)}), TypeError, "strings.*int 1"),
    (lambda: nn.ParameterDict({"a.b": minidl.ones(2)}), KeyError, "'a.b'"),
    (lambda: nn.ParameterDict({"a": "x"}), TypeError, "str 'x'"),
])
def test_parameter_containers_refuse(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_a_refused_extend_or_update_adds_nothing():
    values = nn.ParameterList([minidl.ones(1)])
    with pytest.raises(TypeError, match="str 'x'"):
        values.extend([minidl.ones(2), "x"])
    table = nn.ParameterDict({"a": minidl.ones(1)})
    with pytest.raises(KeyError, match="'c.d'"):
        table.update({"b": minidl.ones(1), "c.d": minidl.ones(1)})
    modules, layers = nn.ModuleList(), nn.ModuleDict()
    with pytest.raises(TypeError, match="int 3"):
        modules.extend([nn.ReLU(), 3])
    with pytest.raises(TypeError, match="int 3"):
        layers.update([("relu", nn.ReLU()), ("three", 3)])
    assert (len(values), table.keys(), len(modules), len(layers)) == (1, ["a"], 0, 0)


def test_a_buffer_shares_its_tensors_array():
    t = minidl.ones(3)
    buffer = nn.Buffer(t)
    assert np.shares_memory(np.asarray(buffer), np.asarray(t)) and buffer.persistent
    assert nn.Buffer().shape == (0,)


def test_a_buffer_does_not_replace_a_parameter_a_module_or_an_attribute():
    """As PyTorch's __setattr__: TypeError over a parameter or a child module, KeyError
    over a plain attribute; nothing changes."""
    model = nn.Sequential(nn.Linear(2, 2))
    layer = model[0]
    layer.note = "a plain attribute"
    for owner, name, error in ((layer, "weight", TypeError), (model, "0", TypeError),
                               (layer, "note", KeyError)):
        with pytest.raises(error, match=f"'{name}'"):
            setattr(owner, name, nn.Buffer(minidl.ones(2)))
    assert isinstance(layer.weight, nn.Parameter) and model[0] is layer
    assert layer.note == "a plain attribute" and list(layer.state_dict()) == ["weight", "bias"]


# -- the in-place functional aliases -----------------------------------------------------------
@pytest.mark.parametrize("alias, function, args", [
    (F.relu_, F.relu, ()), (F.elu_, F.elu, (0.5,)), (F.leaky_relu_, F.leaky_relu, (0.2,)),
    (F.hardtanh_, F.hardtanh, (-0.5, 0.5)), (F.selu_, F.selu, ()), (F.celu_, F.celu, (2.0,)),
    (F.threshold_, F.threshold, (0.1, -3.0)), (F.rrelu_, F.rrelu, (0.1, 0.3)),
])
def test_in_place_aliases_write_into_their_input(alias, function, args):
    x = minidl.randn(3, 4)
    expected = function(x, *args).numpy()
    version = x._version
    assert alias(x, *args) is x and x._version > version
    np.testing.assert_array_equal(x.numpy(), expected)
    leaf = minidl.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        alias(leaf, *args)
    h = leaf * 2                           # on an intermediate: recorded, differentiated
    alias(h, *args).sum().backward()
    reference = minidl.tensor(leaf.numpy(), requires_grad=True)
    function(reference * 2, *args).sum().backward()
    np.testing.assert_allclose(np.asarray(leaf.grad), np.asarray(reference.grad))


# -- the Transformer --------------------------------------------------------------------------
def test_transformer_builds_pytorchs_stacks_and_initialises_its_matrices():
    minidl.manual_seed(8)
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=3,
                           dim_feedforward=16)
    assert len(model.encoder.layers) == 2 and len(model.decoder.layers) == 3
    assert isinstance(model.encoder.norm, nn.LayerNorm)
    weight = model.decoder.layers[0].linear1.weight.numpy()        # xavier: sqrt(6 / 24)
    assert np.abs(weight).max() <= 0.5 and np.abs(weight).max() > 0.4
    assert model.decoder.layers[0] is not model.decoder.layers[1]
    out = model(minidl.randn(5, 2, 8), minidl.randn(4, 2, 8))
    assert out.shape == (4, 2, 8)
    custom = nn.Transformer(8, 2, custom_encoder=nn.Identity(), custom_decoder=model.decoder)
    assert custom.encoder.__class__ is nn.Identity and custom.decoder is model.decoder


def test_decoder_detects_a_causal_tgt_mask(monkeypatch):
    minidl.manual_seed(9)
    decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2)
    original, flags = nn.TransformerDecoderLayer.forward, []

    def spy(self, *args, **kwargs):
        flags.append(kwargs["tgt_is_causal"])
        return original(self, *args, **kwargs)
    monkeypatch.setattr(nn.TransformerDecoderLayer, "forward", spy)
    tgt, memory = minidl.randn(4, 2, 8), minidl.randn(3, 2, 8)
    causal = nn.Transformer.generate_square_subsequent_mask(4)
    detected = decoder(tgt, memory, tgt_mask=causal)
    told = decoder(tgt, memory, tgt_mask=causal, tgt_is_causal=False)
    decoder(tgt, memory, tgt_mask=minidl.zeros(4, 4))
    assert flags == [True, True, False, False, False, False]
    np.testing.assert_allclose(detected.numpy(), told.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call, error, match", [
    (lambda m: m(minidl.randn(5, 2, 8), minidl.randn(4, 3, 8)), RuntimeError, "batch number"),
    (lambda m: m(minidl.randn(5, 2, 8), minidl.randn(4, 2, 6)), RuntimeError, "d_model = 8"),
    (lambda m: m.decoder.layers[0](minidl.randn(4, 2, 8), minidl.randn(3, 2, 4)),
     RuntimeError, r"key of shape \(3, 2, 4\)"),
    (lambda m: m.decoder.layers[0](minidl.randn(4, 2, 6), minidl.randn(3, 2, 8)),
     AssertionError, "embed_dim = 8"),
    (lambda m: m.decoder.layers[0](np.zeros((4, 2, 8)), minidl.randn(3, 2, 8)), TypeError,
     "tgt must be a Tensor"),
    (lambda m: nn.TransformerDecoderLayer(8, 2, activation="tanh"), RuntimeError, "'tanh'"),
    (lambda m: nn.TransformerDecoderLayer(8, 3), AssertionError, "divisible"),
    (lambda m: nn.TransformerDecoder(m.decoder.layers[0], 0), ValueError, "num_layers: 0"),
    (lambda m: nn.TransformerDecoder("layer", 2), TypeError, "decoder_layer"),
])
def test_transformer_refuses(call, error, match):
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(error, match=match):
        call(model)


def test_encoder_takes_pytorchs_nested_tensor_flags():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False, mask_check=False)
    assert encoder(minidl.randn(3, 2, 8)).shape == (3, 2, 8)
