/**
 * The bilevel problem (SID paper eq. 1):  min_λ f(λ) = E(w(λ), λ),  w(λ) = Φ(w(λ), λ),
 * with Φ(·, λ) a contraction. Methods receive a problem and a λ; every derivative product is
 * written by hand per problem and checked by the laws (finite differences, adjointness).
 *
 * Conventions (used throughout the library and its docs):
 *   d = dim (size of w), m = hyperDim (size of λ).
 *   jvpW(w, λ, u)       = ∂₁Φ(w, λ) u        (d → d)
 *   vjpW(w, λ, v)       = ∂₁Φ(w, λ)ᵀ v       (d → d)
 *   jvpLambda(w, λ, μ)  = ∂₂Φ(w, λ) μ        (m → d)
 *   vjpLambda(w, λ, v)  = ∂₂Φ(w, λ)ᵀ v       (d → m)
 *   gradUpperW          = ∇₁E(w, λ) ∈ Rᵈ,  gradUpperLambda = ∇₂E(w, λ) ∈ Rᵐ.
 * Every function allocates its result and never writes to its arguments.
 */
import type * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'

export interface BilevelProblem {
  readonly name: string
  /** d: the dimension of the lower-level variable w. */
  readonly dim: number
  /** m: the number of hyperparameters. */
  readonly hyperDim: number
  /** True when ∂₁Φ(w, λ) is symmetric for every w, λ (so conjugate gradient applies). */
  readonly symmetric: boolean

  /** Check λ against the problem's domain (length, finiteness, positivity where needed). */
  checkLambda(lambda: RVec): E.Either<HypergradError, RVec>
  /** The contraction constant q_λ of Φ(·, λ) (or a safe over-estimate), q < 1 on the domain. */
  contraction(lambda: RVec): number

  phi(w: RVec, lambda: RVec): Vec
  jvpW(w: RVec, lambda: RVec, u: RVec): Vec
  vjpW(w: RVec, lambda: RVec, v: RVec): Vec
  jvpLambda(w: RVec, lambda: RVec, mu: RVec): Vec
  vjpLambda(w: RVec, lambda: RVec, v: RVec): Vec

  upper(w: RVec, lambda: RVec): number
  gradUpperW(w: RVec, lambda: RVec): Vec
  gradUpperLambda(w: RVec, lambda: RVec): Vec
}

/**
 * A minibatch: indices ζ ∈ {0, …, n−1} into a finite sum. The stochastic map with batch B is
 * the average of the per-sample maps over B, so that for B drawn uniformly (with or without
 * replacement) E[Φ̂(w, λ, B)] = Φ(w, λ) exactly (SID Assumption B(i)).
 */
export type Batch = Readonly<Int32Array>

/** A bilevel problem whose Φ = E[Φ̂(·, ·, ζ)] is a finite average over n samples (SID eq. 2). */
export interface StochasticBilevelProblem extends BilevelProblem {
  /** n: the number of samples ζ can take. */
  readonly nSamples: number
  /** True when Φ̂ separates as Φ̂₁(w, ζ) + Φ̂₂(w, λ) (SID eq. 15): then m₂ = 0. */
  readonly separable: boolean
  phiHat(w: RVec, lambda: RVec, batch: Batch): Vec
  jvpWHat(w: RVec, lambda: RVec, batch: Batch, u: RVec): Vec
  vjpWHat(w: RVec, lambda: RVec, batch: Batch, v: RVec): Vec
  vjpLambdaHat(w: RVec, lambda: RVec, batch: Batch, v: RVec): Vec
}

export const isStochastic = (p: BilevelProblem): p is StochasticBilevelProblem =>
  typeof (p as Partial<StochasticBilevelProblem>).phiHat === 'function'

/** A problem whose fixed point and hypergradient are known in closed form (test beds). */
export interface ClosedForm {
  /** w(λ), the exact fixed point. */
  solution(lambda: RVec): Vec
  /** ∇f(λ), the exact hypergradient. */
  hypergradient(lambda: RVec): Vec
}
