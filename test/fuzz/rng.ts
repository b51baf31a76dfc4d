/**
 * A seeded generator for the fuzz tests, so a failing run can be replayed: FUZZ_SEED picks the
 * seed (else a random one, printed), FUZZ_SECONDS the fuzzing time (default per test file).
 */
export class Rng {
  #s: number;

  constructor(readonly seed: number) {
    this.#s = seed >>> 0;
  }

  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  /** Picks a generator by weight: [[weight, fn], ...]. */
  weighted<T>(choices: readonly (readonly [number, () => T])[]): T {
    const total = choices.reduce((n, [w]) => n + w, 0);
    let r = this.next() * total;
    for (const [w, f] of choices) {
      r -= w;
      if (r < 0) return f();
    }
    return choices[choices.length - 1]![1]();
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
    return b;
  }

  /** A string drawn from `alphabet`. */
  string(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(0, alphabet.length - 1)];
    return s;
  }

  /** Random unicode, including astral characters, lone surrogates and controls. */
  unicode(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) {
      s += this.weighted([
        [4, () => String.fromCharCode(this.int(0x20, 0x7e))],
        [1, () => String.fromCharCode(this.int(0, 0x1f))],
        [2, () => String.fromCharCode(this.int(0x80, 0xd7ff))],
        [1, () => String.fromCharCode(this.int(0xd800, 0xdfff))],
        [1, () => String.fromCodePoint(this.int(0x10000, 0x10ffff))],
      ]);
    }
    return s;
  }
}

/** The seed for this run: FUZZ_SEED, else a fresh random one. */
export function fuzzSeed(): number {
  const env = process.env['FUZZ_SEED'];
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isSafeInteger(n)) throw new Error(`FUZZ_SEED must be an integer, got ${env}`);
    return n >>> 0;
  }
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

/** Milliseconds of fuzzing: FUZZ_SECONDS, else `fallbackSeconds`. */
export function fuzzMillis(fallbackSeconds: number): number {
  const env = process.env['FUZZ_SECONDS'];
  const s = env === undefined || env === '' ? fallbackSeconds : Number(env);
  if (!(s > 0)) throw new Error(`FUZZ_SECONDS must be a positive number, got ${env}`);
  return s * 1000;
}

/** Byte-level mutations of a valid input: bit flips, truncation, insertion, duplication. */
export function mutateBytes(rng: Rng, input: Buffer): Buffer {
  let b: Buffer = Buffer.from(input);
  const rounds = rng.int(1, 4);
  for (let r = 0; r < rounds; r++) {
    b = rng.weighted<Buffer>([
      [
        3,
        () => {
          if (b.length === 0) return b;
          const c = Buffer.from(b);
          const i = rng.int(0, c.length - 1);
          c[i] = c[i]! ^ (1 << rng.int(0, 7));
          return c;
        },
      ],
      [2, () => b.subarray(0, rng.int(0, b.length))],
      [
        2,
        () => {
          const i = rng.int(0, b.length);
          return Buffer.concat([b.subarray(0, i), rng.bytes(rng.int(1, 8)), b.subarray(i)]);
        },
      ],
      [
        1,
        () => {
          const i = rng.int(0, b.length);
          const j = rng.int(i, b.length);
          return Buffer.concat([b.subarray(0, j), b.subarray(i, j), b.subarray(j)]);
        },
      ],
      [
        1,
        () => {
          if (b.length === 0) return b;
          const c = Buffer.from(b);
          c[rng.int(0, c.length - 1)] = rng.pick([0x00, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0xff, 0xc0]);
          return c;
        },
      ],
    ]);
  }
  return b;
}

/** Connections fuzzed at once: FUZZ_LANES, else 4 (light enough to share a 2-core machine with the rest of npm test). */
export function fuzzLanes(): number {
  const env = process.env['FUZZ_LANES'];
  const n = env === undefined || env === '' ? 4 : Number(env);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`FUZZ_LANES must be a positive integer, got ${env}`);
  return n;
}
