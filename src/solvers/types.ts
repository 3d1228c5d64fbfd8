/**
 * The shapes of the solvers. A solver is a value: a pair of pure functions over immutable
 * states, `init(ctx, start, rng)` and `step(ctx, state)` (the shape of optax's
 * GradientTransformation, with the state threaded by the caller), and its stream of states is
 * the unfold of `step` from `init` (`iterates` in solver.ts). A state carries the iterate, the
 * iteration count, the work done so far, the random stream the next step draws from, and, when
 * the solver monitors one, a residual; a solver may end its own stream by flagging a state
 * (`stop`). Combinators (combinators.ts) take a solver and give a solver of the same kind.
 */
import type * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../errors.js'
import type { LinOp, RVec, Vec } from '../linalg/types.js'
import type { Batch, BilevelProblem } from '../problem/bilevel.js'
import type { Rng } from '../random/rng.js'

/** Divergence is data: a run ends converged, at its iteration cap, or diverged (non-finite or blown up). */
export type Status = 'converged' | 'maxIter' | 'diverged'

/** How many evaluations of Φ and of each derivative product a computation used. */
export interface Counts {
  /** Evaluations of Φ or Φ̂ (a minibatch evaluation counts as batchSize/n). */
  readonly phi: number
  /** Products with ∂₁Φ or ∂₁Φᵀ, or with the linear system's operator (stochastic ones weighted as for phi). */
  readonly jacW: number
  /** Products with ∂₂Φ or ∂₂Φᵀ. */
  readonly jacLambda: number
}

/**
 * How a solver ends its own stream at a state: it met its own tolerance ('converged', e.g.
 * conjugate gradient), broke down ('diverged': a breakdown, a non-finite step from a schedule,
 * a singular system), or can make no more progress ('stalled': a line search at the rounding
 * floor; a run reports it as 'maxIter' with the reason).
 */
export type Stop = 'converged' | 'diverged' | 'stalled'

/** What every solver state carries. */
export interface SolverState {
  /** Steps taken from the start (the start itself is iter 0). */
  readonly iter: number
  /** The residual the solver monitors (see LowerState, LinearState), when it computes one. */
  readonly residual?: number
  /** Work done so far (cumulative, never decreasing). */
  readonly counts: Counts
  /** The random stream the next step draws from (deterministic solvers pass it on unchanged). */
  readonly rng: Rng
  /** Set when the solver ends its stream at this state. */
  readonly stop?: Stop
  /** Why the solver stopped (always set with `stop`). */
  readonly reason?: string
}

/** A state of a lower-level solver: the iterate wₜ and, where the solver computes it, ‖Φ(wₜ, λ) − wₜ‖. */
export interface LowerState extends SolverState {
  readonly w: Vec
}

/** A state of a linear-system solver: the iterate vₖ and, where computed, ‖A vₖ − b‖. */
export interface LinearState extends SolverState {
  readonly v: Vec
}

/** A state of a solver that reports its residual at every state (not only where it computes one). */
export type Monitored<S extends SolverState> = S & { readonly residual: number }

/**
 * A state of a solver that makes one evaluation per step (fixed point, heavy ball): the residual
 * of its iterate and the next iterate, formed from the evaluation that gave the residual.
 */
export type LookAhead<S extends SolverState> = Monitored<S> & { readonly ahead: Vec }

/** What a lower-level solver works on: the problem and the hyperparameter λ (fixed during a run). */
export interface LowerContext {
  readonly problem: BilevelProblem
  readonly lambda: RVec
}

/**
 * A linear system A v = b given by its operator (jaxopt's `solve(matvec, b)`). Build one with
 * `linearSystem(matvec, b, …)` or, for the AID/SID system (I − ∂₁Φ(w, λ)ᵀ)v = ∇₁E(w, λ), with
 * `linearSystemAt(problem, λ, w)`.
 *
 * Fixed-point solvers iterate v ↦ (I − A)v + b; when A = I − M is given through M (as the
 * AID/SID system is, M = ∂₁Φᵀ), `complement` applies M directly, so that no rounding is added
 * by forming v − Av. Stochastic solvers use the minibatch operators of a finite sum
 * A = (1/n) Σᵢ Aᵢ: `matvecHat(B, v)` is the average of Aᵢv over the minibatch B (and
 * `complementHat(B, v)` that of (I − Aᵢ)v).
 */
export interface LinearSystem {
  readonly dim: number
  /** v ↦ A v (fresh). */
  readonly matvec: LinOp
  /** The right-hand side b. */
  readonly rhs: RVec
  /** True when A is symmetric (positive definite: conjugate gradient applies). */
  readonly symmetric: boolean
  /** v ↦ (I − A) v (fresh), when A was given as I − M. */
  readonly complement?: LinOp
  /** Number of terms of the finite sum (present for stochastic systems). */
  readonly nSamples?: number
  /** (B, v) ↦ the minibatch operator applied to v (present for stochastic systems). */
  readonly matvecHat?: (batch: Batch, v: RVec) => Vec
  /** (B, v) ↦ (I − Â_B) v, when A was given as I − M. */
  readonly complementHat?: (batch: Batch, v: RVec) => Vec
  /** A dense copy of A (n × n, row-major), when the system can build one cheaply (direct solves). */
  readonly dense?: () => import('../linalg/types.js').Matrix | undefined
  /** An upper bound q < 1 on ‖I − A‖ when known (the contraction constant of Φ for the AID system). */
  readonly q?: number
}

/** What a linear method needs to know about a system before it is built. */
export interface SystemShape {
  /** True when the system offers minibatch operators over nSamples terms. */
  readonly stochastic: boolean
  readonly nSamples?: number
  readonly symmetric: boolean
}

/**
 * A solver: a pure `init` and `step` over immutable states (see the module comment).
 *
 * - `check(shape, steps)` validates the solver's options and its fit with a problem (lower) or
 *   a system shape (linear) for the first `steps` steps, before any work: a Left names the
 *   option or the mismatch. A factory never throws; a solver built with bad options is refused
 *   by its `check`, which every entry point runs (`iterates`, `runLower`/`runLinear`, `aid`, …).
 * - `init(ctx, start, rng)` is the state at the start (iter 0, iterate = start);
 *   `step(ctx, s)` the next state. Neither writes to its arguments, and no state is written
 *   after it is made; both may assume that `check` passed and that ctx and start are fixed.
 */
export interface Solver<Ctx, Shape, S extends SolverState> {
  readonly kind: 'lower' | 'linear'
  readonly name: string
  /** True when the solver draws minibatches (it then needs a stochastic problem or system). */
  readonly stochastic: boolean
  /** The minibatch size the solver draws (absent for full-batch solvers). */
  readonly batchSize?: number
  check(shape: Shape, steps: number): E.Either<HypergradError, unknown>
  init(ctx: Ctx, start: RVec, rng: Rng): S
  step(ctx: Ctx, state: S): S
}

/** A lower-level solver: from a problem, λ and w₀ to the states w₀, w₁, … */
export interface LowerSolver<S extends LowerState = LowerState> extends Solver<LowerContext, BilevelProblem, S> {
  readonly kind: 'lower'
}

/** A linear-system solver for A v = b: from the system and v₀ to the states v₀, v₁, … */
export interface LinearSolver<S extends LinearState = LinearState> extends Solver<LinearSystem, SystemShape, S> {
  readonly kind: 'linear'
}

/** Either kind of solver. */
export type AnySolver = LowerSolver<LowerState> | LinearSolver<LinearState>
