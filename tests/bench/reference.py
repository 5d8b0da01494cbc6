#!/usr/bin/python3
"""Python PyTorch reference for Cattery's benchmarks: the same generator and BEGAN step, eager mode.

Reads the generator weights and latents that cattery-bench wrote, renders the grid (writing its
pixels so the bench can check both did the same work) and times a BEGAN training step. Prints JSON.
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SLOPE = 0.2


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, bn):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=not bn)
        self.norm = nn.BatchNorm2d(cout) if bn else None

    def forward(self, x):
        x = self.conv(x)
        if self.norm is not None:
            x = self.norm(x)
        return F.leaky_relu(x, SLOPE)


def up_stages(stages, h, skip):
    for i, stage in enumerate(stages):
        h = stage(h)
        h = torch.cat([h, skip], 1)
        if i + 1 < len(stages):
            h = F.interpolate(h, scale_factor=2.0, mode="nearest")
            skip = F.interpolate(skip, scale_factor=2.0, mode="nearest")
    return h


class Generator(nn.Module):
    def __init__(self, size, latent, nf, repeats):
        super().__init__()
        self.base = size // 8
        widths = [8 * nf, 4 * nf, 2 * nf, nf]
        self.width0 = widths[0]
        self.fc = nn.Linear(latent, widths[0] * self.base * self.base, bias=False)
        self.fc_norm = nn.BatchNorm2d(widths[0])
        self.z_map = nn.Linear(latent, self.base * self.base)
        cin = widths[0]
        self.stages = []
        for s, w in enumerate(widths):
            stage = nn.Sequential(*[ConvBlock(cin if r == 0 else w, w, True) for r in range(repeats)])
            setattr(self, f"stage{s}", stage)  # the same names as the C++ modules
            self.stages.append(stage)
            cin = w + 1
        self.out = nn.Conv2d(cin, 3, 3, padding=1)

    def forward(self, z):
        n = z.shape[0]
        h = F.leaky_relu(self.fc_norm(self.fc(z).view(n, self.width0, self.base, self.base)), SLOPE)
        skip = self.z_map(z).view(n, 1, self.base, self.base)
        return torch.tanh(self.out(up_stages(self.stages, h, skip)))


class Discriminator(nn.Module):
    def __init__(self, size, ndf, bottleneck, repeats):
        super().__init__()
        self.base, self.ndf = size // 8, ndf
        self.inp = ConvBlock(3, ndf, False)
        self.down = nn.ModuleList(
            [nn.Sequential(*[ConvBlock(ndf, ndf, False) for _ in range(repeats)]) for _ in range(4)])
        self.up = nn.ModuleList([
            nn.Sequential(*[ConvBlock(ndf + 1 if r == 0 and s > 0 else ndf, ndf, False)
                            for r in range(repeats)]) for s in range(4)])
        self.encode_fc = nn.Linear(ndf * self.base * self.base, bottleneck)
        self.decode_fc = nn.Linear(bottleneck, ndf * self.base * self.base)
        self.code_map = nn.Linear(bottleneck, self.base * self.base)
        self.out = nn.Conv2d(ndf + 1, 3, 3, padding=1)

    def forward(self, x):
        n = x.shape[0]
        h = self.inp(x)
        for s, stage in enumerate(self.down):
            h = stage(h)
            if s < 3:
                h = F.avg_pool2d(h, 2)
        code = self.encode_fc(h.flatten(1))
        h = self.decode_fc(code).view(n, self.ndf, self.base, self.base)
        skip = self.code_map(code).view(n, 1, self.base, self.base)
        return self.out(up_stages(self.up, h, skip))


def load_weights(model, folder):
    with open(os.path.join(folder, "weights.json")) as f:
        index = json.load(f)
    raw = np.fromfile(os.path.join(folder, "weights.bin"), dtype=np.float32)
    state = {name: torch.from_numpy(raw[o:o + int(np.prod(shape))].reshape(shape).copy())
             for name, (o, shape) in index.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"weights do not match: missing {missing}, unexpected {unexpected}")


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def median_ms(fn, repeats, device):
    fn()
    sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--latent", type=int, default=100)
    p.add_argument("--nf", type=int, default=16)
    p.add_argument("--ndf", type=int, default=32)
    p.add_argument("--bottleneck", type=int, default=64)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--repeats-timing", type=int, default=20)
    p.add_argument("--train-steps", type=int, default=20)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--compile", action="store_true", help="also time torch.compile (PyTorch 2)")
    a = p.parse_args()
    torch.set_num_threads(os.cpu_count())
    device = torch.device(a.device)

    g = Generator(a.size, a.latent, a.nf, a.repeats)
    load_weights(g, a.dir)
    g.eval().to(device)
    z = torch.from_numpy(np.fromfile(os.path.join(a.dir, "latents.bin"), dtype=np.float32))
    z = z.view(-1, a.latent).to(device)
    result = {}
    with torch.inference_mode():
        images = g(z)
        pixels = images.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).cpu()
        pixels.numpy().tofile(os.path.join(a.dir, "python-pixels.bin"))
        result["grid_ms"] = median_ms(lambda: g(z), a.repeats_timing, device)
        if a.compile:
            compiled = torch.compile(g)
            compiled(z)
            result["grid_ms_compiled"] = median_ms(lambda: compiled(z), a.repeats_timing, device)

    # A BEGAN step as a Python script usually writes it: the simultaneous update, with D's and G's
    # gradients asked of autograd separately (which goes back through D's fake half twice; the C++
    # trainer takes every gradient in one pass per half, see RESULTS.md).
    torch.manual_seed(1)
    g = Generator(a.size, a.latent, a.nf, a.repeats).to(device)
    d = Discriminator(a.size, a.ndf, a.bottleneck, a.repeats).to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.5, 0.999))
    data = (torch.rand(256, 3, a.size, a.size) * 2 - 1).to(device)
    k = 0.0

    def step():
        nonlocal k
        x = data[torch.randint(0, data.shape[0], (a.batch,), device=device)]
        zz = torch.randn(a.batch, a.latent, device=device)
        fake = g(zz)
        recon = d(torch.cat([x, fake], 0))
        loss_real = (recon[:a.batch] - x).abs().mean()
        loss_fake = (recon[a.batch:] - fake).abs().mean()
        loss_d = loss_real - k * loss_fake
        grads_d = torch.autograd.grad(loss_d, list(d.parameters()), retain_graph=True)
        grads_g = torch.autograd.grad(loss_fake, list(g.parameters()))
        for p_, gr in zip(d.parameters(), grads_d):
            p_.grad = gr
        for p_, gr in zip(g.parameters(), grads_g):
            p_.grad = gr
        opt_d.step()
        opt_g.step()
        k = min(max(k + 0.01 * (0.7 * loss_real.item() - loss_fake.item()), 0.0), 1.0)

    for _ in range(3):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(a.train_steps):
        step()
    sync(device)
    seconds = time.perf_counter() - start
    result.update({"train_images_per_s": a.train_steps * a.batch / seconds,
                   "threads": torch.get_num_threads(), "torch": torch.__version__,
                   "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu"})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
