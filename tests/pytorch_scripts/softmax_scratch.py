"""d2l's softmax regression from scratch on the digits: torch.normal weights,
hand-written softmax and cross-entropy, and minibatch SGD written as
``with torch.no_grad(): param -= lr * param.grad / batch_size; param.grad.zero_()``.

A plain PyTorch script (tests/test_pytorch_scripts.py runs it with its imports
rewritten to minidl). Prints its final metric on the last line.
"""
import torch
from sklearn.datasets import load_digits
from torch.utils import data

X_all, y_all = load_digits(return_X_y=True)
features = torch.tensor(X_all / 16.0, dtype=torch.float32)
labels = torch.tensor(y_all)
train_iter = data.DataLoader(data.TensorDataset(features[:1400], labels[:1400]), 64,
                             shuffle=True, generator=torch.Generator().manual_seed(0))
test_iter = data.DataLoader(data.TensorDataset(features[1400:], labels[1400:]), 256)

torch.manual_seed(0)
num_inputs, num_outputs = 64, 10
W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)


def softmax(X):
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum(1, keepdim=True)


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def accuracy(y_hat, y):
    return float((y_hat.argmax(axis=1).type(y.dtype) == y).type(y.dtype).sum())


lr = 0.5
for epoch in range(10):
    for X, y in train_iter:
        l = cross_entropy(net(X), y)
        l.sum().backward()
        sgd([W, b], lr, X.shape[0])

with torch.no_grad():
    correct = sum(accuracy(net(X), y) for X, y in test_iter)
print(f"test accuracy: {correct / 397:.4f}")
