/** What every hypergradient method returns. */
import type { Vec } from '../linalg/types.js'
import type { Counts, Status } from '../solvers/types.js'

export interface HypergradResult {
  /** Which method and solvers produced it, e.g. "aid(gd, cg)" or "itd-reverse". */
  readonly method: string
  /** The estimate ∇̂f(λ) ∈ Rᵐ. */
  readonly gradient: Vec
  /** E(wₜ, λ): the upper objective at the final lower iterate. */
  readonly value: number
  /** The final lower iterate wₜ. */
  readonly w: Vec
  /** The final linear-system iterate vₖ (AID/SID), or the back-propagated adjoint (ITD). */
  readonly v: Vec
  /** Iterations run on the lower problem (t) and on the linear system (k). */
  readonly t: number
  readonly k: number
  /** ‖Φ(wᵢ, λ) − wᵢ‖ for i = 0..t where computed (empty for stochastic solvers). */
  readonly lowerResiduals: Float64Array
  /** ‖(I − ∂₁Φᵀ)vⱼ − ∇₁E‖ for j = 0..k where computed. */
  readonly linearResiduals: Float64Array
  /** Evaluations of Φ and derivative products. */
  readonly counts: Counts
  /** converged: both stopping tolerances met; maxIter: a cap was hit; diverged: non-finite or blown-up iterates. */
  readonly status: Status
  /** When diverged: which stage and at which iteration. */
  readonly divergedAt?: { readonly stage: 'lower' | 'linear'; readonly iter: number }
  /** Peak number of d-vectors held (ITD reverse stores t of them). */
  readonly memoryVectors?: number
}
