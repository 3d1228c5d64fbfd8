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

/** A state of a lower-level solver: the iterate wₜ and, where the solver computes it, ‖Φ(wₜ, λ) − wₜ‖. */
export interface LowerState {
  readonly w: Vec
  readonly iter: number
  /** ‖Φ(wₜ, λ) − wₜ‖ when the solver evaluates the full map (deterministic solvers); undefined otherwise. */
  readonly residual?: number
  /** Work done so far (cumulative). */
  readonly counts: Counts
}

/** A state of a linear-system solver: the iterate vₖ and, where computed, ‖(I − ∂₁Φᵀ)vₖ − b‖. */
export interface LinearState {
  readonly v: Vec
  readonly iter: number
  readonly residual?: number
  readonly counts: Counts
}

/**
 * The linear system of AID/SID at a fixed lower iterate w (SID eq. 6/7):
 *   (I − ∂₁Φ(w, λ)ᵀ) v = b,  b = ∇₁E(w, λ).
 * Deterministic solvers use `applyJT`; stochastic ones `applyJTHat` on minibatches.
 */
export interface LinearSystem {
  readonly dim: number
  /** v ↦ ∂₁Φ(w, λ)ᵀ v. */
  readonly applyJT: (v: Readonly<Float64Array>) => Vec
  /** v ↦ ∂₁Φ̂(w, λ, B)ᵀ v on a minibatch (present for stochastic problems). */
  readonly applyJTHat?: (batch: Readonly<Int32Array>, v: Readonly<Float64Array>) => Vec
  /** Number of samples of the finite sum (present for stochastic problems). */
  readonly nSamples?: number
  /** The right-hand side b = ∇₁E(w, λ). */
  readonly rhs: Readonly<Float64Array>
  /** True when ∂₁Φ is symmetric (conjugate gradient applies). */
  readonly symmetric: boolean
  /** An upper bound q < 1 on ‖∂₁Φ‖ (the contraction constant). */
  readonly q: number
}

/**
 * A lower-level solver as AID, ITD and SID consume it: from a problem, λ, a start w₀ and an
 * explicit random stream, the (lazy, replayable) stream of states w₀, w₁, w₂, …
 * Deterministic solvers ignore `rng`. The first state is the start itself (iter 0).
 */
export interface LowerMethod {
  readonly name: string
  readonly stochastic: boolean
  iterates(problem: import('../problem/bilevel.js').BilevelProblem, lambda: Readonly<Float64Array>, w0: Readonly<Float64Array>, rng: import('../random/rng.js').Rng): Stream<LowerState>
}

/**
 * A linear-system solver for (I − ∂₁Φᵀ) v = b: from the system, a start v₀ and an explicit
 * random stream, the stream of states v₀, v₁, … (the first is the start, iter 0).
 */
export interface LinearMethod {
  readonly name: string
  readonly stochastic: boolean
  iterates(system: LinearSystem, v0: Readonly<Float64Array>, rng: import('../random/rng.js').Rng): Stream<LinearState>
}
