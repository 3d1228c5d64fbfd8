/**
 * Approximate implicit differentiation (AID; Grazzi et al. 2020, SID eq. 4–5 with
 * deterministic solvers). The hypergradient of f(λ) = E(w(λ), λ) is
 *
 *   ∇f(λ) = ∇₂E(w, λ) + ∂₂Φ(w, λ)ᵀ v,   (I − ∂₁Φ(w, λ)ᵀ) v = ∇₁E(w, λ),   w = w(λ)   (eq. 4–5),
 *
 * and AID replaces w(λ) by wₜ, t steps of a lower-level solver, and v by vₖ, k steps of a
 * linear solver on the system at wₜ (eq. 6), then returns ∇₂E(wₜ) + ∂₂Φ(wₜ)ᵀvₖ. Any
 * LowerMethod and LinearMethod can be plugged in: fixed point + fixed point is AID-FP,
 * fixed point + conjugate gradient is AID-CG.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { axpy, nrm2 } from '../linalg/kernels.js'
import type { RVec, Vec } from '../linalg/types.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { seed as rngSeed, split2 } from '../random/rng.js'
import { linearSystemAt } from '../solvers/linearSystem.js'
import { runLinear, runLower, trueResidual } from '../solvers/run.js'
import type { Counts, LinearMethod, LowerMethod, Status } from '../solvers/types.js'
import type { HypergradResult } from './types.js'
import {
  allFinite,
  checkContraction,
  checkCount,
  checkLambda,
  checkLinearMethod,
  checkLowerMethod,
  checkSeed,
  checkStart,
  checkTolerance,
} from './validate.js'

/** Options of AID. */
export interface AidOptions {
  /** The lower-level solver (e.g. fixedPointIteration(), heavyBall(…)). */
  readonly lower: LowerMethod
  /** The linear-system solver (e.g. fixedPointLinear(), conjugateGradient(), neumann()). */
  readonly linear: LinearMethod
  /** Lower-level steps (an integer ≥ 0); fewer when tolLower is met. */
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
  /** Seed for stochastic solvers (split into independent lower and linear streams); default 0. */
  readonly seed?: number
}

/** AID's result: a HypergradResult with the per-stage outcome and the true final linear residual. */
export interface AidResult extends HypergradResult {
  /** How each stage ended ('maxIter' for the linear stage when it was not run). */
  readonly stages: { readonly lower: Status; readonly linear: Status }
  /**
   * ‖(I − ∂₁Φ(wₜ)ᵀ)vₖ − ∇₁E(wₜ)‖ recomputed from scratch (one product) for the returned wₜ and
   * vₖ (after a lower-level divergence: for the last good wₜ and v₀). Conjugate gradient's
   * monitored residual is recursive and may drift from this one.
   */
  readonly linearResidual: number
  /** When diverged: what failed. */
  readonly reason?: string
}

const worst = (a: Status, b: Status): Status =>
  a === 'diverged' || b === 'diverged' ? 'diverged' : a === 'maxIter' || b === 'maxIter' ? 'maxIter' : 'converged'

const add = (a: Counts, b: Counts): Counts => ({ phi: a.phi + b.phi, jacW: a.jacW + b.jacW, jacLambda: a.jacLambda + b.jacLambda })

/**
 * AID: t steps of `lower` from w₀, then k steps of `linear` from v₀ on
 * (I − ∂₁Φ(wₜ, λ)ᵀ)v = ∇₁E(wₜ, λ) (SID eq. 6), then ∇̂f = ∇₂E(wₜ, λ) + ∂₂Φ(wₜ, λ)ᵀvₖ
 * (eq. 4 at wₜ, vₖ).
 *
 * Validates t, k (integers ≥ 0), λ (length, finiteness, the problem's domain), q < 1, w₀ and
 * v₀ (lengths, finiteness), the tolerances and the methods against the problem (conjugate
 * gradient on a non-symmetric problem is a 'domain' error), and returns a Left naming the
 * fault. Divergence of either stage (non-finite or blown-up iterates, see solvers/run.ts) is
 * data: status 'diverged' with `divergedAt` {stage, iter}; the gradient is then assembled from
 * the last finite iterates (after a lower-level divergence the linear stage is skipped and
 * v = v₀) and is NOT an estimate of ∇f. If even that gradient is not finite, the result is a
 * Left of kind 'divergence': a NaN never reaches the caller.
 *
 * Counts: the two stages' counts, one ∂₂Φᵀ product for the gradient, and the one ∂₁Φᵀ product
 * that recomputes the final linear residual. The result is fresh; no input is modified.
 */
export const aid = (problem: BilevelProblem, lambda: RVec, opts: AidOptions): E.Either<HypergradError, AidResult> => {
  const who = `aid(${opts.lower.name}, ${opts.linear.name})`
  const d = problem.dim
  const t = checkCount(who, 't', opts.t)
  if (E.isLeft(t)) return t
  const k = checkCount(who, 'k', opts.k)
  if (E.isLeft(k)) return k
  const lam = checkLambda(who, problem, lambda)
  if (E.isLeft(lam)) return lam
  const q = checkContraction(who, problem, lam.right)
  if (E.isLeft(q)) return q
  const w0 = checkStart(who, 'w₀', opts.w0, d)
  if (E.isLeft(w0)) return w0
  const v0 = checkStart(who, 'v₀', opts.v0, d)
  if (E.isLeft(v0)) return v0
  const tolLower = checkTolerance(who, 'tolLower', opts.tolLower)
  if (E.isLeft(tolLower)) return tolLower
  const tolLinear = checkTolerance(who, 'tolLinear', opts.tolLinear)
  if (E.isLeft(tolLinear)) return tolLinear
  const seed = checkSeed(who, opts.seed)
  if (E.isLeft(seed)) return seed
  const lm = checkLowerMethod(who, opts.lower, problem, t.right)
  if (E.isLeft(lm)) return lm
  const km = checkLinearMethod(who, opts.linear, problem, k.right)
  if (E.isLeft(km)) return km
  const L = lam.right

  const [rngLower, rngLinear] = split2(rngSeed(seed.right))
  const lowerRun = runLower(opts.lower.iterates(problem, L, w0.right, rngLower), {
    maxIter: t.right,
    ...(tolLower.right === undefined ? {} : { tol: tolLower.right }),
  })
  const w = lowerRun.state.w

  let v: RVec = v0.right
  let linearResiduals: Float64Array = new Float64Array(0)
  let linearStatus: Status = 'maxIter'
  let kRun = 0
  let linearResidual: number
  let counts = lowerRun.counts
  let divergedAt: AidResult['divergedAt']
  let reason = lowerRun.reason
  if (lowerRun.status === 'diverged') {
    divergedAt = { stage: 'lower', iter: lowerRun.divergedAt ?? lowerRun.iterations }
    linearResidual = trueResidual(linearSystemAt(problem, L, w), v)
    counts = add(counts, { phi: 0, jacW: 1, jacLambda: 0 })
  } else {
    const system = linearSystemAt(problem, L, w)
    const bNorm = nrm2(d, system.rhs, 1, 0)
    const linRun = runLinear(opts.linear.iterates(system, v0.right, rngLinear), {
      maxIter: k.right,
      system,
      ...(tolLinear.right === undefined ? {} : { tol: tolLinear.right * bNorm }),
    })
    v = linRun.state.v
    linearResiduals = linRun.residuals
    linearStatus = linRun.status
    kRun = linRun.iterations
    linearResidual = linRun.trueResidual ?? trueResidual(system, v)
    counts = add(add(counts, linRun.counts), { phi: 0, jacW: 1, jacLambda: 0 })
    if (linRun.status === 'diverged') {
      divergedAt = { stage: 'linear', iter: linRun.divergedAt ?? linRun.iterations }
      reason = linRun.reason
    }
  }

  // ∇̂f = ∇₂E(wₜ) + ∂₂Φ(wₜ)ᵀvₖ.
  const gradient: Vec = problem.gradUpperLambda(w, L)
  const cross = problem.vjpLambda(w, L, v)
  axpy(gradient.length, 1, cross, 1, 0, gradient, 1, 0)
  counts = add(counts, { phi: 0, jacW: 0, jacLambda: 1 })
  const status = worst(lowerRun.status, linearStatus)
  if (!allFinite(gradient))
    return E.left(
      hgError('divergence', `${who}: the hypergradient is not finite${divergedAt ? ` (${divergedAt.stage} stage diverged at iteration ${divergedAt.iter}: ${reason})` : ''}`),
    )
  return E.right({
    method: who,
    gradient,
    value: problem.upper(w, L),
    w: Float64Array.from(w),
    v: Float64Array.from(v),
    t: lowerRun.iterations,
    k: kRun,
    lowerResiduals: lowerRun.residuals,
    linearResiduals,
    counts,
    status,
    stages: { lower: lowerRun.status, linear: linearStatus },
    linearResidual,
    ...(divergedAt === undefined ? {} : { divergedAt, reason: reason ?? 'diverged' }),
  })
}
