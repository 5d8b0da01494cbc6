#pragma once

#include <torch/torch.h>

#include "ui/latentmath.h"

// The window's latents as core's tensors and back: for the .cpp files that call core with them
// (no header moc reads includes this one).
namespace cattery::ui {

torch::Tensor toTensor(const Latent& z);
// Rows of one length `dim`, as an N x dim tensor.
torch::Tensor toTensor(const QVector<Latent>& rows, int dim);
Latent fromTensor(const torch::Tensor& t);
// Each row of an N x dim tensor.
QVector<Latent> rows(const torch::Tensor& t);

}  // namespace cattery::ui
