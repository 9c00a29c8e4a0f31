// A small seeded generator (sfc32), so that a variant is reproduced by its seed and index
// alone: `variant(seed, i)` draws from its own stream.
export function rng(seed, index) {
  let a = 0x9e3779b9 ^ seed, b = 0x243f6a88 ^ index, c = 0xb7e15162 ^ (seed * 31 + index), d = 1;
  const next = () => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  const r = {
    float: next,
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
    /** Picks from [[weight, value], ...]. */
    weighted(list) {
      const total = list.reduce((s, [w]) => s + w, 0);
      let x = next() * total;
      for (const [w, v] of list) if ((x -= w) < 0) return v;
      return list[list.length - 1][1];
    },
    shuffle(list) {
      const out = [...list];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  };
  return r;
}
