# nn.Transformer learns to reverse a sequence of digits: PyTorch's "language translation
# with nn.Transformer" tutorial in miniature (token embeddings with a sinusoidal positional
# encoding, an encoder-decoder Transformer, the causal target mask, teacher forcing), then
# a greedy decode of held-out sequences. Prints the share of digits decoded right.
import math

import torch
import torch.nn as nn

torch.manual_seed(0)
DIGITS, LENGTH, BOS = 10, 6, 10
VOCAB = DIGITS + 1


def batch(size):
    source = torch.randint(0, DIGITS, (size, LENGTH))
    target = torch.flip(source, dims=[1])
    start = torch.full((size, 1), BOS, dtype=torch.long)
    return source, torch.cat([start, target], dim=1)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=16):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[: x.size(1)]


class Reverser(nn.Module):
    def __init__(self, d_model=32):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d_model)
        self.position = PositionalEncoding(d_model)
        self.transformer = nn.Transformer(d_model, nhead=4, num_encoder_layers=1,
                                          num_decoder_layers=1, dim_feedforward=64,
                                          dropout=0.0, batch_first=True)
        self.out = nn.Linear(d_model, VOCAB)
        self.scale = math.sqrt(d_model)

    def forward(self, source, target):
        mask = nn.Transformer.generate_square_subsequent_mask(target.size(1))
        h = self.transformer(self.position(self.embed(source) * self.scale),
                             self.position(self.embed(target) * self.scale), tgt_mask=mask)
        return self.out(h)


model = Reverser()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
loss_fn = nn.CrossEntropyLoss()
for step in range(800):
    source, target = batch(64)
    logits = model(source, target[:, :-1])
    loss = loss_fn(logits.reshape(-1, VOCAB), target[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

model.eval()
with torch.no_grad():
    source, target = batch(200)
    decoded = target[:, :1]
    for _ in range(LENGTH):
        next_digit = model(source, decoded)[:, -1].argmax(dim=-1, keepdim=True)
        decoded = torch.cat([decoded, next_digit], dim=1)
    accuracy = (decoded[:, 1:] == target[:, 1:]).float().mean().item()
print(f"reversed digits right: {accuracy:.4f}")
