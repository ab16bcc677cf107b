"""PyTorch's quickstart loop on flattened digits: train/test functions, model.train()
and model.eval(), CrossEntropyLoss, SGD with momentum, the dataset's length.

A plain PyTorch script (tests/test_pytorch_scripts.py runs it with its imports
rewritten to minidl). Prints its final metric on the last line.
"""
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.utils.data import DataLoader, Dataset


class Digits(Dataset):
    def __init__(self, train):
        X, y = load_digits(return_X_y=True)
        rows = slice(0, 1400) if train else slice(1400, None)
        self.X, self.y = X[rows] / 16.0, y[rows]

    def __len__(self):
        return len(self.y)

    def __getitem__(self, idx):
        return torch.tensor(self.X[idx], dtype=torch.float32), int(self.y[idx])


torch.manual_seed(0)
train_dataloader = DataLoader(Digits(train=True), batch_size=32, shuffle=True)
test_dataloader = DataLoader(Digits(train=False), batch_size=64)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


model = NeuralNetwork()
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def train_loop(dataloader, model, loss_fn, optimizer):
    model.train()
    for X, y in dataloader:
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size, num_batches = len(dataloader.dataset), len(dataloader)
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    return test_loss / num_batches, correct / size


for t in range(10):
    train_loop(train_dataloader, model, loss_fn, optimizer)
loss, accuracy = test_loop(test_dataloader, model, loss_fn)
print(f"test loss: {loss:.4f}")
print(f"test accuracy: {accuracy:.4f}")
