/**
 * Empirical risk minimization with every product derived by the `ad` engine: the user writes
 * the lower objective ℓ(w, λ, batch) and the upper objective E(w, λ) once, with the engine's
 * operations, and gets the stochastic bilevel problem of SID eq. (3),
 *
 *   Φ(w, λ) = w − α∇₁ℓ(w, λ),   Φ̂(w, λ, B) = w − α∇₁ℓ̂(w, λ, B),
 *
 * built by `ermProblem` (src/problem/erm.ts) from objectives whose gradients, Hessian-vector
 * products and cross terms ∇²_wλ ℓ μ, (∇²_wλ ℓ)ᵀv come from the engine (exact, by
 * forward-over-reverse). It plugs into aid, itd, sid, exact, tune and checkProblem as the
 * hand-written problems do.
 *
 * On a minibatch, ℓ̂ must be the unbiased estimate of ℓ: write the sum over the samples of
 * `batch.rows(…)`, scaled by `batch.scale` (= n/|B|, 1 for the full sum), plus the terms that do
 * not involve samples (checkProblem's unbiasedness law checks it).
 *
 * Constants. τ and L bound the curvature of ℓ(·, λ) (τI ⪯ ∇²_ww ℓ ⪯ LI for every w). Give them
 * when you know them (`tau`, `L`: a strongly convex regularizer's weight, say); otherwise they
 * are estimated by power iteration on the Hessian at `curvatureAt` (default w = 0; see
 * `curvatureAt` in constants.ts), L inflated by 1e-8 relative. Estimates are local: they bound
 * the curvature at that point only (exact for quadratic ℓ; for a logistic loss the Hessian is
 * largest at w = 0, so the L there bounds every w, but τ does not).
 */
import * as E from 'fp-ts/lib/Either.js'
import { scalarFunction } from '../ad/scalarFunction.js'
import type { FunctionSpec, InputShape, Recorder } from '../ad/tapes.js'
import type { Node } from '../ad/node.js'
import { hgError, orThrow, type HypergradError } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import { atLambda0, checkStart, finiteLambda, firstFailure, lastValue } from './adChecks.js'
import { AdLowerObjective, AdUpperObjective, type Curvature } from './adObjectives.js'
import { curvatureAt, powerIteration } from './constants.js'
import { ermProblem, optimalStep, type ErmProblem } from './erm.js'

/** Options of `adErmProblem`. */
export interface AdErmOptions {
  /** The shape of w: its length d, or [rows, cols] (w is the row-major flattening). */
  readonly dim: InputShape
  /** The shape of λ. */
  readonly hyperDim: InputShape
  /** n, the number of samples of the finite sum (minibatch indices range over [0, n)). */
  readonly nSamples: number
  /** ℓ(w, λ, batch), a scalar; on a minibatch, the unbiased estimate (see the module comment). */
  readonly lower: Recorder
  /** E(w, λ), a scalar. */
  readonly upper: (w: Node, lambda: Node) => Node | number
  /** A hyperparameter in the domain: the functions are checked there, and α defaults to 2/(L+τ) there. */
  readonly lambda0: RVec
  /** The domain of λ (default: the right length, every entry finite). */
  readonly checkLambda?: (lambda: RVec) => E.Either<HypergradError, RVec>
  /** τ(λ) ≤ the smallest eigenvalue of ∇²_ww ℓ(w, λ) for every w (default: estimated, see the module comment). */
  readonly tau?: (lambda: RVec) => number
  /** L(λ) ≥ the largest eigenvalue of ∇²_ww ℓ(w, λ) for every w (default: estimated). */
  readonly L?: (lambda: RVec) => number
  /** Where τ and L are estimated when not given (default w = 0). */
  readonly curvatureAt?: RVec
  /** The step α of Φ = w − α∇ℓ (default 2/(L+τ) at λ₀, SID §6 footnote 3). */
  readonly alpha?: number
  /** True when ∇²_wλ ℓ̂ does not depend on the batch (λ enters only terms without samples: SID eq. 15). Default false. */
  readonly separable?: boolean
  /** Seed of the power iterations (default 0). */
  readonly seed?: number
  readonly name?: string
}

const L_MARGIN = 1e-8

/**
 * The ERM bilevel problem of ℓ and E written with the engine (see the module comment). Left on
 * a recording error (a shape mismatch, a non-scalar result), a bad option, a λ₀ outside the
 * domain, a function that fails at the start point, or curvature estimates that are not
 * 0 < τ ≤ L < ∞.
 */
export const adErmProblem = (opts: AdErmOptions): E.Either<HypergradError, ErmProblem> => {
  const name = opts.name ?? 'adErm'
  if (!(Number.isInteger(opts.nSamples) && opts.nSamples >= 1))
    return E.left(hgError('config', `${name}: nSamples must be a positive integer, got ${opts.nSamples}`))
  const spec: FunctionSpec = { w: opts.dim, lambda: opts.hyperDim, nSamples: opts.nSamples, name: `${name}.lower` }
  const lowerFn = scalarFunction(spec, opts.lower)
  if (E.isLeft(lowerFn)) return lowerFn
  const upperFn = scalarFunction({ w: opts.dim, lambda: opts.hyperDim, name: `${name}.upper` }, (w, l) => opts.upper(w, l))
  if (E.isLeft(upperFn)) return upperFn
  const d = lowerFn.right.wSize
  const m = lowerFn.right.lambdaSize
  const check = opts.checkLambda ?? finiteLambda(name, m)
  const start = checkStart({ name, d, m, lambda0: opts.lambda0, checkLambda: check, start: opts.curvatureAt, startName: 'curvatureAt', seed: opts.seed })
  if (E.isLeft(start)) return start
  const { w0, rng } = start.right
  // The functions must work at the start point.
  const probed = firstFailure(name, 'w = curvatureAt and λ₀', [lowerFn.right.gradient(w0, opts.lambda0), lowerFn.right.hvp(w0, opts.lambda0, w0), upperFn.right.gradient(w0, opts.lambda0)])
  if (E.isLeft(probed)) return probed
  let lower: AdLowerObjective
  const estimate: Curvature = (lambda) => {
    const given = { tau: opts.tau?.(lambda), L: opts.L?.(lambda) }
    if (given.tau !== undefined && given.L !== undefined) return { tau: given.tau, L: given.L }
    if (given.tau !== undefined) {
      const L = orThrow(powerIteration((u) => lower.hvp(w0, lambda, u), d, rng)).value * (1 + L_MARGIN)
      return { tau: given.tau, L }
    }
    const c = orThrow(curvatureAt(lower, w0, lambda, rng))
    return { tau: c.tau, L: given.L ?? c.L * (1 + L_MARGIN) }
  }
  lower = new AdLowerObjective(lowerFn.right, name, opts.separable ?? false, check, lastValue(estimate))
  const upper = new AdUpperObjective(upperFn.right)
  let c: { readonly tau: number; readonly L: number } = { tau: Number.NaN, L: Number.NaN }
  const estimated = atLambda0(name, 'curvature estimate', () => ((c = lower.curvature(opts.lambda0)), c.L))
  if (E.isLeft(estimated)) return estimated
  if (!(Number.isFinite(c.tau) && Number.isFinite(c.L) && c.tau > 0 && c.tau <= c.L))
    return E.left(hgError('domain', `${name}: need 0 < τ ≤ L < ∞ at λ₀ (ℓ strongly convex and smooth), got τ = ${c.tau}, L = ${c.L}`))
  const alpha = opts.alpha ?? optimalStep(c)
  return ermProblem(lower, upper, { alpha, name })
}
