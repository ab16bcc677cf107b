"""Weight-normalised, spectrally normalised and orthogonal layers on the digits, as
GAN and WaveNet tutorials write them: parametrizations.weight_norm on a convolution,
parametrizations.spectral_norm and the old nn.utils.spectral_norm on linear layers,
an orthogonal square layer, a hand-written parametrization with register_parametrization,
and remove_parametrizations before testing.

A plain PyTorch script (tests/test_pytorch_scripts.py runs it with its imports
rewritten to minidl). Prints its final metric on the last line.
"""
import torch
import torch.nn.utils.parametrize as parametrize
from sklearn.datasets import load_digits
from torch import nn
from torch.nn.utils import parametrizations

X, y = load_digits(return_X_y=True)
X = torch.tensor(X / 16.0, dtype=torch.float32).reshape(-1, 1, 8, 8)
y = torch.tensor(y, dtype=torch.int64)
X_train, y_train, X_test, y_test = X[:1400], y[:1400], X[1400:], y[1400:]


class Positive(nn.Module):
    """A parametrization: the tensor is exp of what is stored."""

    def forward(self, X):
        return torch.exp(X)

    def right_inverse(self, A):
        return torch.log(A)


torch.manual_seed(0)
conv = parametrizations.weight_norm(nn.Conv2d(1, 8, 3, padding=1))
hidden = parametrizations.spectral_norm(nn.Linear(8 * 4 * 4, 64))
square = parametrizations.orthogonal(nn.Linear(64, 64))
head = nn.utils.spectral_norm(nn.Linear(64, 10))
scale = nn.Linear(1, 1, bias=False)
with torch.no_grad():
    scale.weight.fill_(4.0)
parametrize.register_parametrization(scale, "weight", Positive())
model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), hidden, nn.ReLU(),
                      square, nn.Tanh(), head)
optimizer = torch.optim.Adam(list(model.parameters()) + list(scale.parameters()), lr=0.01)
loss_fn = nn.CrossEntropyLoss()


def logits(inputs):
    return model(inputs) * scale.weight


for epoch in range(15):
    model.train()
    order = torch.randperm(len(y_train))
    for start in range(0, len(order), 64):
        batch = order[start:start + 64]
        loss = loss_fn(logits(X_train[batch]), y_train[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

model.eval()
with torch.no_grad():
    before = logits(X_test)
parametrize.remove_parametrizations(square, "weight")
parametrize.remove_parametrizations(scale, "weight")
with torch.no_grad():
    after = logits(X_test)
    assert torch.allclose(before, after, atol=1e-4), "removing a parametrization moved the outputs"
    sigma = torch.linalg.matrix_norm(hidden.weight, ord=2).item()
    print(f"spectral norm of the hidden weight: {sigma:.4f}")
    accuracy = (after.argmax(1) == y_test).float().mean().item()
print(f"accuracy: {accuracy:.4f}")
