"""``chainrule.nn.functional``: the stateless functions behind the nn modules."""
from .activation import (elu, gelu, hardtanh, heaviside, leaky_relu, log_softmax, logsigmoid, relu,
                         sigmoid, silu, softmax, softplus, tanh)
from .dropout import alpha_dropout, dropout, feature_alpha_dropout
from .linear import bilinear, linear
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                   gaussian_nll_loss, huber_loss, kl_div, l1_loss, mse_loss, nll_loss,
                   poisson_nll_loss, smooth_l1_loss)
from .normalization import batch_norm, embedding, layer_norm
from .ctc import ctc_loss
from .conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d,
                   fold, unfold)
from .pooling_nd import (adaptive_avg_pool1d, adaptive_avg_pool3d, adaptive_max_pool1d,
                         fractional_max_pool2d, fractional_max_pool3d,
                         adaptive_max_pool3d, avg_pool1d, avg_pool3d, max_pool1d, max_pool3d,
                         lp_pool1d, lp_pool2d, lp_pool3d, max_unpool1d, max_unpool2d, max_unpool3d)
from .vision import (channel_shuffle, pixel_shuffle, pixel_unshuffle, upsample, upsample_bilinear,
                     upsample_nearest)
from .padding import pad
from .pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d
from .dropout2d import dropout1d, dropout2d, dropout3d
from .vision import interpolate
from .sparse import one_hot
from .distance import cosine_similarity, pairwise_distance, pdist
from .loss_margin import (cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss,
                          multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss,
                          soft_margin_loss, triplet_margin_loss, triplet_margin_with_distance_loss)
# the nn breadth functions (activations, norms, attention, bags of embeddings)
from .activation import (celu, celu_, elu_, glu, gumbel_softmax, hardshrink, hardsigmoid,
                         hardswish, hardtanh_, leaky_relu_, mish, prelu, relu_, relu6, rrelu, rrelu_,
                         selu, selu_, softmin, softshrink, softsign, tanhshrink, threshold,
                         threshold_)
from .normalization import group_norm, instance_norm, local_response_norm, normalize, rms_norm
from .attention import multi_head_attention_forward, scaled_dot_product_attention
from .sparse import embedding_bag
# sampling at arbitrary points (spatial transformer networks)
from .sampling_grid import affine_grid, grid_sample
from .linear_cross_entropy import linear_cross_entropy
