#!/usr/bin/env python3
"""Golden vectors of oracle/NUMERICS.md, computed by an implementation independent of the Rust crate.

Written from the spec text alone in plain Python (no numpy): binary32 arithmetic is emulated by computing each
basic operation (+ - * / sqrt) in binary64 and rounding once to binary32, which gives the correctly rounded
binary32 result for these operations (binary64 has more than 2*24 + 2 bits); the RoPE tables' binary64
functions are Python floats as they are; §7's Philox4x32-10 and sampling rule on Python integers and
the same emulated binary32. Writes crates/verity-exact/tests/data/golden.txt, which
tests/golden.rs checks the crate's reference against bit for bit:

    python3 crates/verity-exact/tools/golden.py > crates/verity-exact/tests/data/golden.txt

Line format: `kind | field | field ...`, each field space-separated hex u32 (f32 bit patterns) or decimal ints.
"""
import math
import struct


def f32(x):
    """Round a binary64 value to the nearest binary32 (ties to even); overflow gives +-inf."""
    if math.isnan(x) or math.isinf(x):
        return x
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def bits(x):
    if math.isnan(x):
        return 0x7FC00000
    return struct.unpack("<I", struct.pack("<f", x))[0]


def from_bits(b):
    return struct.unpack("<f", struct.pack("<I", b))[0]


def add(a, b):
    return f32(a + b)


def mul(a, b):
    return f32(a * b)


def div(a, b):
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return f32(a / b)


class Lcg:
    def __init__(self, seed):
        self.s = seed

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return self.s >> 33

    def uniform(self, lo, hi):
        return f32(lo + (hi - lo) * (self.next() / float(1 << 31)))


# §5.1 exp
LOG2E, LN2_HI, LN2_LO = from_bits(0x3FB8AA3B), from_bits(0x3F317200), from_bits(0x35BFBE8E)
C = [1.0, 1.0, f32(1 / 2), f32(1 / 6), f32(1 / 24), f32(1 / 120), f32(1 / 720)]


def exp(x):
    if math.isnan(x):
        return x
    if x > f32(88.72284):
        return math.inf
    if x < f32(-87.33654):
        return 0.0
    n = round(mul(x, LOG2E))  # Python's round is ties-to-even
    r = add(add(x, -mul(n, LN2_HI)), -mul(n, LN2_LO))
    p = C[6]
    for c in reversed(C[:6]):
        p = add(mul(p, r), c)
    if n == 128:
        return mul(mul(p, 2.0**127), 2.0)
    return mul(p, 2.0**n)


def silu(x):
    return div(x, add(1.0, exp(-x)))


# §5.3 sum8 / dot8
def sum8(v):
    lanes = [0.0] * 8
    for i, x in enumerate(v):
        lanes[i % 8] = add(lanes[i % 8], x)
    l = lanes
    return add(add(add(l[0], l[1]), add(l[2], l[3])), add(add(l[4], l[5]), add(l[6], l[7])))


def dot8(a, b):
    return sum8([mul(x, y) for x, y in zip(a, b)])


def rmsnorm(x, g, eps):
    r = div(1.0, f32(math.sqrt(add(div(dot8(x, x), f32(len(x))), eps))))
    return [mul(mul(v, r), w) for v, w in zip(x, g)]


def softmax(v):
    m = max(v)
    e = [exp(add(x, -m)) for x in v]
    z = sum8(e)
    return [div(x, z) for x in e]


# §3 activation quantization
def quantize(x):
    amax = 0.0
    for v in x:
        if not math.isnan(v) and abs(v) > amax:
            amax = abs(v)
    if amax == 0.0:
        return 0.0, [0] * 32, 0
    d, inv = div(amax, 127.0), div(127.0, amax)
    q = []
    for v in x:
        t = mul(v, inv)
        q.append(0 if math.isnan(t) else int(max(-127.0, min(127.0, float(round(t)) if not math.isinf(t) else t))))
    return d, q, sum(q)


# §2 / §4 weights and the block dot product
def f16(b0, b1):
    return struct.unpack("<e", bytes([b0, b1]))[0]


BLOCK_BYTES = {"q4_1": (20, 32), "q8_0": (34, 32), "q5_0": (22, 32), "q4_k": (144, 256), "q6_k": (210, 256)}


def scale_min_k4(j, q):
    if j < 4:
        return q[j] & 63, q[j + 4] & 63
    return (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4)


def blocks(ty, raw, k):
    """GGUF bytes of one row -> [(d, m, w[32])] per block of 32 (§2; w the integer weights of §4)."""
    out = []
    bb, per = BLOCK_BYTES[ty]
    for sb in range(k // per):
        blk = raw[sb * bb:(sb + 1) * bb]
        if ty == "q4_1":
            qs = blk[4:20]
            out.append((f16(blk[0], blk[1]), f16(blk[2], blk[3]),
                        [qs[i] & 15 for i in range(16)] + [qs[i] >> 4 for i in range(16)]))
        elif ty == "q8_0":
            out.append((f16(blk[0], blk[1]), 0.0, [v - 256 if v > 127 else v for v in blk[2:34]]))
        elif ty == "q5_0":
            qh = struct.unpack("<I", bytes(blk[2:6]))[0]
            qs = blk[6:22]
            lo = [qs[i] & 15 for i in range(16)] + [qs[i] >> 4 for i in range(16)]
            out.append((f16(blk[0], blk[1]), 0.0, [lo[i] + 16 * ((qh >> i) & 1) - 16 for i in range(32)]))
        elif ty == "q4_k":
            d, dmin, scales, qs = f16(blk[0], blk[1]), f16(blk[2], blk[3]), blk[4:16], blk[16:144]
            for b in range(8):
                sc, mn = scale_min_k4(b, scales)
                q = [(qs[32 * (b // 2) + l] >> (4 * (b % 2))) & 15 for l in range(32)]
                out.append((mul(d, f32(sc)), -mul(dmin, f32(mn)), q))
        else:  # q6_k
            ql, qh, scales, d = blk[:128], blk[128:192], blk[192:208], f16(blk[208], blk[209])
            for b in range(8):
                h, r = b // 4, b % 4
                q = [((ql[64 * h + 32 * (r % 2) + l] >> (4 * (r // 2))) & 15) + 16 * ((qh[32 * h + l] >> (2 * r)) & 3)
                     - 32 for l in range(32)]
                sig = [scales[2 * b + l // 16] - 256 if scales[2 * b + l // 16] > 127 else scales[2 * b + l // 16]
                       for l in range(32)]
                out.append((d, 0.0, [a * b for a, b in zip(sig, q)]))
    return out


def dot(ty, wrow, acts):
    acc = 0.0
    for (d, m, qw), (dx, qx, qsum) in zip(wrow, acts):
        s = sum(a * b for a, b in zip(qw, qx))
        u = mul(f32(s), mul(d, dx))
        t = add(u, mul(m, mul(dx, f32(qsum)))) if ty in ("q4_1", "q4_k") else u
        acc = add(acc, t)
    return acc


# §6 RoPE tables (binary64)
def ln64(x):
    m, e = math.frexp(x)  # x = m * 2^e, m in [0.5, 1)
    m, e = m * 2.0, e - 1  # [1, 2)
    if m > math.sqrt(2.0):
        m, e = m / 2.0, e + 1
    f = (m - 1.0) / (m + 1.0)
    f2 = f * f
    s = 1.0 / 23.0
    for k in reversed(range(11)):
        s = s * f2 + 1.0 / (2 * k + 1)
    return e * math.log(2.0) + 2.0 * f * s


def exp64(y):
    ln2 = math.log(2.0)
    n = round(y / ln2)
    r = y - n * ln2
    p = 1.0
    for k in reversed(range(1, 19)):
        p = 1.0 + p * r / k
    return p * 2.0**n


def sincos64(a):
    p1 = struct.unpack("<d", struct.pack("<Q", 0x3FF921FB54400000))[0]
    p2 = struct.unpack("<d", struct.pack("<Q", 0x3DD0B4611A600000))[0]
    p3 = struct.unpack("<d", struct.pack("<Q", 0x3BA3198A2E000000))[0]
    k = round(a / (math.pi / 2))
    r = ((a - k * p1) - k * p2) - k * p3
    r2 = r * r
    s = c = 1.0
    for n in reversed(range(1, 11)):
        s = 1.0 - s * r2 / ((2 * n) * (2 * n + 1))
        c = 1.0 - c * r2 / ((2 * n - 1) * (2 * n))
    s = s * r
    return [(s, c), (c, -s), (-s, -c), (-c, s)][k % 4]


# §7 decoding: Philox4x32-10 (Random123's philox4x32_R(10, ...)) and the sampling rule
PHILOX_M0, PHILOX_M1, PHILOX_W0, PHILOX_W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
U32 = (1 << 32) - 1


def philox(ctr, key):
    c, k = list(ctr), list(key)
    for rnd in range(10):
        if rnd > 0:
            k = [(k[0] + PHILOX_W0) & U32, (k[1] + PHILOX_W1) & U32]
        p0, p1 = PHILOX_M0 * c[0], PHILOX_M1 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k[0], p1 & U32, (p0 >> 32) ^ c[3] ^ k[1], p0 & U32]
    return c


def uniform(seed, stream, step):
    x0 = philox([step, stream & U32, stream >> 32, 0], [seed & U32, seed >> 32])[0]
    return (x0 >> 8) * 2.0**-24


def sample(logits, t_milli, p_milli, seed, stream, step):
    if t_milli == 0:
        return max(range(len(logits)), key=lambda i: (logits[i], -i))
    t = div(f32(t_milli), 1000.0)
    p = softmax([div(x, t) for x in logits])
    order = sorted(range(len(p)), key=lambda i: (-p[i], i))
    top_p = div(f32(p_milli), 1000.0)
    c, cum = 0.0, []
    for i in order:
        c = add(c, p[i])
        cum.append(c)
        if c >= top_p:
            break
    r = mul(uniform(seed, stream, step), cum[-1])
    return next((order[k] for k, ck in enumerate(cum) if ck > r), order[len(cum) - 1])


def hexes(v):
    return " ".join(f"{bits(x):08x}" for x in v)


def main():
    g = Lcg(2026)
    special = [0.0, -0.0, 1.0, -1.0, 0.5, 88.72284, 88.7229, -87.33654, -87.34, -103.0, 1e-8, -1e-30, 10.0]
    for x in [f32(v) for v in special] + [g.uniform(-90.0, 90.0) for _ in range(300)]:
        print(f"exp | {bits(x):08x} | {bits(exp(x)):08x}")
    for x in [f32(v) for v in special] + [g.uniform(-20.0, 20.0) for _ in range(200)]:
        print(f"silu | {bits(x):08x} | {bits(silu(x)):08x}")
    qblocks = [[0.0] * 32, [g.uniform(-4.0, 4.0) for _ in range(32)], [f32(i - 15.5) for i in range(32)]]
    qblocks.append([math.nan] + [g.uniform(-1.0, 1.0) for _ in range(31)])
    qblocks.append([f32(1e6)] + [g.uniform(-1.0, 1.0) for _ in range(31)])
    qblocks.append([f32(127.0 * (i - 16) / 32.0 + 0.5) for i in range(32)])  # many exact .5 ties
    qblocks += [[g.uniform(-0.01, 0.01) for _ in range(32)] for _ in range(6)]
    for x in qblocks:
        d, q, s = quantize(x)
        print(f"quant | {hexes(x)} | {bits(d):08x} {s} | {' '.join(map(str, q))}")
    for n in [1, 7, 37, 100, 576]:
        v = [g.uniform(-30.0, 30.0) for _ in range(n)]
        print(f"softmax | {hexes(v)} | {hexes(softmax(v))}")
    eps = f32(1e-5)
    for n in [64, 576]:
        x = [g.uniform(-3.0, 3.0) for _ in range(n)]
        w = [g.uniform(-2.0, 2.0) for _ in range(n)]
        print(f"rmsnorm | {bits(eps):08x} | {hexes(x)} | {hexes(w)} | {hexes(rmsnorm(x, w, eps))}")
    for ty in ["q4_1", "q8_0", "q5_0", "q4_k", "q6_k"]:
        n, k = (11, 128) if BLOCK_BYTES[ty][1] == 32 else (5, 512)
        bb, per = BLOCK_BYTES[ty]
        raw = []
        for _ in range(n * k // per):
            blk = [g.next() & 255 for _ in range(bb)]
            # Finite f16 scales: d (and m / dmin) at the type's offsets.
            at = {"q4_1": [0, 2], "q8_0": [0], "q5_0": [0], "q4_k": [0, 2], "q6_k": [208]}[ty]
            for i, o in enumerate(at):
                blk[o:o + 2] = list(struct.pack("<e", g.uniform(-0.03, 0.03) if i == 0 else g.uniform(-0.2, 0.2)))
            raw += blk
        for rows in range(2):
            x = [g.uniform(-5.0, 5.0) for _ in range(k)]
            acts = [quantize(x[b * 32:(b + 1) * 32]) for b in range(k // 32)]
            rb = bb * (k // per)
            y = [dot(ty, blocks(ty, raw[j * rb:(j + 1) * rb], k), acts) for j in range(n)]
            print(f"dot {ty} | {n} {k} | {' '.join(map(str, raw))} | {hexes(x)} | {hexes(y)}")
    base, hd = f32(100000.0), 64
    lb = ln64(base)
    theta = [exp64(-(2 * i / hd) * lb) for i in range(hd // 2)]
    for p in [0, 1, 2, 3, 100, 511, 1023]:
        sc = [sincos64(p * t) for t in theta]
        print(f"rope | {bits(base):08x} {hd} {p} | {hexes([c for _, c in sc])} | {hexes([s for s, _ in sc])}")
    u64 = lambda: ((g.next() << 33) ^ (g.next() << 2) ^ g.next()) & ((1 << 64) - 1)
    kat = [([0] * 4, [0] * 2), ([U32] * 4, [U32] * 2), ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344],
                                                      [0xA4093822, 0x299F31D0])]
    kat += [([u64() & U32 for _ in range(4)], [u64() & U32 for _ in range(2)]) for _ in range(5)]
    for ctr, key in kat:
        print(f"philox | {' '.join(f'{v:08x}' for v in ctr + key)} | {' '.join(f'{v:08x}' for v in philox(ctr, key))}")
    for seed, stream, step in [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), ((1 << 64) - 1, (1 << 64) - 1, U32)] + [
            (u64(), u64(), g.next() & U32) for _ in range(15)]:
        print(f"uniform | {seed} {stream} {step} | {bits(uniform(seed, stream, step)):08x}")
    cases = [(0, 1000), (1, 1000), (300, 900), (700, 950), (1000, 1000), (1000, 500), (1500, 990), (2000, 1000),
             (2000, 1), (700, 999), (1000, 100), (1200, 800)]
    for k, (t_milli, p_milli) in enumerate(cases):
        n = 50 + 23 * k
        scale = [2.0, 6.0, 15.0][k % 3]
        x = [g.uniform(-scale, scale) for _ in range(n)]
        if k % 4 == 1:  # ties: equal probabilities order by index
            x[n // 2] = x[n // 3] = max(x)
        seed, stream, step = u64(), u64(), g.next() & 0xFFFF
        tokens = [sample(x, t_milli, p_milli, seed, stream, step + j) for j in range(16)]
        print(f"sample | {t_milli} {p_milli} {seed} {stream} {step} | {hexes(x)} | {' '.join(map(str, tokens))}")


if __name__ == "__main__":
    main()
