/**
 * The run shared by every implicit method — aid, sid and exact (SID paper, Algorithm 1):
 *
 *   1. wₜ: t steps of a lower-level solver from w₀ (one driver: solvers/run.ts);
 *   2. vₖ: k steps of a linear solver on (I − ∂₁Φ(wₜ, λ)ᵀ)v = ∇₁E(wₜ, λ)   (SID eq. 6);
 *   3. ∇̂f(λ) = ∇₂E(wₜ, λ) + ∂₂Φ(wₜ, λ)ᵀvₖ (eq. 4 at wₜ, vₖ), or with the minibatch ∂₂Φ̂ᵀ of
 *      one or J independent draws (eq. 8 and SID §3's remedy for its variance).
 *
 * The lower solver, the linear solver and the final draw use the independent streams
 * `split(seed(s), 3)` (SID Assumption C). Divergence is handled once, here, for every method:
 * a stage whose run diverges (a non-finite or blown-up iterate or residual, a breakdown, a
 * singular system), a non-finite right-hand side ∇₁E(wₜ), or a non-finite assembled gradient
 * ends the computation with a diverged result (no gradient, no value; where and why). An
 * exception thrown by the problem's or a solver's code is a Left naming it.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import type { BilevelProblem, StochasticBilevelProblem } from '../problem/bilevel.js'
import { minibatch, seed as seedRng, split, type Rng } from '../random/rng.js'
import { faultOf } from '../solvers/check.js'
import { linearSystemAt, trueResidual } from '../solvers/linearSystem.js'
import { drive, type RunResult } from '../solvers/run.js'
import { addCounts } from '../solvers/solver.js'
import type { Counts, LinearSolver, LinearState, LowerSolver, LowerState, Status } from '../solvers/types.js'
import type { DivergedAt, HypergradDiverged, HypergradEstimate, HypergradResult } from './types.js'
import { isFiniteVec } from '../linalg/vector.js'

/** How the final ∂₂Φ̂(wₜ, λ, ζ)ᵀvₖ is drawn: the exact product, or the mean of J minibatch draws. */
export type FinalTerm = { readonly kind: 'exact' } | { readonly kind: 'draws'; readonly draws: number; readonly batchSize: number }

/** A checked plan of an implicit computation. */
export interface ImplicitPlan {
  readonly method: string
  readonly lower: LowerSolver
  readonly linear: LinearSolver
  readonly t: number
  readonly k: number
  readonly w0: RVec
  readonly v0: RVec
  /** Stop the lower stage once ‖Φ(wₜ) − wₜ‖ ≤ tolLower (absolute). */
  readonly tolLower?: number
  /** Stop the linear stage once its residual is ≤ tolLinear·‖∇₁E‖ (relative). */
  readonly tolLinear?: number
  readonly seed: number
  readonly final: FinalTerm
  /** Recompute the true residual of vₖ (one product, counted): aid and exact do. */
  readonly trueResidual: boolean
}

/**
 * The three independent streams of a seed: [lower solver, linear solver, final draw] =
 * split(seed(s), 3). Exposed so that a run can be reproduced stage by stage.
 */
export const sidStreams = (s: number): readonly [Rng, Rng, Rng] => {
  const [a, b, c] = split(seedRng(s), 3)
  return [a!, b!, c!]
}

const worst = (a: Status, b: Status): Status =>
  a === 'diverged' || b === 'diverged' ? 'diverged' : a === 'maxIter' || b === 'maxIter' ? 'maxIter' : 'converged'

/** The fields of a result before its outcome. */
type Common = Omit<HypergradEstimate, 'status' | 'gradient' | 'value' | 'reason'>

/** An estimate whose `value` E(w, λ) is computed on first read, from private copies of w and λ. */
export const estimate = (common: Common, status: 'converged' | 'maxIter', gradient: Vec, upper: () => number, reason?: string): HypergradEstimate => {
  let value: number | undefined
  return {
    ...common,
    status,
    gradient,
    get value(): number {
      if (value === undefined) value = upper()
      return value
    },
    ...(reason === undefined ? {} : { reason }),
  }
}

/** A diverged result. */
export const diverged = (common: Common, divergedAt: DivergedAt, reason: string): HypergradDiverged => ({
  ...common,
  status: 'diverged',
  gradient: null,
  value: null,
  divergedAt,
  reason,
})

/** The diverged result of a stage's run (or the estimate's common fields when it did not diverge). */
export const stageDiverged = <S>(stage: 'lower' | 'linear', run: RunResult<S>): { divergedAt: DivergedAt; reason: string } | undefined =>
  run.status === 'diverged' ? { divergedAt: { stage, iter: run.divergedAt ?? run.iterations }, reason: run.reason ?? 'diverged' } : undefined

const finalTerm = (problem: BilevelProblem, lambda: RVec, w: RVec, v: RVec, final: FinalTerm, rng: Rng): { readonly g: Vec; readonly counts: Counts } => {
  if (final.kind === 'exact') return { g: problem.vjpLambda(w, lambda, v), counts: { phi: 0, jacW: 0, jacLambda: 1 } }
  const sp = problem as StochasticBilevelProblem
  const n = sp.nSamples
  const m = problem.hyperDim
  let r = rng
  const acc = new Float64Array(m)
  for (let j = 0; j < final.draws; j++) {
    const [batch, next] = minibatch(r, n, final.batchSize)
    r = next
    const g = sp.vjpLambdaHat(w, lambda, batch, v)
    for (let i = 0; i < m; i++) acc[i] = acc[i]! + g[i]!
  }
  if (final.draws !== 1) for (let i = 0; i < m; i++) acc[i] = acc[i]! / final.draws
  return { g: acc, counts: { phi: 0, jacW: 0, jacLambda: (final.draws * final.batchSize) / n } }
}

/**
 * Run a checked plan (the caller validated λ, the solvers, the counts and the starts) at λ (a
 * private copy). See the module comment.
 */
export const runImplicit = (problem: BilevelProblem, lambda: Vec, plan: ImplicitPlan): E.Either<HypergradError, HypergradResult> => {
  try {
    return compute(problem, lambda, plan)
  } catch (e) {
    return E.left(faultOf(plan.method, e))
  }
}

const compute = (problem: BilevelProblem, lambda: Vec, plan: ImplicitPlan): E.Either<HypergradError, HypergradResult> => {
  const [rLower, rLinear, rFinal] = sidStreams(plan.seed)
  const upper = (w: RVec) => {
    const wAt = Float64Array.from(w)
    const lamAt = Float64Array.from(lambda)
    return () => problem.upper(wAt, lamAt)
  }

  // 1. wₜ.
  const lowerRun = drive(plan.lower, { problem, lambda }, plan.w0, rLower, { maxIter: plan.t, ...(plan.tolLower === undefined ? {} : { tol: plan.tolLower }) }, (s: LowerState) => s.w, 0)
  if (E.isLeft(lowerRun)) return lowerRun
  const lr = lowerRun.right
  const w = lr.state.w
  const common = (v: RVec, k: number, linearResiduals: Float64Array, linearStatus: Status, counts: Counts, extra: Partial<Common> = {}): Common => ({
    method: plan.method,
    w: Float64Array.from(w),
    v: Float64Array.from(v),
    t: lr.iterations,
    k,
    lowerResiduals: lr.residuals,
    linearResiduals,
    counts,
    stages: { lower: lr.status, linear: linearStatus },
    ...extra,
  })
  const lowerFailure = stageDiverged('lower', lr)
  if (lowerFailure !== undefined) return E.right(diverged(common(plan.v0, 0, new Float64Array(0), 'maxIter', lr.counts), lowerFailure.divergedAt, lowerFailure.reason))

  // 2. vₖ on the system at wₜ.
  const system = linearSystemAt(problem, lambda, w)
  if (!isFiniteVec(system.rhs))
    return E.right(diverged(common(plan.v0, 0, new Float64Array(0), 'diverged', lr.counts), { stage: 'linear', iter: 0 }, '∇₁E(wₜ, λ), the right-hand side of the linear system, is not finite'))
  let bNorm = 0
  for (let i = 0; i < system.rhs.length; i++) bNorm += system.rhs[i]! * system.rhs[i]!
  bNorm = Math.sqrt(bNorm)
  const linRun = drive(
    plan.linear,
    system,
    plan.v0,
    rLinear,
    { maxIter: plan.k, ...(plan.tolLinear === undefined ? {} : { tol: plan.tolLinear * bNorm }) },
    (s: LinearState) => s.v,
    bNorm,
  )
  if (E.isLeft(linRun)) return linRun
  const kr = linRun.right
  const v = kr.state.v
  let counts = addCounts(lr.counts, kr.counts)
  let linearResidual: number | undefined
  if (plan.trueResidual) {
    linearResidual = trueResidual(system, v)
    counts = addCounts(counts, { phi: 0, jacW: 1, jacLambda: 0 })
  }
  const extra = linearResidual === undefined ? {} : { linearResidual }
  const linearFailure = stageDiverged('linear', kr)
  if (linearFailure !== undefined) return E.right(diverged(common(v, kr.iterations, kr.residuals, kr.status, counts, extra), linearFailure.divergedAt, linearFailure.reason))

  // 3. ∇₂E(wₜ) + ∂₂Φ(wₜ)ᵀvₖ (or its minibatch draws).
  const gradient = problem.gradUpperLambda(w, lambda)
  const term = finalTerm(problem, lambda, w, v, plan.final, rFinal)
  for (let i = 0; i < gradient.length; i++) gradient[i] = gradient[i]! + term.g[i]!
  counts = addCounts(counts, term.counts)
  const base = common(v, kr.iterations, kr.residuals, kr.status, counts, extra)
  if (!isFiniteVec(gradient)) return E.right(diverged(base, { stage: 'gradient', iter: kr.iterations }, 'the assembled hypergradient ∇₂E + ∂₂Φᵀv is not finite'))
  const status = worst(lr.status, kr.status) as 'converged' | 'maxIter'
  const reasons = [lr.reason, kr.reason].filter((r): r is string => r !== undefined)
  return E.right(estimate(base, status, gradient, upper(w), reasons.length === 0 ? undefined : reasons.join('; ')))
}

