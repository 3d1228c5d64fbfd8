/**
 * The stochastic Neumann-series estimator of the solution of (I − ∂₁Φᵀ)v = b, b = ∇₁E (Ghadimi &
 * Wang 2018; SID paper, footnote 1): one estimate draws a truncation length K uniform in
 * {0, …, N−1} and K independent minibatches, and returns v̂ = η N M̂_K ⋯ M̂₁ b with
 * M̂ᵢ = I − η(I − ∂₁Φ̂(Bᵢ)ᵀ). It is unbiased for the N-term truncated series v_N, not for v
 * (docs/theory/solvers.md §4); the solver averages estimates.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../../errors.js'
import { assertDim, type RVec, type Vec } from '../../linalg/types.js'
import type { Batch } from '../../problem/bilevel.js'
import { integer, minibatch, type Rng } from '../../random/rng.js'
import { checkInteger, checkPositive, checkStochasticShape, fail, firstOf } from '../check.js'
import { complementHatOf } from '../linearSystem.js'
import type { LinearSolver, LinearState, LinearSystem } from '../types.js'
import { minibatches } from '../solver.js'

/** Options of `stochasticNeumann` (and of one draw, `neumannDraw`). */
export interface StochasticNeumannOptions {
  /** N: the number of terms of the truncated series the estimate is unbiased for (≥ 1). */
  readonly maxTerms: number
  /** The relaxation η of M = I − η(I − ∂₁Φᵀ) (default 1, where M = ∂₁Φᵀ). */
  readonly eta?: number
  /** Minibatch size b of each factor M̂ᵢ. */
  readonly batchSize: number
  /** Draw with replacement (default: without). */
  readonly replace?: boolean
}

/**
 * η · N · M̂_K ⋯ M̂₁ b for the given minibatches (K = batches.length, applied first to last),
 * M̂ᵢ = I − η(I − ∂₁Φ̂(Bᵢ)ᵀ): the estimate for one draw of K and B₁, …, B_K. Pure; exposed so
 * that the estimator's expectation can be computed by enumerating draws. Left for a system
 * without minibatch operators.
 */
export const neumannProduct = (system: LinearSystem, batches: ReadonlyArray<Batch>, eta: number, maxTerms: number): E.Either<HypergradError, Vec> => {
  const hat = complementHatOf(system)
  if (hat === undefined) return fail('config', 'neumannProduct', 'the system has no minibatch operators')
  return E.right(product(hat, system, batches, eta, maxTerms))
}

const product = (hat: (b: Batch, v: RVec) => Vec, system: LinearSystem, batches: ReadonlyArray<Batch>, eta: number, maxTerms: number): Vec => {
  const d = system.dim
  let u: Vec = Float64Array.from(system.rhs)
  for (const batch of batches) {
    const ju = hat(batch, u)
    assertDim('neumannProduct: ∂₁Φ̂ᵀv', d, ju.length)
    for (let i = 0; i < d; i++) ju[i] = u[i]! - eta * (u[i]! - ju[i]!)
    u = ju
  }
  const c = eta * maxTerms
  for (let i = 0; i < d; i++) u[i] = c * u[i]!
  return u
}

/** One draw: the estimate, its number of products K, and the advanced Rng. */
export interface NeumannDraw {
  readonly estimate: Vec
  readonly products: number
  readonly rng: Rng
}

const draw = (system: LinearSystem, o: { maxTerms: number; eta: number; batchSize: number; replace: boolean }, rng: Rng): NeumannDraw => {
  const n = system.nSamples!
  const [K, r0] = integer(rng, 0, o.maxTerms - 1)
  let r = r0
  const batches: Batch[] = []
  for (let i = 0; i < K; i++) {
    const [batch, next] = minibatch(r, n, o.batchSize, o.replace)
    batches.push(batch)
    r = next
  }
  return { estimate: product(complementHatOf(system)!, system, batches, o.eta, o.maxTerms), products: K, rng: r }
}

/** A stochastic Neumann state: the running sum of the estimates (vₖ is their mean) and the products made. */
export interface StochasticNeumannState extends LinearState {
  readonly sum: RVec
  readonly products: number
}

const checkOptions = (name: string, o: Partial<StochasticNeumannOptions>, eta: number) =>
  firstOf(
    () => checkInteger(name, 'maxTerms', o.maxTerms as number, 1),
    () => checkPositive(name, 'relaxation η', eta),
  )

/**
 * One estimate v̂ (see the file comment) from `rng`: the estimate, its number of products K,
 * and the advanced Rng. Left for bad options or a system without minibatch operators.
 */
export const neumannDraw = (system: LinearSystem, opts: StochasticNeumannOptions, rng: Rng): E.Either<HypergradError, NeumannDraw> => {
  const eta = opts.eta ?? 1
  const c = firstOf(
    () => checkOptions('neumannDraw', opts, eta),
    () => checkStochasticShape('neumannDraw', { stochastic: system.matvecHat !== undefined && system.nSamples !== undefined, symmetric: system.symmetric, ...(system.nSamples === undefined ? {} : { nSamples: system.nSamples }) }, opts.batchSize, opts.replace),
  )
  if (E.isLeft(c)) return c
  return E.right(draw(system, { maxTerms: opts.maxTerms, eta, batchSize: opts.batchSize, replace: opts.replace ?? false }, rng))
}

/**
 * The stochastic Neumann estimator as a linear solver: state 0 is the start v₀ (otherwise
 * unused), and state k ≥ 1 is the average of k independent estimates v̂ (so E[vₖ] = v_N, the
 * N-term truncated series, and its variance falls as 1/k). An estimate costs K minibatch
 * products, (N−1)/2 on average: counts.jacW adds K·b/n.
 */
export const stochasticNeumann = (opts: StochasticNeumannOptions): LinearSolver<StochasticNeumannState> => {
  const maxTerms = opts?.maxTerms
  const batchSize = opts?.batchSize
  const replace = opts?.replace ?? false
  const eta = opts?.eta ?? 1
  const name = `stochastic-neumann(N=${maxTerms}, η=${eta}, b=${batchSize})`
  const o = { maxTerms, eta, batchSize, replace }
  return {
    ...minibatches('linear', name, batchSize),
    check: (shape) =>
      firstOf(
        () => checkOptions(name, opts ?? {}, eta),
        () => checkStochasticShape(name, shape, batchSize, replace),
      ),
    init: (system, v0, rng) => ({
      v: Float64Array.from(v0),
      iter: 0,
      rng,
      sum: new Float64Array(system.dim),
      products: 0,
      counts: { phi: 0, jacW: 0, jacLambda: 0 },
    }),
    step: (system, s) => {
      const d = system.dim
      const k = s.iter + 1
      const dr = draw(system, o, s.rng)
      const products = s.products + dr.products
      const est = dr.estimate
      const sum = new Float64Array(d)
      for (let i = 0; i < d; i++) sum[i] = s.sum[i]! + est[i]!
      const v = new Float64Array(d)
      for (let i = 0; i < d; i++) v[i] = sum[i]! / k
      return { v, iter: k, rng: dr.rng, sum, products, counts: { phi: 0, jacW: (products * batchSize) / system.nSamples!, jacLambda: 0 } }
    },
  }
}
