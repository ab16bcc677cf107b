"""PyTorch's tutorial "Sequence Models and Long Short-Term Memory Networks": an LSTM
part-of-speech tagger over word embeddings, trained with SGD on two sentences."""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(1)

lstm = nn.LSTM(3, 3)                                 # feeding a sequence one step at a time
inputs = [torch.randn(1, 3) for _ in range(5)]       # equals feeding it whole
hidden = (torch.randn(1, 1, 3), torch.randn(1, 1, 3))
start = hidden
for i in inputs:
    out, hidden = lstm(i.view(1, 1, -1), hidden)
whole, whole_hidden = lstm(torch.cat(inputs).view(len(inputs), 1, -1), start)
assert torch.allclose(whole[-1], out[0], atol=1e-6)
assert torch.allclose(whole_hidden[1], hidden[1], atol=1e-6)


def prepare_sequence(seq, to_ix):
    idxs = [to_ix[w] for w in seq]
    return torch.tensor(idxs, dtype=torch.long)


training_data = [
    ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
    ("Everybody read that book".split(), ["NN", "V", "DET", "NN"]),
]
word_to_ix = {}
for sent, tags in training_data:
    for word in sent:
        if word not in word_to_ix:
            word_to_ix[word] = len(word_to_ix)
tag_to_ix = {"DET": 0, "NN": 1, "V": 2}

EMBEDDING_DIM = 6
HIDDEN_DIM = 6


class LSTMTagger(nn.Module):

    def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
        super(LSTMTagger, self).__init__()
        self.hidden_dim = hidden_dim
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):
        embeds = self.word_embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
        tag_scores = F.log_softmax(tag_space, dim=1)
        return tag_scores


model = LSTMTagger(EMBEDDING_DIM, HIDDEN_DIM, len(word_to_ix), len(tag_to_ix))
loss_function = nn.NLLLoss()
optimizer = optim.SGD(model.parameters(), lr=0.1)

for epoch in range(300):
    for sentence, tags in training_data:
        model.zero_grad()
        sentence_in = prepare_sequence(sentence, word_to_ix)
        targets = prepare_sequence(tags, tag_to_ix)
        tag_scores = model(sentence_in)
        loss = loss_function(tag_scores, targets)
        loss.backward()
        optimizer.step()

with torch.no_grad():
    right = total = 0
    for sentence, tags in training_data:
        predicted = model(prepare_sequence(sentence, word_to_ix)).argmax(dim=1)
        right += (predicted == prepare_sequence(tags, tag_to_ix)).sum().item()
        total += len(tags)
print(f"accuracy: {right / total}")
