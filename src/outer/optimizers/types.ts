/**
 * Outer optimizers as values, in the shape of optax's transformations: a pair of pure
 * functions whose state the caller threads. An outer optimizer is a state machine over the
 * hyperparameters: `init` proposes the first point to evaluate, and `update` consumes the
 * evaluation of the point it proposed — f and ∇̂f there — and proposes the next one. A
 * first-order method (gradient descent, Adam) accepts every evaluation as its next iterate; a
 * method with a line search (L-BFGS, HOAG) or a bracket (secant) may evaluate trial points that
 * it does not accept, and says so in `accepted`.
 *
 * A transform (`logScale`, `box`) wraps an optimizer and gives an optimizer: it maps the
 * evaluations into the inner optimizer's coordinates and the inner proposals back out.
 * `chain(optimizer, t₁, t₂)` applies t₁ then t₂, so the last transform faces the caller.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../../errors.js'
import type { RVec, Vec } from '../../linalg/types.js'
import { norm } from '../../linalg/vector.js'

/** What the oracle reported at a point, in the coordinates of the optimizer that reads it. */
export interface Evaluation {
  /** The point evaluated: the proposal, or where a transform moved it (a projection). */
  readonly x: RVec
  /** f(x), or the estimate the oracle gives of it. */
  readonly value: number
  /** ∇̂f(x). */
  readonly gradient: RVec
  /** A certified bound on ‖∇̂f(x) − ∇f(x)‖, when the oracle gives one. */
  readonly bound?: number
}

/** The next point to evaluate. */
export interface Proposal {
  readonly x: Vec
  /** The accuracy ‖∇̂f − ∇f‖ asked of this evaluation (HOAG); absent: the caller's own rule. */
  readonly tolerance?: number
}

/** Why an optimizer stopped by itself: a criterion of its own was met, or it cannot progress. */
export interface Stop {
  readonly status: 'converged' | 'stalled'
  /** One line: which criterion, with its numbers. */
  readonly reason: string
}

export interface Start<S> {
  readonly state: S
  readonly next: Proposal
}

interface UpdateBase<S> {
  readonly state: S
  /** The evaluation just consumed became the current iterate (false: a rejected or intermediate trial). */
  readonly accepted: boolean
  /** Stationarity at the current iterate: ‖∇̂f‖ in the optimizer's coordinates (projected onto the box's tangent cone under `box`). */
  readonly gradNorm: number
}
export type Update<S> = UpdateBase<S> & ({ readonly next: Proposal } | { readonly stop: Stop })

export interface OuterOptimizer<S = unknown> {
  readonly name: string
  /** The state before any evaluation and the first point to evaluate (x₀ itself, or its image under the transforms). */
  init(x0: RVec): E.Either<HypergradError, Start<S>>
  /** Consume the evaluation of the last proposal. A Left is a fault the evaluation reveals (a point outside a transform's domain). */
  update(ev: Evaluation, state: S): E.Either<HypergradError, Update<S>>
}

/** A transform: an optimizer in, an optimizer out (a Left when its own options are out of range). */
export type Transform = (inner: OuterOptimizer) => E.Either<HypergradError, OuterOptimizer>

/** Apply the transforms in order; the last one faces the caller: chain(lbfgs(), logScale(), box(lo, hi)). */
export const chain = (
  optimizer: E.Either<HypergradError, OuterOptimizer>,
  ...transforms: ReadonlyArray<Transform>
): E.Either<HypergradError, OuterOptimizer> => transforms.reduce((acc, t) => E.flatMap(acc, t), optimizer)

/** Whether an update stops. */
export const isStop = <S>(u: Update<S>): u is UpdateBase<S> & { readonly stop: Stop } => 'stop' in u

/** Replace the state of an update (what a transform does on the way out), keeping next or stop. */
export const withState = <S, T>(u: Update<S>, state: T, next?: Proposal): Update<T> =>
  isStop(u)
    ? { state, accepted: u.accepted, gradNorm: u.gradNorm, stop: u.stop }
    : { state, accepted: u.accepted, gradNorm: u.gradNorm, next: next ?? u.next }

/** An evaluated point an optimizer keeps (its own copies), with ‖∇̂f‖. */
export interface Iterate {
  readonly x: Vec
  readonly value: number
  readonly gradient: Vec
  readonly gradNorm: number
}

export const iterateOf = (ev: Evaluation): Iterate => ({ x: Float64Array.from(ev.x), value: ev.value, gradient: Float64Array.from(ev.gradient), gradNorm: norm(ev.gradient) })
