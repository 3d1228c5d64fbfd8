/**
 * The variance constants of the SID paper, exactly by enumeration on finite sums and by Monte
 * Carlo (with confidence intervals) where enumeration is out of reach.
 *
 * The paper's variance of a random vector is V[X] = E‖X − E X‖² (its notation section). For a
 * finite sum, a minibatch B of size b drawn uniformly from n samples (with or without
 * replacement) and the batch average X_B = (1/b) Σ_{i∈B} xᵢ, with x̄ = (1/n) Σᵢ xᵢ and the
 * population variance s² = (1/n) Σᵢ ‖xᵢ − x̄‖²:
 *   with replacement:     V[X_B] = s²/b                       (b independent draws)
 *   without replacement:  V[X_B] = (s²/b)·(n−b)/(n−1)         (the finite-population correction)
 * Derivation without replacement, per coordinate: X_B − x̄ = (1/b) Σⱼ (x_{iⱼ} − x̄) with
 * E[(x_{iⱼ} − x̄)²] = s² and, for j ≠ j′, E[(x_{iⱼ} − x̄)(x_{iⱼ′} − x̄)] = −s²/(n−1) (the
 * centred values sum to zero); so V = (1/b²)(b s² − b(b−1) s²/(n−1)) = (s²/b)(n−b)/(n−1).
 * The tests check both formulas against enumeration of every batch.
 *
 * Matrices (∂₂Φ̂ for m₂) are measured in the Frobenius norm, which bounds the paper's spectral
 * norm from above: E‖X − EX‖₂² ≤ E‖X − EX‖_F², so the m₂ returned here is a valid (upper) m₂.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import type { Batch, StochasticBilevelProblem } from '../problem/bilevel.js'
import { minibatch, type Rng } from '../random/rng.js'
import { operatorNorm } from './norms.js'

// ─── exact variances of batch averages ───────────────────────────────────────────────────────

/**
 * κ(n, b) such that V[X_B] = κ · (1/n)Σᵢ‖xᵢ − x̄‖² for a batch average over b of n samples:
 * 1/b with replacement, (n−b)/(b(n−1)) without (0 when n = 1). Throws a RangeError for an
 * invalid (n, b).
 */
export const batchVarianceFactor = (n: number, b: number, replace: boolean): number => {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`batchVarianceFactor: n must be a positive integer, got ${n}`)
  if (!Number.isInteger(b) || b < 1) throw new RangeError(`batchVarianceFactor: b must be a positive integer, got ${b}`)
  if (replace) return 1 / b
  if (b > n) throw new RangeError(`batchVarianceFactor: batch size ${b} exceeds the ${n} samples (without replacement)`)
  return n === 1 ? 0 : (n - b) / (b * (n - 1))
}

/**
 * Exact V[X_B] = E‖X_B − x̄‖² for the average X_B of a uniform minibatch of size b over the
 * vectors `samples` (x₀, …, x_{n−1}). Throws a RangeError when the samples differ in length or
 * (n, b) is invalid.
 */
export const batchMeanVariance = (samples: ReadonlyArray<RVec>, b: number, replace: boolean): number => {
  const n = samples.length
  const factor = batchVarianceFactor(n, b, replace)
  const d = samples[0]!.length
  const mean = new Float64Array(d)
  for (const x of samples) {
    if (x.length !== d) throw new RangeError(`batchMeanVariance: samples have lengths ${d} and ${x.length}`)
    for (let j = 0; j < d; j++) mean[j] = mean[j]! + x[j]!
  }
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / n
  let s = 0
  for (const x of samples) {
    for (let j = 0; j < d; j++) {
      const r = x[j]! - mean[j]!
      s += r * r
    }
  }
  return factor * (s / n)
}

// ─── problem-level exact constants ───────────────────────────────────────────────────────────

const single = (i: number): Batch => Int32Array.of(i)

/** Row j of ∂₂Φ̂(w, λ, B) (= ∂₂Φ̂ᵀeⱼ for the unit vector e = eⱼ), checked to have length m. */
const crossRow = (problem: StochasticBilevelProblem, w: RVec, lambda: RVec, batch: Batch, e: RVec): Vec => {
  const row = problem.vjpLambdaHat(w, lambda, batch, e)
  if (row.length !== problem.hyperDim) throw new RangeError(`m2: vjpLambdaHat returned length ${row.length}, expected hyperDim ${problem.hyperDim}`)
  return row
}

type Guard = HypergradError | undefined

const checkInputs = (
  where: string,
  problem: StochasticBilevelProblem,
  w: RVec,
  lambda: RVec,
  b: number,
  replace: boolean,
): E.Either<HypergradError, RVec> => {
  if (w.length !== problem.dim) return E.left(hgError('dimension', `${where}: w has length ${w.length}, the problem has dim ${problem.dim}`))
  const n = problem.nSamples
  if (!(Number.isInteger(b) && b >= 1 && (replace || b <= n)))
    return E.left(hgError('domain', `${where}: batch size ${b} is invalid for ${n} samples (replace: ${replace})`))
  for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i]!)) return E.left(hgError('domain', `${where}: w has a non-finite entry at ${i}`))
  return problem.checkLambda(lambda)
}

const finiteOrError = (where: string, what: string, xs: ReadonlyArray<RVec>): Guard => {
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!
    for (let j = 0; j < x.length; j++) if (!Number.isFinite(x[j]!)) return hgError('domain', `${where}: ${what} of sample ${i} is not finite`)
  }
  return undefined
}

/** The exact variance of the average of a size-b batch of the n vectors `perSample(i)`; Left when one is not finite. */
const exactVariance = (
  where: string,
  what: string,
  n: number,
  perSample: (i: number) => RVec,
  sampling: { readonly b: number; readonly replace: boolean },
): E.Either<HypergradError, number> => {
  const xs: RVec[] = []
  for (let i = 0; i < n; i++) xs.push(perSample(i))
  const err = finiteOrError(where, what, xs)
  return err === undefined ? E.right(batchMeanVariance(xs, sampling.b, sampling.replace)) : E.left(err)
}

const exactOver = (
  where: string,
  what: string,
  problem: StochasticBilevelProblem,
  w: RVec,
  lambda: RVec,
  b: number,
  replace: boolean,
  perSample: (i: number) => RVec,
): E.Either<HypergradError, number> =>
  E.chain(() => exactVariance(where, what, problem.nSamples, perSample, { b, replace }))(checkInputs(where, problem, w, lambda, b, replace))

/** An exact variance at (w, λ) over the minibatches of size b. */
export type BatchExact = (problem: StochasticBilevelProblem, w: RVec, lambda: RVec, b: number, replace: boolean) => E.Either<HypergradError, number>

/**
 * Exact V[Φ̂(w, λ, B)] for a minibatch B of size b, by evaluating the n per-sample maps Φ̂ᵢ(w, λ)
 * (n evaluations): (1/b)·((n−b)/(n−1))·(1/n)Σᵢ‖Φ̂ᵢ(w) − Φ(w)‖² without replacement,
 * (1/b)(1/n)Σᵢ‖Φ̂ᵢ(w) − Φ(w)‖² with replacement. Assumes, as `Batch` documents, that Φ̂ on a
 * batch is the average of the per-sample maps.
 */
export const varianceOfMap: BatchExact = (problem, w, lambda, b, replace) =>
  exactOver('varianceOfMap', 'Φ̂', problem, w, lambda, b, replace, (i) => problem.phiHat(w, lambda, single(i)))

/**
 * σ₁ of SID Thm 4.3 (and σ_{λ,1} of Thm 5.1): 2·V[Φ̂(w*, λ, B)], exact, at the fixed point
 * w* = w(λ) supplied by the caller.
 */
export const sigma1Exact = (
  problem: StochasticBilevelProblem,
  lambda: RVec,
  wStar: RVec,
  b: number,
  replace: boolean,
): E.Either<HypergradError, number> => E.map((v: number) => 2 * v)(varianceOfMap(problem, wStar, lambda, b, replace))

/**
 * Exact V[∂₁Φ̂(w, λ, B)ᵀ v]: the noise of the linear-system map Ψ̂_w(v) = ∂₁Φ̂ᵀv + ∇₁E of SID
 * eq. (29) at v (n products). At v = v(w, λ), twice this is the σ₁ of Thm 4.3 for (29).
 */
export const varianceOfJacobianTProduct = (
  problem: StochasticBilevelProblem,
  w: RVec,
  lambda: RVec,
  v: RVec,
  b: number,
  replace: boolean,
): E.Either<HypergradError, number> => {
  if (v.length !== problem.dim)
    return E.left(hgError('dimension', `varianceOfJacobianTProduct: v has length ${v.length}, the problem has dim ${problem.dim}`))
  return exactOver('varianceOfJacobianTProduct', '∂₁Φ̂ᵀv', problem, w, lambda, b, replace, (i) => problem.vjpWHat(w, lambda, single(i), v))
}

/**
 * Exact V[∂₂Φ̂(w, λ, B)] = E‖∂₂Φ̂_B − ∂₂Φ‖_F² at w, in the Frobenius norm (an upper bound on the
 * spectral-norm variance that SID Assumption B(iv) uses). The Frobenius variance is the sum over
 * the d rows ∂₂Φ̂ᵢᵀeⱼ of the variance of their batch average, so one row index is held at a time
 * for the n samples: n·d products, memory O(n·m), never a d×m matrix per sample. The paper's
 * m_{2,λ} is its supremum over w: this value is m₂ itself when ∂₂Φ̂ does not depend on w.
 */
export const m2At: BatchExact = (problem, w, lambda, b, replace) =>
  E.chain(() => {
    const e = new Float64Array(problem.dim)
    let total = 0
    for (let j = 0; j < problem.dim; j++) {
      e.fill(0)
      e[j] = 1
      const row = exactVariance('m2At', '∂₂Φ̂', problem.nSamples, (i) => crossRow(problem, w, lambda, single(i), e), { b, replace })
      if (E.isLeft(row)) return row
      total += row.right
    }
    return E.right(total)
  })(checkInputs('m2At', problem, w, lambda, b, replace))

/**
 * max over the points `ws` of `m2At`: the largest variance of ∂₂Φ̂ seen. A lower estimate of the
 * supremum m_{2,λ} (exact when ∂₂Φ̂ does not depend on w); pass points that cover the region the
 * iterates visit.
 */
export const m2Sup = (
  problem: StochasticBilevelProblem,
  lambda: RVec,
  ws: ReadonlyArray<RVec>,
  b: number,
  replace: boolean,
): E.Either<HypergradError, number> => {
  if (ws.length === 0) return E.left(hgError('domain', 'm2Sup: no points given'))
  let best = 0
  for (const w of ws) {
    const r = m2At(problem, w, lambda, b, replace)
    if (E.isLeft(r)) return r
    best = Math.max(best, r.right)
  }
  return E.right(best)
}

/**
 * max over the samples i of ‖∂₁Φ̂ᵢ(w, λ)‖₂, each spectral norm by `operatorNorm` from the
 * products jvpWHat and vjpWHat (exact for d ≤ 64, else a converged power iteration's upper
 * bound; never a dense d×d matrix). A minibatch average has norm at most this, so it is a valid
 * L_{Φ̂} (Assumption B(iii), Thm 4.3's L_T̂) at w; it is the global constant when ∂₁Φ̂ does not
 * depend on w (affine maps), otherwise a lower estimate of the sup.
 */
export const perSampleJacobianNorm = (problem: StochasticBilevelProblem, w: RVec, lambda: RVec): E.Either<HypergradError, number> =>
  E.chain(() => {
    let best = 0
    for (let i = 0; i < problem.nSamples; i++) {
      const batch = single(i)
      const s = operatorNorm({
        rows: problem.dim,
        cols: problem.dim,
        apply: (u) => problem.jvpWHat(w, lambda, batch, u),
        applyT: (v) => problem.vjpWHat(w, lambda, batch, v),
      })
      if (!Number.isFinite(s)) return E.left(hgError('domain', `perSampleJacobianNorm: ∂₁Φ̂ of sample ${i} is not finite`))
      best = Math.max(best, s)
    }
    return E.right(best)
  })(checkInputs('perSampleJacobianNorm', problem, w, lambda, 1, true))

/**
 * The smallest σ₂ that makes V[Φ̂(w)] ≤ σ₁ + σ₂‖Φ(w) − w‖² (Assumption D(iii)) hold at each of
 * the points `ws`: max over ws of (V[Φ̂(w)] − σ₁)₊ / ‖Φ(w) − w‖². A diagnostic, not a
 * certificate (a lower estimate of the smallest valid σ₂); Thm 4.3 gives a certified σ₂.
 */
export const sigma2Empirical = (
  problem: StochasticBilevelProblem,
  lambda: RVec,
  sigma1: number,
  ws: ReadonlyArray<RVec>,
  b: number,
  replace: boolean,
): E.Either<HypergradError, number> => {
  if (!(Number.isFinite(sigma1) && sigma1 >= 0)) return E.left(hgError('domain', `sigma2Empirical: σ₁ must be ≥ 0, got ${sigma1}`))
  let best = 0
  for (const w of ws) {
    const v = varianceOfMap(problem, w, lambda, b, replace)
    if (E.isLeft(v)) return v
    const phi = problem.phi(w, lambda)
    let r2 = 0
    for (let j = 0; j < w.length; j++) r2 += (phi[j]! - w[j]!) ** 2
    const excess = v.right - sigma1
    if (excess > 0) {
      if (r2 === 0) return E.right(Infinity)
      best = Math.max(best, excess / r2)
    }
  }
  return E.right(best)
}

// ─── Monte Carlo: means and variances with confidence intervals ──────────────────────────────

/** The upper tail Q(x) = P(Z > x) of the standard normal, for x ≥ 0. */
const normalUpperTail = (x: number): number => {
  const phi = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI)
  if (x < 3) {
    // Φ(x) − 1/2 = φ(x) Σₙ x^{2n+1}/(1·3·5···(2n+1)).
    let term = x
    let sum = x
    for (let k = 1; k < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); k++) {
      term *= (x * x) / (2 * k + 1)
      sum += term
    }
    return 0.5 - phi * sum
  }
  // Laplace's continued fraction: Q(x) = φ(x)/(x + 1/(x + 2/(x + 3/(x + …)))), evaluated backwards.
  let f = x
  for (let k = 120; k >= 1; k--) f = x + k / f
  return phi / f
}

/**
 * The standard normal quantile z_p = Φ⁻¹(p) for p ∈ (0, 1), to about 1e-12 (bisection on the
 * tail function). Throws a RangeError outside (0, 1).
 */
export const normalQuantile = (p: number): number => {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must lie in (0, 1), got ${p}`)
  // Solve Q(x) = tail for x ≥ 0 with the smaller tail, so that no digits are lost in 1 − p.
  const tail = p < 0.5 ? p : 1 - p
  let lo = 0
  let hi = 40
  for (let i = 0; i < 200 && hi - lo > 1e-14; i++) {
    const mid = 0.5 * (lo + hi)
    if (normalUpperTail(mid) > tail) lo = mid
    else hi = mid
  }
  const x = 0.5 * (lo + hi)
  return p < 0.5 ? -x : x
}

/** A confidence interval for a mean (or a variance estimated as a mean of unbiased terms). */
export interface ConfidenceInterval {
  readonly estimate: number
  /** Lower end (−∞ for a one-sided upper interval). */
  readonly lower: number
  /** Upper end (+∞ for a one-sided lower interval). */
  readonly upper: number
  /** The standard error s/√N of the estimate. */
  readonly stdError: number
  /** The number N of independent terms averaged. */
  readonly samples: number
  readonly confidence: number
  readonly sides: 'two' | 'upper' | 'lower'
}

/** Options of the Monte Carlo estimators. */
export interface IntervalOptions {
  /** Nominal confidence level (default 1 − 1e-6). */
  readonly confidence?: number
  /** 'two' (default): [x̄ − z s/√N, x̄ + z s/√N] with z = z_{1−δ/2}; 'upper': (−∞, x̄ + z_{1−δ} s/√N]; 'lower': [x̄ − z_{1−δ} s/√N, ∞). */
  readonly sides?: 'two' | 'upper' | 'lower'
}

/**
 * The normal-approximation (CLT) confidence interval of the mean of N independent draws xs, with
 * the sample standard deviation s (divisor N − 1). Its level is nominal: exact for normal draws
 * as N grows, approximate otherwise. Left when N < 2 or a draw is not finite.
 */
export const meanConfidenceInterval = (xs: ArrayLike<number>, opts: IntervalOptions = {}): E.Either<HypergradError, ConfidenceInterval> => {
  const confidence = opts.confidence ?? 1 - 1e-6
  const sides = opts.sides ?? 'two'
  const n = xs.length
  if (!(confidence > 0 && confidence < 1)) return E.left(hgError('domain', `meanConfidenceInterval: confidence must lie in (0, 1), got ${confidence}`))
  if (n < 2) return E.left(hgError('domain', `meanConfidenceInterval: needs at least 2 draws, got ${n}`))
  let sum = 0
  for (let i = 0; i < n; i++) {
    const x = xs[i]!
    if (!Number.isFinite(x)) return E.left(hgError('domain', `meanConfidenceInterval: draw ${i} is not finite (${x})`))
    sum += x
  }
  const mean = sum / n
  let ss = 0
  for (let i = 0; i < n; i++) ss += (xs[i]! - mean) ** 2
  const se = Math.sqrt(ss / (n - 1) / n)
  const z = normalQuantile(sides === 'two' ? 1 - (1 - confidence) / 2 : confidence)
  return E.right({
    estimate: mean,
    lower: sides === 'upper' ? -Infinity : mean - z * se,
    upper: sides === 'lower' ? Infinity : mean + z * se,
    stdError: se,
    samples: n,
    confidence,
    sides,
  })
}

/** Monte Carlo options: the number of independent pairs of draws, and the interval. */
export interface MonteCarloOptions extends IntervalOptions {
  /** P ≥ 2 independent pairs (2P draws). */
  readonly pairs: number
}

/**
 * The interval of the mean of P independent half squared distances Yⱼ = ½‖X_{2j} − X_{2j+1}‖²,
 * `halfSquaredDistance` giving one Yⱼ (from two fresh draws) and the next Rng.
 */
const pairedVariance = (
  halfSquaredDistance: (rng: Rng) => readonly [number, Rng],
  rng: Rng,
  opts: MonteCarloOptions,
): E.Either<HypergradError, ConfidenceInterval> => {
  const P = opts.pairs
  if (!(Number.isInteger(P) && P >= 2)) return E.left(hgError('domain', `monteCarloVariance: pairs must be an integer ≥ 2, got ${P}`))
  const ys = new Float64Array(P)
  let r = rng
  for (let j = 0; j < P; j++) [ys[j], r] = halfSquaredDistance(r)
  return E.map((ci: ConfidenceInterval) => ({ ...ci, lower: Math.max(0, ci.lower) }))(meanConfidenceInterval(ys, opts))
}

/** ½‖a − b‖² (throws a RangeError when the lengths differ). */
const halfSquaredDistance = (a: RVec, b: RVec): number => {
  if (a.length !== b.length) throw new RangeError(`monteCarloVariance: draws have lengths ${a.length} and ${b.length}`)
  let s = 0
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2
  return 0.5 * s
}

/**
 * A Monte Carlo estimate of V[X] = E‖X − EX‖² from 2P independent draws of X, with a confidence
 * interval. The draws are paired: Yⱼ = ½‖X_{2j} − X_{2j+1}‖² are P independent, unbiased
 * estimates of V[X] (E‖X − X′‖² = 2V[X] for independent copies), so the estimate is their mean
 * and the interval is `meanConfidenceInterval` of the Yⱼ (its lower end clipped at 0).
 * `draw` maps an Rng to one draw and the next Rng.
 */
export const monteCarloVariance = (
  draw: (rng: Rng) => readonly [RVec, Rng],
  rng: Rng,
  opts: MonteCarloOptions,
): E.Either<HypergradError, ConfidenceInterval> =>
  pairedVariance(
    (r) => {
      const [a, r1] = draw(r)
      const [b, r2] = draw(r1)
      return [halfSquaredDistance(a, b), r2]
    },
    rng,
    opts,
  )

/**
 * `pairedVariance` over pairs of independent minibatches of size b: `between(B₁, B₂)` is
 * ½‖X_{B₁} − X_{B₂}‖² for the quantity X whose variance is wanted. Left on bad input.
 */
const overBatchPairs = (
  where: string,
  problem: StochasticBilevelProblem,
  w: RVec,
  lambda: RVec,
  sampling: { readonly b: number; readonly replace: boolean; readonly rng: Rng; readonly opts: MonteCarloOptions },
  between: (b1: Batch, b2: Batch) => number,
): E.Either<HypergradError, ConfidenceInterval> => {
  const { b, replace } = sampling
  return E.chain(() =>
    pairedVariance(
      (r) => {
        const [b1, r1] = minibatch(r, problem.nSamples, b, replace)
        const [b2, r2] = minibatch(r1, problem.nSamples, b, replace)
        return [between(b1, b2), r2]
      },
      sampling.rng,
      sampling.opts,
    ),
  )(checkInputs(where, problem, w, lambda, b, replace))
}

/** A Monte Carlo variance at (w, λ) over minibatches of size b drawn from `rng`. */
export type BatchMonteCarlo = (
  problem: StochasticBilevelProblem,
  w: RVec,
  lambda: RVec,
  b: number,
  replace: boolean,
  rng: Rng,
  opts: MonteCarloOptions,
) => E.Either<HypergradError, ConfidenceInterval>

/**
 * Monte Carlo V[Φ̂(w, λ, B)] over minibatches B of size b drawn from `rng` (for problems where
 * the n per-sample evaluations of `varianceOfMap` are too costly), with a confidence interval.
 */
export const varianceOfMapMonteCarlo: BatchMonteCarlo = (problem, w, lambda, b, replace, rng, opts) =>
  overBatchPairs('varianceOfMapMonteCarlo', problem, w, lambda, { b, replace, rng, opts }, (b1, b2) =>
    halfSquaredDistance(problem.phiHat(w, lambda, b1), problem.phiHat(w, lambda, b2)),
  )

/**
 * Monte Carlo σ₁ = 2V[Φ̂(w*, λ, B)] (SID Thm 4.3) with a confidence interval (all ends doubled).
 * Use the upper end where a bound needs a σ₁ that holds with the stated confidence.
 */
export const sigma1MonteCarlo = (
  problem: StochasticBilevelProblem,
  lambda: RVec,
  wStar: RVec,
  b: number,
  replace: boolean,
  rng: Rng,
  opts: MonteCarloOptions,
): E.Either<HypergradError, ConfidenceInterval> =>
  E.map((ci: ConfidenceInterval) => ({ ...ci, estimate: 2 * ci.estimate, lower: 2 * ci.lower, upper: 2 * ci.upper, stdError: 2 * ci.stdError }))(
    varianceOfMapMonteCarlo(problem, wStar, lambda, b, replace, rng, opts),
  )

/**
 * Monte Carlo V[∂₂Φ̂(w, λ, B)] in the Frobenius norm (see `m2At`), with a confidence interval.
 * Each pair of draws costs 2d products with ∂₂Φ̂ᵀ, taken one row at a time: memory O(d + m).
 */
export const m2MonteCarlo: BatchMonteCarlo = (problem, w, lambda, b, replace, rng, opts) =>
  overBatchPairs('m2MonteCarlo', problem, w, lambda, { b, replace, rng, opts }, (b1, b2) => {
    const e = new Float64Array(problem.dim)
    let y = 0
    for (let j = 0; j < problem.dim; j++) {
      e.fill(0)
      e[j] = 1
      y += halfSquaredDistance(crossRow(problem, w, lambda, b1, e), crossRow(problem, w, lambda, b2, e))
    }
    return y
  })
