/**
 * Shared shapes of the solvers. A solver is a stream transformer: from a start and the stream
 * of its inputs (step sizes, minibatches drawn from an explicit RNG) to the stream of its
 * states. Each state carries the iterate, the iteration count and the residual the solver
 * monitors, so that stopping rules are plain stream combinators (takeUntil, take).
 */
import type { Vec } from '../linalg/types.js'
import type { Stream } from '../stream/stream.js'

export type Solver<In, S> = (start: S) => (inputs: Stream<In>) => Stream<S>

/** Divergence is data: a run ends converged, at its iteration cap, or diverged (non-finite or blown up). */
export type Status = 'converged' | 'maxIter' | 'diverged'

/** How many evaluations of Φ and of each derivative product a computation used. */
export interface Counts {
  /** Evaluations of Φ or Φ̂ (a minibatch evaluation counts as batchSize/n). */
  phi: number
  /** Products with ∂₁Φ or ∂₁Φᵀ (and their stochastic versions, weighted as for phi). */
  jacW: number
  /** Products with ∂₂Φ or ∂₂Φᵀ. */
  jacLambda: number
}

export const zeroCounts = (): Counts => ({ phi: 0, jacW: 0, jacLambda: 0 })

/** The outcome of running a solver to a stop. */
export interface SolveResult {
  readonly x: Vec
  readonly iterations: number
  /** The monitored residual after each iteration (index 0: at the start). */
  readonly residuals: Float64Array
  readonly status: Status
  readonly counts: Counts
}
