"""A makemore-style character MLP as a Module: nn.Embedding, a context of 3
characters, cross-entropy, minibatches drawn with torch.randint, SGD with a step decay.

A plain PyTorch script (tests/test_pytorch_scripts.py runs it with its imports
rewritten to minidl). Prints its final metric on the last line.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from words import WORDS

chars = sorted(set("".join(WORDS)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
vocab_size, block_size = len(stoi), 3


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


torch.manual_seed(42)
n = int(0.9 * len(WORDS))
Xtr, Ytr = build_dataset(WORDS[:n])
Xdev, Ydev = build_dataset(WORDS[n:])


class MLP(nn.Module):
    def __init__(self, n_embd=10, n_hidden=100):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, n_embd)
        self.hidden = nn.Linear(block_size * n_embd, n_hidden)
        self.out = nn.Linear(n_hidden, vocab_size)

    def forward(self, idx):
        emb = self.emb(idx)
        h = torch.tanh(self.hidden(emb.view(emb.shape[0], -1)))
        return self.out(h)


model = MLP()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
g = torch.Generator().manual_seed(2147483647)
for i in range(4000):
    ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
    loss = F.cross_entropy(model(Xtr[ix]), Ytr[ix])
    optimizer.zero_grad()
    loss.backward()
    for group in optimizer.param_groups:
        group["lr"] = 0.1 if i < 3000 else 0.01
    optimizer.step()

model.eval()
with torch.no_grad():
    dev_loss = F.cross_entropy(model(Xdev), Ydev).item()
print(f"dev loss: {dev_loss:.4f}")
