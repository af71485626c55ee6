# Char-RNN name generation (the NLP-from-scratch tutorials): one-hot letter tensors built by
# indexing, a hand-written RNN cell with torch.cat and LogSoftmax, manual SGD on .data, sampling
# with topk and with multinomial at a temperature, nn.RNN classification of the last step
import random
import string
import torch
import torch.nn as nn

all_letters = string.ascii_letters + " .,;'-"
n_letters = len(all_letters) + 1
random.seed(1)
torch.manual_seed(1)
categories = ["Alpha", "Beta"]
names = {"Alpha": ["anna", "abel", "aron", "alba"], "Beta": ["bert", "bela", "boris", "bo"]}


def categoryTensor(category):
    li = categories.index(category)
    tensor = torch.zeros(1, len(categories))
    tensor[0][li] = 1
    return tensor


def inputTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li in range(len(line)):
        letter = line[li]
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor


def targetTensor(line):
    letter_indexes = [all_letters.find(line[li]) for li in range(1, len(line))]
    letter_indexes.append(n_letters - 1)
    return torch.LongTensor(letter_indexes)


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(len(categories) + input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(len(categories) + input_size + hidden_size, output_size)
        self.o2o = nn.Linear(hidden_size + output_size, output_size)
        self.dropout = nn.Dropout(0.1)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, category, input, hidden):
        input_combined = torch.cat((category, input, hidden), 1)
        hidden = self.i2h(input_combined)
        output = self.i2o(input_combined)
        output_combined = torch.cat((hidden, output), 1)
        output = self.o2o(output_combined)
        output = self.dropout(output)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


rnn = RNN(n_letters, 32, n_letters)
criterion = nn.NLLLoss()
learning_rate = 0.0005


def train(category_tensor, input_line_tensor, target_line_tensor):
    target_line_tensor.unsqueeze_(-1)
    hidden = rnn.initHidden()
    rnn.zero_grad()
    loss = torch.Tensor([0])
    for i in range(input_line_tensor.size(0)):
        output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
        l = criterion(output, target_line_tensor[i])
        loss += l
    loss.backward()
    for p in rnn.parameters():
        p.data.add_(p.grad.data, alpha=-learning_rate)
    return output, loss.item() / input_line_tensor.size(0)


total = 0
for it in range(1, 41):
    category = random.choice(categories)
    line = random.choice(names[category])
    output, loss = train(categoryTensor(category), inputTensor(line), targetTensor(line))
    total += loss
    if it % 20 == 0:
        print(it, category, line, f"{total / 20:.4f}")
        total = 0


def sample(category, start_letter="a", temperature=None):
    with torch.no_grad():
        category_tensor = categoryTensor(category)
        input = inputTensor(start_letter)
        hidden = rnn.initHidden()
        output_name = start_letter
        for i in range(6):
            output, hidden = rnn(category_tensor, input[0], hidden)
            if temperature is None:
                topv, topi = output.topk(1)
                topi = topi[0][0]
            else:
                topi = torch.multinomial(output.div(temperature).exp(), 1)[0][0]
            if topi == n_letters - 1:
                break
            letter = all_letters[topi]
            output_name += letter
            input = inputTensor(letter)
        return output_name


rnn.eval()
print(sample("Alpha", "a"), sample("Beta", "b", temperature=0.8), sample("Beta", "z", temperature=1.5))
cls = nn.RNN(n_letters, 8)
out, h = cls(inputTensor("bela"))
print(out.shape, h.shape, torch.equal(out[-1], h[0]), f"{h.abs().sum().item():.5f}")
