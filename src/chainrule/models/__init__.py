"""The deck's models: perceptron, the hand-wired XOR net, MLP, GLMs, basis-function models."""
from .basis import FourierFeatures, PolynomialFeatures, RBF, basis_model, fit_universal_approximator
from .glm import GLM
from .mlp import MLP
from .perceptron import ConvergenceWarning, Perceptron
from .xor import xor_network
from .lenet import LeNet5
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet20, resnet32, resnet56
