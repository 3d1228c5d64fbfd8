/**
 * Approximate implicit differentiation (AID; Grazzi et al. 2020, SID eq. 4–5 with
 * deterministic solvers). The hypergradient of f(λ) = E(w(λ), λ) is
 *
 *   ∇f(λ) = ∇₂E(w, λ) + ∂₂Φ(w, λ)ᵀ v,   (I − ∂₁Φ(w, λ)ᵀ) v = ∇₁E(w, λ),   w = w(λ)   (eq. 4–5),
 *
 * and AID replaces w(λ) by wₜ, t steps of a lower-level solver, and v by vₖ, k steps of a
 * linear solver on the system at wₜ (eq. 6), then returns ∇₂E(wₜ) + ∂₂Φ(wₜ)ᵀvₖ. Any lower and
 * linear solver plugs in (combinators included): fixed point + fixed point is AID-FP, fixed
 * point + conjugate gradient is AID-CG.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { HypergradError } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { checkContraction, checkCount, checkLambda, checkSeed, checkStart, checkTolerance, shapeOfProblem, validateLinear, validateLower } from '../solvers/check.js'
import type { LinearSolver, LowerSolver } from '../solvers/types.js'
import { runImplicit } from './implicit.js'
import type { HypergradResult } from './types.js'

/** Options of AID. */
export interface AidOptions {
  /** The lower-level solver (e.g. solvers.lower.fixedPointIteration(), heavyBall(…)). */
  readonly lower: LowerSolver
  /** The linear-system solver (e.g. fixedPointLinear(), conjugateGradient(), neumann()). */
  readonly linear: LinearSolver
  /** Lower-level steps (an integer ≥ 0); fewer when tolLower is met or the solver stops itself. */
  readonly t: number
  /** Linear-system steps (an integer ≥ 0); fewer when tolLinear is met or the solver stops itself. */
  readonly k: number
  /** Lower-level start; default 0. */
  readonly w0?: RVec
  /** Linear-system start; default 0. */
  readonly v0?: RVec
  /** Stop the lower solver once ‖Φ(wₜ, λ) − wₜ‖ ≤ tolLower (absolute). */
  readonly tolLower?: number
  /** Stop the linear solver once ‖(I − ∂₁Φᵀ)vₖ − ∇₁E‖ ≤ tolLinear·‖∇₁E‖ (relative). */
  readonly tolLinear?: number
  /** Seed for stochastic solvers (the lower and linear streams of `sidStreams`); default 0. */
  readonly seed?: number
}

/**
 * AID: t steps of `lower` from w₀, then k steps of `linear` from v₀ on
 * (I − ∂₁Φ(wₜ, λ)ᵀ)v = ∇₁E(wₜ, λ) (SID eq. 6), then ∇̂f = ∇₂E(wₜ, λ) + ∂₂Φ(wₜ, λ)ᵀvₖ.
 *
 * Validates, before any work, t and k (integers ≥ 0), λ (length, finiteness, the problem's
 * domain), q < 1, w₀ and v₀ (lengths, finiteness), the tolerances, the seed and both solvers
 * against the problem (conjugate gradient on a non-symmetric problem is a 'domain' error):
 * a Left naming the fault. Divergence of either stage is a diverged result (implicit.ts).
 * Status 'converged' when both stages met their tolerances (or stopped themselves), 'maxIter'
 * otherwise. Counts: both stages, the product that recomputes the final linear residual, and
 * one ∂₂Φᵀ product. No input is modified.
 */
export const aid = (problem: BilevelProblem, lambda: RVec, opts: AidOptions): E.Either<HypergradError, HypergradResult> => {
  const who = `aid(${opts.lower?.name}, ${opts.linear?.name})`
  return pipe(
    E.Do,
    E.apS('t', checkCount(who, 't', opts.t)),
    E.apS('k', checkCount(who, 'k', opts.k)),
    E.apS('lambda', checkLambda(who, problem, lambda)),
    E.chainFirst(({ lambda: lam }) => checkContraction(who, problem, lam)),
    E.apS('w0', checkStart(who, 'w₀', opts.w0, problem.dim)),
    E.apS('v0', checkStart(who, 'v₀', opts.v0, problem.dim)),
    E.apS('tolLower', checkTolerance(who, 'tolLower', opts.tolLower)),
    E.apS('tolLinear', checkTolerance(who, 'tolLinear', opts.tolLinear)),
    E.apS('seed', checkSeed(who, opts.seed)),
    E.chainFirst(({ t }) => validateLower(who, opts.lower, problem, t)),
    E.chainFirst(({ k }) => validateLinear(who, opts.linear, shapeOfProblem(problem), k)),
    // The checked values are the plan: t, k, the starts, the tolerances and the seed.
    E.chain((c) => runImplicit(problem, c.lambda, { ...c, method: who, lower: opts.lower, linear: opts.linear, final: { kind: 'exact' }, trueResidual: true })),
  )
}
