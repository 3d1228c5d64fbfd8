/**
 * The one wrapper around pure-rand. An `Rng` is an immutable value (the generator's state);
 * every draw returns the values and the next `Rng`. Inside, a pure-rand generator is cloned
 * once per call and mutated only locally, so no mutation is visible outside this module.
 */
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus'
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'
import { uniformInt } from 'pure-rand/distribution/uniformInt'

export interface Rng {
  readonly _tag: 'Rng'
  readonly state: ReadonlyArray<number>
}

const wrap = (state: ReadonlyArray<number>): Rng => Object.freeze({ _tag: 'Rng', state: Object.freeze([...state]) })
type Gen = ReturnType<typeof xoroshiro128plus>
const gen = (r: Rng): Gen => xoroshiro128plusFromState(r.state)

/** MurmurHash3's 32-bit finalizer: spreads a small integer's bits over the whole word. */
const fmix32 = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h | 0
}

/** The two 32-bit halves of a number's float64 representation (for seeds that are not integers). */
const bitsOf = (s: number): readonly [number, number] => {
  const f = new Float64Array([s])
  const u = new Int32Array(f.buffer)
  return [u[0]!, u[1]!]
}

/**
 * An Rng from a seed. Different seeds give independent-looking streams: the seed is hashed, and
 * the generator jumps once (2⁶⁴ draws), so that even seeds 0, 1, 2, … start from well-mixed
 * states (xoroshiro128+ seeded directly with a small integer yields a first draw close to 1).
 * Every number is a seed (the function never throws): an integer by its value, any other
 * number (1.5, NaN, ∞) by its float64 bits, so that distinct numbers give distinct streams.
 * Methods that take a seed option still refuse a non-integer one, as a likely mistake.
 */
export const seed = (s: number): Rng => {
  const [lo, hi] = Number.isInteger(s) ? [s | 0, Math.floor(s / 2 ** 32) | 0] : bitsOf(s).map((x) => fmix32(x ^ 0x5bd1e995))
  const g = xoroshiro128plus(fmix32(lo! ^ fmix32(hi!)))
  g.jump()
  return wrap(g.getState())
}

/**
 * `count` independent streams: the i-th is the input advanced by i jumps of 2⁶⁴ draws,
 * so no two overlap for any practical number of draws.
 */
export const split = (r: Rng, count: number): ReadonlyArray<Rng> => {
  const out: Rng[] = []
  const g = gen(r)
  for (let i = 0; i < count; i++) {
    g.jump()
    out.push(wrap(g.getState()))
  }
  return out
}

/** Two independent streams. */
export const split2 = (r: Rng): readonly [Rng, Rng] => {
  const [a, b] = split(r, 2)
  return [a!, b!]
}

/** A uniform float in [0, 1). */
export const uniform = (r: Rng): readonly [number, Rng] => {
  const g = gen(r)
  const u = uniformFloat64(g)
  return [u, wrap(g.getState())]
}

/** n uniform floats in [0, 1). */
export const uniforms = (r: Rng, n: number): readonly [Float64Array, Rng] => {
  const g = gen(r)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = uniformFloat64(g)
  return [out, wrap(g.getState())]
}

/** n floats uniform in [lo, hi). */
export const uniformsIn = (r: Rng, n: number, lo: number, hi: number): readonly [Float64Array, Rng] => {
  const [u, next] = uniforms(r, n)
  for (let i = 0; i < n; i++) u[i] = lo + (hi - lo) * u[i]!
  return [u, next]
}

/** n standard normal draws (Box–Muller). */
export const normals = (r: Rng, n: number): readonly [Float64Array, Rng] => {
  const g = gen(r)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i += 2) {
    const u1 = 1 - uniformFloat64(g) // (0, 1]
    const u2 = uniformFloat64(g)
    const rad = Math.sqrt(-2 * Math.log(u1))
    out[i] = rad * Math.cos(2 * Math.PI * u2)
    if (i + 1 < n) out[i + 1] = rad * Math.sin(2 * Math.PI * u2)
  }
  return [out, wrap(g.getState())]
}

/** An integer uniform in [lo, hi] (both included). */
export const integer = (r: Rng, lo: number, hi: number): readonly [number, Rng] => {
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo <= hi)) throw new RangeError(`integer: bad range [${lo}, ${hi}]`)
  const g = gen(r)
  const v = uniformInt(g, lo, hi)
  return [v, wrap(g.getState())]
}

/** Shuffle a in place into a uniformly random order (Fisher–Yates), drawing from g. Returns a. */
const shuffleInPlace = (g: Gen, a: Int32Array): Int32Array => {
  for (let i = a.length - 1; i > 0; i--) {
    const j = uniformInt(g, 0, i)
    const t = a[i]!
    a[i] = a[j]!
    a[j] = t
  }
  return a
}

/** A uniformly random permutation of 0..n−1 (Fisher–Yates). */
export const permutation = (r: Rng, n: number): readonly [Int32Array, Rng] => {
  const g = gen(r)
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  return [shuffleInPlace(g, p), wrap(g.getState())]
}

const checkBatch = (n: number, b: number, replace: boolean): void => {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`minibatch: population size must be a positive integer, got ${n}`)
  if (!Number.isInteger(b) || b <= 0) throw new RangeError(`minibatch: batch size must be a positive integer, got ${b}`)
  if (!replace && b > n) throw new RangeError(`minibatch: batch size ${b} is larger than the ${n} samples (without replacement)`)
}

/** b indices drawn uniformly from 0..n−1 with replacement. */
export const sampleWithReplacement = (r: Rng, n: number, b: number): readonly [Int32Array, Rng] => {
  checkBatch(n, b, true)
  const g = gen(r)
  const out = new Int32Array(b)
  for (let i = 0; i < b; i++) out[i] = uniformInt(g, 0, n - 1)
  return [out, wrap(g.getState())]
}

/**
 * b distinct indices drawn uniformly from 0..n−1 (a uniformly random b-subset, in random
 * order), by Floyd's algorithm: O(b) time and memory whatever n is.
 */
export const sampleWithoutReplacement = (r: Rng, n: number, b: number): readonly [Int32Array, Rng] => {
  checkBatch(n, b, false)
  const g = gen(r)
  const out = new Int32Array(b)
  const chosen = new Set<number>()
  let k = 0
  for (let j = n - b; j < n; j++) {
    const t = uniformInt(g, 0, j)
    const pick = chosen.has(t) ? j : t
    chosen.add(pick)
    out[k++] = pick
  }
  // Floyd's algorithm yields a uniform subset; shuffle it so the order is uniform too.
  return [shuffleInPlace(g, out), wrap(g.getState())]
}

/** Draw a minibatch of size b from 0..n−1. */
export const minibatch = (r: Rng, n: number, b: number, replace = false): readonly [Int32Array, Rng] =>
  replace ? sampleWithReplacement(r, n, b) : sampleWithoutReplacement(r, n, b)

/** Where a reshuffled pass over the samples stands: the epoch's permutation and the next position. */
export interface Epoch {
  readonly perm: Readonly<Int32Array>
  readonly pos: number
}

/**
 * The next minibatch of passes in reshuffled order (one uniformly random permutation per epoch,
 * as a data loader with shuffling draws them): b consecutive entries of the current permutation,
 * a new permutation drawn when fewer than b entries are left (⌊n/b⌋ batches per epoch; the last
 * n mod b samples of each permutation are left out). Each batch is a uniform b-subset, but the
 * batches of one epoch are not independent. Returns the batch (a view of the permutation, which
 * is never written), the advanced Rng and the new position.
 */
export const nextReshuffled = (r: Rng, n: number, b: number, epoch: Epoch | undefined): readonly [Int32Array, Rng, Epoch] => {
  checkBatch(n, b, false)
  let rng = r
  let e = epoch
  if (e === undefined || e.pos + b > e.perm.length) {
    const [perm, next] = permutation(rng, n)
    rng = next
    e = { perm, pos: 0 }
  }
  const batch = (e.perm as Int32Array).subarray(e.pos, e.pos + b)
  return [batch, rng, { perm: e.perm, pos: e.pos + b }]
}
