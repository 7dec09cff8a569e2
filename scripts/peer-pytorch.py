#!/usr/bin/env python3
"""The PyTorch peer of `galore bench`: the same LLaMA-style model (presets of
trainer/.../presets/models.yaml: RMSNorm, RoPE attention, SwiGLU, untied head), full-rank AdamW,
trained on random tokens for a few steps on the CPU, fp32 and under torch.autocast("cpu", bf16).
Prints each timed step and the median tokens/s per compute mode.

    scripts/peer-pytorch.py [--model 60m] [--batch 8] [--seq 256] [--steps 5] [--warmup 1]
                            [--threads N] [--compute fp32,bf16]

Needs a PyTorch for the CPU (any version with torch.autocast on the CPU); without one it says so
and exits with code 2.
"""
import argparse
import math
import statistics
import sys
import time

PRESETS = {  # hidden, layers, heads, intermediate, vocab, seq_len (as models.yaml)
    "60m": (512, 8, 8, 1376, 32000, 256),
    "130m": (768, 12, 12, 2048, 32000, 256),
    "350m": (1024, 24, 16, 2736, 32000, 256),
}


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="60m", choices=sorted(PRESETS))
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=None)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    p.add_argument("--compute", default="fp32,bf16")
    a = p.parse_args()
    modes = a.compute.split(",")
    if a.batch < 1 or a.steps < 1 or a.warmup < 0 or a.threads < 0 or (a.seq is not None and a.seq < 1):
        sys.exit("peer-pytorch: error: --batch, --steps and --seq must be >= 1, --warmup and --threads >= 0")
    if any(m not in ("fp32", "bf16") for m in modes):
        sys.exit("peer-pytorch: error: --compute takes fp32 and/or bf16, got " + a.compute)
    return a, modes


def build(torch, hidden, layers, heads, inter, vocab):
    nn = torch.nn
    F = torch.nn.functional

    class RMSNorm(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(n))

        def forward(self, x):
            x32 = x.float()
            return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + 1e-6)).type_as(x) * self.weight

    def rope(x, cos, sin):
        x1, x2 = x[..., ::2], x[..., 1::2]
        return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.n1, self.n2 = RMSNorm(hidden), RMSNorm(hidden)
            self.q, self.k, self.v, self.o = (nn.Linear(hidden, hidden, bias=False) for _ in range(4))
            self.gate, self.up = nn.Linear(hidden, inter, bias=False), nn.Linear(hidden, inter, bias=False)
            self.down = nn.Linear(inter, hidden, bias=False)

        def forward(self, x, cos, sin, mask):
            b, t, _ = x.shape
            h = self.n1(x)
            q, k, v = (m(h).view(b, t, heads, -1).transpose(1, 2) for m in (self.q, self.k, self.v))
            q, k = rope(q, cos, sin), rope(k, cos, sin)
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
            att = F.softmax(scores.float().masked_fill(mask, float("-inf")), dim=-1).type_as(v)
            x = x + self.o((att @ v).transpose(1, 2).reshape(b, t, hidden))
            h = self.n2(x)
            return x + self.down(F.silu(self.gate(h)) * self.up(h))

    class Llama(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, hidden)
            self.blocks = nn.ModuleList(Block() for _ in range(layers))
            self.norm = RMSNorm(hidden)
            self.head = nn.Linear(hidden, vocab, bias=False)

        def forward(self, tokens):
            t = tokens.shape[1]
            d = hidden // heads
            inv = 1.0 / (10000.0 ** (torch.arange(0, d, 2).float() / d))
            ang = torch.arange(t).float()[:, None] * inv[None, :]
            cos, sin = ang.cos(), ang.sin()
            mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
            x = self.embed(tokens)
            for blk in self.blocks:
                x = blk(x, cos, sin, mask)
            return self.head(self.norm(x))

    return Llama()


def main():
    a, modes = parse()
    try:
        import torch
    except ImportError:
        print("peer-pytorch: error: no PyTorch in this Python (" + sys.executable + ")", file=sys.stderr)
        sys.exit(2)
    if a.threads:
        torch.set_num_threads(a.threads)
    hidden, layers, heads, inter, vocab, seq = PRESETS[a.model]
    seq = a.seq or seq
    tokens = a.batch * seq
    print(f"peer-pytorch: torch {torch.__version__}, {torch.get_num_threads()} threads; model {a.model}"
          f" (hidden {hidden}, {layers} layers, intermediate {inter}, vocab {vocab}); {tokens} tokens per step"
          f" (batch {a.batch} x seq {seq}); AdamW; {a.warmup} warm-up + {a.steps} timed steps")
    F = torch.nn.functional
    for mode in modes:
        torch.manual_seed(0)
        model = build(torch, hidden, layers, heads, inter, vocab)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
        data = torch.randint(0, vocab, (a.batch, seq + 1))
        times = []
        for step in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=(mode == "bf16")):
                logits = model(data[:, :-1])
            loss = F.cross_entropy(logits.float().reshape(-1, vocab), data[:, 1:].reshape(-1))
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            dt = time.perf_counter() - t0
            if step >= a.warmup:
                times.append(dt)
                print(f"{mode} step {step - a.warmup + 1}: {dt:.3f} s, {tokens / dt:.0f} tokens/s, loss {loss.item():.4f}")
        med = statistics.median(times)
        print(f"{mode}: median step {med:.3f} s, {tokens / med:.0f} tokens/s")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
