/**
 * What every hypergradient method returns: an estimate (status 'converged' or 'maxIter') or a
 * divergence (status 'diverged'), told apart by `status`. A diverged result carries no number
 * that could be mistaken for an estimate: its `gradient` and `value` are null, and it says
 * where it diverged and why. Bad input never reaches a result: it is a Left before any work.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import type { Vec } from '../linalg/types.js'
import type { Counts, Status } from '../solvers/types.js'

/** Where a computation diverged: the lower stage, the linear stage, or the final assembly of ∇̂f. */
export interface DivergedAt {
  readonly stage: 'lower' | 'linear' | 'gradient'
  readonly iter: number
}

/** The fields every result has. */
export interface ResultBase {
  /** Which method and solvers produced it, e.g. "aid(fp, cg)" or "itd-reverse". */
  readonly method: string
  /** The final lower iterate wₜ (after a divergence: the last finite one). */
  readonly w: Vec
  /** The final linear-system iterate vₖ (AID/SID), or the back-propagated adjoint (ITD). */
  readonly v: Vec
  /** Iterations run on the lower problem (t) and on the linear system (k). */
  readonly t: number
  readonly k: number
  /** ‖Φ(wᵢ, λ) − wᵢ‖ for i = 0..t where computed (empty for stochastic solvers). */
  readonly lowerResiduals: Float64Array
  /** The linear solver's monitored residuals for j = 0..k where computed. */
  readonly linearResiduals: Float64Array
  /** Evaluations of Φ and derivative products. */
  readonly counts: Counts
  /** How each stage ended ('maxIter' for a stage that was not run). */
  readonly stages: { readonly lower: Status; readonly linear: Status }
  /**
   * ‖(I − ∂₁Φ(wₜ)ᵀ)vₖ − ∇₁E(wₜ)‖ recomputed from scratch (one product) for the returned wₜ and
   * vₖ, when the method computes it (aid, exact).
   */
  readonly linearResidual?: number
  /** Peak number of d-vectors held (ITD reverse stores t of them). */
  readonly memoryVectors?: number
}

/** An estimate ∇̂f(λ). */
export interface HypergradEstimate extends ResultBase {
  /** converged: every stopping test met; maxIter: a cap was hit (or a solver stalled: see reason). */
  readonly status: 'converged' | 'maxIter'
  /** The estimate ∇̂f(λ) ∈ Rᵐ. */
  readonly gradient: Vec
  /** E(wₜ, λ): the upper objective at the final lower iterate (computed on first read). */
  readonly value: number
  /** Why a stage ended short of its cap or its tolerance (a stall, a stopping rule), when it did. */
  readonly reason?: string
}

/** A divergence: no estimate. */
export interface HypergradDiverged extends ResultBase {
  readonly status: 'diverged'
  readonly gradient: null
  readonly value: null
  readonly divergedAt: DivergedAt
  /** What failed (a non-finite or blown-up iterate, a breakdown, a singular system). */
  readonly reason: string
}

export type HypergradResult = HypergradEstimate | HypergradDiverged

/** True for an estimate (narrows away the diverged case). */
export const isEstimate = <R extends HypergradResult>(r: R): r is Extract<R, { status: 'converged' | 'maxIter' }> => r.status !== 'diverged'

/**
 * A method's result as an estimate or an error: a diverged result becomes a Left of kind
 * 'divergence' naming the stage, the iteration and the reason (for callers that want a number or
 * an error, e.g. `orThrow(asEstimate(aid(…)))`).
 */
export const asEstimate = <R extends HypergradResult>(e: E.Either<HypergradError, R>): E.Either<HypergradError, Extract<R, { status: 'converged' | 'maxIter' }>> =>
  E.chain((r: R) =>
    r.status === 'diverged'
      ? E.left(hgError('divergence', `${r.method} diverged at the ${r.divergedAt.stage} stage, iteration ${r.divergedAt.iter}: ${r.reason}`))
      : E.right(r as Extract<R, { status: 'converged' | 'maxIter' }>),
  )(e)
