/**
 * The numerical yardsticks of the laws: random vectors, central finite differences with a
 * robust choice of step, and tolerances that scale with the quantities compared.
 *
 * Finite differences. For a smooth F and a direction u, the law compares J·u with two
 * estimates of the directional derivative and accepts when either agrees:
 *   - Richardson:  (4·D(h/2) − D(h))/3  with D(h) = (F(x + hu) − F(x − hu))/(2h) and
 *     h = ε^{1/5}(1 + ‖x‖∞)/‖u‖∞: truncation error O(h⁴), rounding O(ε/h);
 *   - plain central D(h) with h = ε^{1/3}(1 + ‖x‖∞)/‖u‖∞: truncation O(h²), rounding O(ε/h).
 * The step is halved (at most 30 times) until x ± hu stays in the domain. The tolerance is
 *   ‖J·u − D‖ ≤ rtol·max(‖J·u‖, ‖D‖) + atol + noise,   noise = 100·ε·max‖F(x ± hu)‖/h,
 * where `noise` bounds the rounding error of the difference quotient itself. A wrong
 * derivative (a missing factor, a transposed matrix, a sign) is off by O(‖J·u‖) and fails.
 */
import fc from 'fast-check'
import type { RVec, Vec } from '../linalg/types.js'

export const EPS = Number.EPSILON

/** An absolute floor for relative comparisons: below it, arithmetic is subnormal and rounding is no longer relative. */
export const TINY = 1e-290

export const normInf = (x: RVec): number => {
  let m = 0
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!))
  return m
}

export const norm2 = (x: RVec): number => {
  // Scaled, so that huge or tiny vectors do not overflow or underflow.
  const s = normInf(x)
  if (s === 0 || !Number.isFinite(s)) return s
  let acc = 0
  for (let i = 0; i < x.length; i++) acc += (x[i]! / s) ** 2
  return s * Math.sqrt(acc)
}

export const inner = (x: RVec, y: RVec): number => {
  if (x.length !== y.length) throw new RangeError(`inner: lengths ${x.length} and ${y.length} differ`)
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!
  return s
}

export const diffNorm = (x: RVec, y: RVec): number => {
  if (x.length !== y.length) throw new RangeError(`diffNorm: lengths ${x.length} and ${y.length} differ`)
  const d = new Float64Array(x.length)
  for (let i = 0; i < x.length; i++) d[i] = x[i]! - y[i]!
  return norm2(d)
}

/** x + t·u, fresh. */
export const along = (x: RVec, t: number, u: RVec): Vec => {
  const out = new Float64Array(x.length)
  for (let i = 0; i < x.length; i++) out[i] = x[i]! + t * u[i]!
  return out
}

export const isFiniteArray = (x: ArrayLike<number>): boolean => {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false
  return true
}

/** A short rendering of a vector for messages. */
export const showVec = (x: ArrayLike<number>, max = 6): string => {
  const parts: string[] = []
  for (let i = 0; i < Math.min(x.length, max); i++) parts.push(x[i]!.toPrecision(6))
  return `[${parts.join(', ')}${x.length > max ? `, … (${x.length})` : ''}]`
}

const GRID = 2 ** 30

/**
 * Numbers in [−1, 1]: mostly uniform on a grid of step 2⁻³⁰ (fast-check's own doubles are spread
 * over the bit patterns, hence mostly tiny, and biased toward extremes: poor test vectors for
 * numerics), sometimes exactly 0 or ±1. They shrink toward 0.
 */
export const unitArb: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.noBias(fc.integer({ min: -GRID, max: GRID })).map((k) => k / GRID), weight: 12 },
  { arbitrary: fc.constantFrom(0, 1, -1), weight: 1 },
)

/** Vectors of length n with entries in [−scale, scale] (see `unitArb`). */
export const vecArb = (n: number, scale = 1): fc.Arbitrary<Float64Array> =>
  fc.array(unitArb, { minLength: n, maxLength: n }).map((xs) => Float64Array.from(xs, (v) => v * scale))

/**
 * A small perturbation of λ₀: each entry λ₀ᵢ·exp(rel·εᵢ) when λ₀ᵢ ≠ 0 (it keeps its sign, so a
 * positive hyperparameter stays positive), rel·εᵢ when λ₀ᵢ = 0, with εᵢ ∈ [−1, 1].
 */
export const perturbation = (lambda0: RVec, rel = 0.1): fc.Arbitrary<Float64Array> =>
  vecArb(lambda0.length).map((e) => {
    const out = new Float64Array(lambda0.length)
    for (let i = 0; i < out.length; i++) {
      const l = lambda0[i]!
      out[i] = l !== 0 ? l * Math.exp(rel * e[i]!) : rel * e[i]!
    }
    return out
  })

/** How two vectors (or scalars, as length-1 vectors) may differ: rtol relative, atol absolute. */
export interface Tolerance {
  readonly rtol: number
  readonly atol: number
}

/** A central-difference estimate of the derivative of F at x along u, with the noise level of the estimate. */
export interface FdEstimate {
  readonly value: Vec
  readonly noise: number
  readonly h: number
}

/**
 * The two estimates described at the top of this module, of dF(x)[u] for F: Rⁿ → Rᵏ.
 * `inDomain` says whether x ± hu may be evaluated (default: always).
 */
export const directional = (
  f: (x: RVec) => RVec,
  x: RVec,
  u: RVec,
  inDomain: (x: RVec) => boolean = () => true,
): readonly FdEstimate[] => {
  const un = normInf(u)
  if (un === 0) return []
  const base = (1 + normInf(x)) / un
  const fits = (h: number): number => {
    let t = h
    for (let k = 0; k < 30 && !(inDomain(along(x, t, u)) && inDomain(along(x, -t, u))); k++) t /= 2
    return t
  }
  const central = (h: number): { d: Vec; mag: number } => {
    const fp = f(along(x, h, u))
    const fm = f(along(x, -h, u))
    const d = new Float64Array(fp.length)
    for (let i = 0; i < d.length; i++) d[i] = (fp[i]! - fm[i]!) / (2 * h)
    return { d, mag: Math.max(normInf(fp), normInf(fm)) * Math.sqrt(fp.length) }
  }
  const out: FdEstimate[] = []
  const h1 = fits(EPS ** 0.2 * base)
  const a = central(h1)
  const b = central(h1 / 2)
  const rich = new Float64Array(a.d.length)
  for (let i = 0; i < rich.length; i++) rich[i] = (4 * b.d[i]! - a.d[i]!) / 3
  out.push({ value: rich, noise: (100 * EPS * Math.max(a.mag, b.mag)) / h1 * 3, h: h1 })
  const h2 = fits(EPS ** (1 / 3) * base)
  const c = central(h2)
  out.push({ value: c.d, noise: (100 * EPS * c.mag) / h2, h: h2 })
  return out
}

/**
 * Compare an analytic directional derivative `jv` with the finite-difference estimates;
 * undefined when one agrees, else a message naming the best discrepancy.
 * `floor` is an extra scale added to the relative part (for scalars whose value can cancel).
 */
export const fdMismatch = (jv: RVec, estimates: readonly FdEstimate[], tol: Tolerance, floor = 0): string | undefined => {
  if (estimates.length === 0) return undefined
  let best = Infinity
  let bestMsg = ''
  for (const e of estimates) {
    if (e.value.length !== jv.length) return `finite difference has length ${e.value.length}, the product ${jv.length}`
    const err = diffNorm(jv, e.value)
    const allowed = tol.rtol * (Math.max(norm2(jv), norm2(e.value)) + floor) + tol.atol + e.noise
    if (err <= allowed) return undefined
    if (err / allowed < best) {
      best = err / allowed
      bestMsg = `analytic ${showVec(jv)} vs central difference ${showVec(e.value)} (h = ${e.h.toExponential(2)}): error ${err.toExponential(3)} > allowed ${allowed.toExponential(3)}`
    }
  }
  return bestMsg
}

/** All b-subsets of {0, …, n−1} in lexicographic order (call only when C(n, b) is small). */
export function* subsets(n: number, b: number): Generator<Int32Array> {
  if (b < 0 || b > n) return
  const idx = new Int32Array(b)
  for (let i = 0; i < b; i++) idx[i] = i
  for (;;) {
    yield idx.slice()
    let i = b - 1
    while (i >= 0 && idx[i] === n - b + i) i--
    if (i < 0) return
    idx[i] = idx[i]! + 1
    for (let j = i + 1; j < b; j++) idx[j] = idx[j - 1]! + 1
  }
}

/** C(n, b), as a float (Infinity when huge). */
export const binomial = (n: number, b: number): number => {
  if (b < 0 || b > n) return 0
  let r = 1
  for (let i = 1; i <= Math.min(b, n - b); i++) r = (r * (n - Math.min(b, n - b) + i)) / i
  return Math.round(r)
}

/** Averages of many vectors with compensated (Neumaier) summation, so that the mean is accurate to a few ulps. */
export class MeanAccumulator {
  private readonly sum: Float64Array
  private readonly comp: Float64Array
  private count = 0
  /** The largest ‖xᵢ‖ seen: the scale of the rounding error of the terms. */
  maxNorm = 0
  constructor(readonly n: number) {
    this.sum = new Float64Array(n)
    this.comp = new Float64Array(n)
  }
  add(x: RVec): void {
    if (x.length !== this.n) throw new RangeError(`MeanAccumulator: expected length ${this.n}, got ${x.length}`)
    for (let i = 0; i < this.n; i++) {
      const s = this.sum[i]!
      const v = x[i]!
      const t = s + v
      this.comp[i] = this.comp[i]! + (Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s)
      this.sum[i] = t
    }
    this.count++
    this.maxNorm = Math.max(this.maxNorm, norm2(x))
  }
  mean(): Vec {
    const out = new Float64Array(this.n)
    for (let i = 0; i < this.n; i++) out[i] = (this.sum[i]! + this.comp[i]!) / this.count
    return out
  }
}
