/**
 * Stochastic implicit differentiation (SID paper, Algorithm 1):
 *
 *   1. wₜ: t steps of a (stochastic) lower-level solver from w₀;
 *   2. vₖ: k steps of a (stochastic) solver for (I − ∂₁Φ(wₜ, λ)ᵀ)v = ∇₁E(wₜ, λ)   (eq. 6);
 *   3. ∇̂f(λ) = ∇₂E(wₜ, λ) + ∂₂Φ̂(wₜ, λ, ζ)ᵀvₖ                                       (eq. 8).
 *
 * The three sources of randomness are independent, as SID Assumption C requires: the lower
 * solver, the linear solver and the final draw ζ each get their own stream of
 * `split(seed(opts.seed), 3)` (`sidStreams`). Deterministic solvers are accepted too: with full-batch solvers
 * and the exact ∂₂Φ this is AID (the "Batch" variant of SID §6).
 *
 * The final term may use one minibatch draw ('one', eq. 8), the average of J independent draws
 * ({ draws: J }, variance m₂/J), or the exact ∂₂Φ ('exact'): SID §3's remedies for the variance
 * floor 2m₂L_E²/(1−q)² of eq. 14, at the cost of J·b/n or one full product.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { HypergradError } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import { isStochastic, type BilevelProblem } from '../problem/bilevel.js'
import {
  checkBatchSize,
  checkContraction,
  checkCount,
  checkInteger,
  checkLambda,
  checkStart,
  fail,
  shapeOfProblem,
  validateLinear,
  validateLower,
} from '../solvers/check.js'
import type { LinearSolver, LowerSolver } from '../solvers/types.js'
import { runImplicit, type FinalTerm } from './implicit.js'
import type { HypergradResult } from './types.js'

export { sidStreams } from './implicit.js'

/** How the final ∂₂Φ̂(wₜ, λ, ζ)ᵀvₖ is drawn (SID eq. 8 and the remedies of §3). */
export type FinalSamples = 'one' | { readonly draws: number } | 'exact'

/** Options of `sid` (Algorithm 1): the two solvers, their step counts, the final draw, the seed. */
export interface SidOptions {
  /** The solver for the lower-level fixed point (stochastic or not). */
  readonly lower: LowerSolver
  /** The solver for (I − ∂₁Φᵀ)v = ∇₁E at wₜ (stochastic or not). */
  readonly linear: LinearSolver
  /** Lower-level steps t ≥ 0. */
  readonly t: number
  /** Linear-system steps k ≥ 0. */
  readonly k: number
  /**
   * The final draw: 'one' minibatch (eq. 8), the mean of J draws, or the exact ∂₂Φ. Default:
   * 'one' when the lower solver is stochastic, 'exact' otherwise (and always 'exact' on a
   * problem without a stochastic map).
   */
  readonly finalSamples?: FinalSamples
  /**
   * Minibatch size of each final draw (1 ≤ b ≤ n). Default: the lower solver's batch size
   * when it has one, else the linear solver's, else 1.
   */
  readonly batchSize?: number
  /** The integer seed of the three independent streams. */
  readonly seed: number
  /** Lower start (default 0, as in SID §5). */
  readonly w0?: RVec
  /** Linear start (default 0, as in SID §5). */
  readonly v0?: RVec
}

/** The final term of a checked problem and options. */
const finalOf = (problem: BilevelProblem, opts: SidOptions): E.Either<HypergradError, FinalTerm> => {
  const who = 'sid'
  const fs: FinalSamples = opts.finalSamples ?? (opts.lower?.stochastic ? 'one' : 'exact')
  if (fs !== 'exact' && fs !== 'one' && (typeof fs !== 'object' || fs === null))
    return fail('config', who, `finalSamples must be 'one', 'exact' or { draws: J }, got ${String(fs)}`)
  const draws = fs === 'exact' || fs === 'one' ? E.right(1) : checkInteger(who, 'finalSamples.draws', fs.draws, 1)
  if (E.isLeft(draws)) return draws
  if (fs === 'exact' || !isStochastic(problem))
    return opts.batchSize === undefined ? E.right({ kind: 'exact' }) : E.map(() => ({ kind: 'exact' as const }))(checkInteger(who, 'batch size', opts.batchSize, 1))
  const b = opts.batchSize ?? opts.lower?.batchSize ?? opts.linear?.batchSize ?? 1
  return E.map((batchSize: number) => ({ kind: 'draws' as const, draws: draws.right, batchSize }))(checkBatchSize('sid (final draw)', b, problem.nSamples))
}

/**
 * SID, Algorithm 1 of the SID paper: ∇̂f(λ) = ∇₂E(wₜ, λ) + ∂₂Φ̂(wₜ, λ, ζ)ᵀvₖ (eq. 8), with wₜ
 * from t steps of `lower`, vₖ from k steps of `linear` on linearSystemAt(problem, λ, wₜ), and
 * the lower solver, the linear solver and ζ on the independent streams `sidStreams(seed)`.
 * Its mean square error obeys SID Thm 3.4 (eq. 13) given the solvers' rates ρ(t), σ(k).
 *
 * Validates (Left with a HypergradError): t, k integers ≥ 0; an integer seed; λ; q < 1; w₀, v₀
 * of length d and finite; both solvers against the problem (a stochastic solver only on a
 * stochastic problem, every batch size in [1, n], every step of the t (k) steps used positive
 * and finite); finalSamples.draws an integer ≥ 1.
 *
 * Result: the same as every method's (implicit.ts): 'maxIter' for fixed step counts,
 * 'converged' when a stopping rule (solvers.stopWhen) or a solver's own tolerance ended both
 * stages, or 'diverged' — the same blow-up test as aid's, so SGD with too large a step is
 * diverged, never a huge number. Counts are in full-map units (a minibatch of b counts b/n): the
 * solvers' own counts plus the final draw (J·b/n, or 1 for 'exact').
 */
export const sid = (problem: BilevelProblem, lambda: RVec, opts: SidOptions): E.Either<HypergradError, HypergradResult> => {
  const who = 'sid'
  return pipe(
    E.Do,
    E.apS('t', checkCount(who, 't', opts.t)),
    E.apS('k', checkCount(who, 'k', opts.k)),
    E.apS('seed', Number.isInteger(opts.seed) ? E.right(opts.seed) : fail('domain', who, `seed must be an integer, got ${opts.seed}`)),
    E.apS('lambda', checkLambda(who, problem, lambda)),
    E.chainFirst(({ lambda: lam }) => checkContraction(who, problem, lam)),
    E.apS('w0', checkStart(who, 'w0', opts.w0, problem.dim)),
    E.apS('v0', checkStart(who, 'v0', opts.v0, problem.dim)),
    E.chainFirst(({ t }) => validateLower(who, opts.lower, problem, t)),
    E.chainFirst(({ k }) => validateLinear(who, opts.linear, shapeOfProblem(problem), k)),
    E.apS('final', finalOf(problem, opts)),
    // The checked values are the plan: t, k, the seed, the starts and the final term.
    E.chain((c) => runImplicit(problem, c.lambda, { ...c, method: `sid(${opts.lower.name}, ${opts.linear.name})`, lower: opts.lower, linear: opts.linear, trueResidual: false })),
  )
}
