/**
 * HOAG (Pedregosa 2016, Algorithm 1): projected gradient steps on inexact hypergradients whose
 * accuracy is tightened as the outer loop progresses. Each proposal carries the accuracy ε it
 * asks of the oracle (`Proposal.tolerance`): ε₀ = initialTolerance (absent: the oracle's own
 * accuracy), then after every accepted step
 *
 *   ε_{k+1} = max(minTolerance, min(ρ·ε_k, κ·‖ĝ_{k+1}‖))        (ρ = tolDecrease, κ = adaptiveFactor)
 *
 * so that ε_k ≤ ε₀ρᵏ is summable, the condition of Pedregosa's Theorem 2, and never asks for more
 * accuracy than a fraction of the gradient needs. A rejected trial tightens ε by ρ as well.
 *
 * The step x₊ = P(x − ηĝ) is accepted when it passes the sufficient-decrease test
 *
 *   f̂(x₊) ≤ f̂(x) − ‖Δ‖²/(2η) + ε‖Δ‖ + c·ε,      Δ = x₊ − x,
 *
 * where ε bounds ‖ĝ − ∇f‖ at x (the oracle's certified bound when it gives one, else the
 * accuracy asked). With exact f and c = 0 this is the descent lemma: ∇fᵀΔ ≤ ĝᵀΔ + ε‖Δ‖ and
 * ĝᵀΔ ≤ −‖Δ‖²/η (a property of the projection), so the test holds whenever η ≤ 1/L for an
 * L-smooth f, and an accepted step decreases f by at least ‖Δ‖(‖ĝ‖/2 − ε) − c·ε for unprojected
 * steps. The slack c·ε (c = `valueSlack`, default 1) admits the error of f̂ itself, which comes from
 * the same inexact inner solve and shrinks with ε; the slacks sum to at most c·Σε_k < ∞. Where the
 * values of f̂ are flat to within fNoise·|f̂| — near a minimum, or when the inner solve does not
 * resolve them — the step is judged by the slope instead, as in the approximate Wolfe condition
 * of Hager & Zhang (2005): it passes when ĝ(x₊)ᵀΔ ≤ (1 − 2δ)|ĝ(x)ᵀΔ| (δ = 0.1), that is when it
 * does not overshoot the minimum along Δ by more than that. On acceptance η grows by `increase`;
 * on rejection it halves and the step is tried again from x (warm-started from x).
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../../errors.js'
import type { RVec, Vec } from '../../linalg/types.js'
import { axpby, dot, norm, sub } from '../../linalg/vector.js'
import { named, option, NONNEGATIVE, POSITIVE, UNIT_OPEN, type Label } from './options.js'
import { iterateOf, type Evaluation, type Iterate, type OuterOptimizer, type Update } from './types.js'

export interface HoagOptions {
  /** Length of the first step; default 1. */
  readonly stepSize?: number
  /** Longest step; default Infinity. */
  readonly maxStep?: number
  /** ε₀, the accuracy asked of the first evaluation; default: none (the oracle's own). */
  readonly initialTolerance?: number
  /** ρ ∈ (0, 1): the factor by which ε shrinks per step; default 0.5. */
  readonly tolDecrease?: number
  /** κ > 0: ε never above κ‖ĝ‖; default 0.1. */
  readonly adaptiveFactor?: number
  /** The smallest accuracy asked; ≥ 0, default 1e-10. */
  readonly minTolerance?: number
  /** Factor by which η grows after an accepted step, ≥ 1; default 1.25. */
  readonly increase?: number
  /** c ≥ 0: f̂ may exceed the certified decrease by c·ε; default 1. */
  readonly valueSlack?: number
  /** Relative noise level of f̂, in [0, 1): within it a step is judged by the slope; default 1e-6. */
  readonly fNoise?: number
  /** Consecutive rejected trials before the optimizer stops ('stalled'): an integer in [1, 100]; default 30. */
  readonly maxBacktracks?: number
  /** Stop ('stalled') when a step would be shorter than xTol·(1 + ‖x‖); ≥ 0, default 1e-10. */
  readonly xTol?: number
}

interface Point extends Iterate {
  /** The bound on ‖ĝ − ∇f‖ used at this point. */
  readonly eps: number
  /** The accuracy that was asked of its evaluation. */
  readonly tol?: number
}

interface Trial {
  readonly phase: 'trial'
  readonly current: Point
  readonly eta: number
  readonly tol: number
  readonly backtracks: number
  readonly iter: number
}
export type HoagState = { readonly phase: 'start'; readonly tol?: number } | Trial

interface Params {
  readonly stepSize: number
  readonly maxStep: number
  readonly initialTolerance?: number
  readonly rho: number
  readonly kappa: number
  readonly minTol: number
  readonly increase: number
  readonly valueSlack: number
  readonly fNoise: number
  readonly maxBacktracks: number
  readonly xTol: number
}

const pointOf = (ev: Evaluation, tol: number | undefined): Point => ({
  ...iterateOf(ev),
  eps: ev.bound ?? tol ?? 0,
  ...(tol !== undefined ? { tol } : {}),
})

const DELTA = 0.1

const stepFrom = (x: RVec, eta: number, g: RVec): Vec => axpby(-eta, g, x)

/** Propose P(x − ηĝ) with accuracy tol, or stop when the step is negligible. */
const propose = (p: Params, current: Point, eta: number, tol: number, backtracks: number, iter: number, accepted: boolean): Update<HoagState> => {
  if (current.gradNorm === 0) return { state: { phase: 'start' }, accepted, gradNorm: 0, stop: { status: 'converged', reason: `∇̂f = 0 at iteration ${iter}` } }
  const floor = p.xTol * (1 + norm(current.x))
  if (!(eta * current.gradNorm > floor))
    return {
      state: { phase: 'start' },
      accepted,
      gradNorm: current.gradNorm,
      stop: { status: 'stalled', reason: `the step η‖∇̂f‖ = ${(eta * current.gradNorm).toExponential(2)} fell below xTol·(1 + ‖x‖) at iteration ${iter}` },
    }
  const capped = Math.min(eta, p.maxStep / current.gradNorm)
  const state: Trial = { phase: 'trial', current, eta: capped, tol, backtracks, iter }
  return { state, accepted, gradNorm: current.gradNorm, next: { x: stepFrom(current.x, capped, current.gradient), tolerance: tol } }
}

const nextTol = (p: Params, previous: number | undefined, gradNorm: number): number =>
  Math.max(p.minTol, Math.min(previous === undefined ? Infinity : p.rho * previous, p.kappa * gradNorm))

const update = (p: Params, s: HoagState, ev: Evaluation): Update<HoagState> => {
  if (s.phase === 'start') {
    const current = pointOf(ev, s.tol)
    return propose(p, current, p.stepSize / Math.max(current.gradNorm, Number.MIN_VALUE), nextTol(p, s.tol, current.gradNorm), 0, 0, true)
  }
  const c = s.current
  const step = sub(ev.x, c.x)
  const delta = norm(step)
  const certified = ev.value <= c.value - (delta * delta) / (2 * s.eta) + c.eps * delta + p.valueSlack * c.eps
  const slope0 = dot(c.gradient, step)
  const flat = ev.value <= c.value + p.fNoise * Math.abs(c.value) + p.valueSlack * c.eps && slope0 < 0 && dot(ev.gradient, step) <= (1 - 2 * DELTA) * -slope0
  if (certified || flat) {
    const next = pointOf(ev, s.tol)
    return propose(p, next, certified ? s.eta * p.increase : s.eta, nextTol(p, s.tol, next.gradNorm), 0, s.iter + 1, true)
  }
  if (s.backtracks + 1 >= p.maxBacktracks)
    return {
      state: s,
      accepted: false,
      gradNorm: c.gradNorm,
      stop: { status: 'stalled', reason: `no step passed the decrease test in ${s.backtracks + 1} trials at iteration ${s.iter} (‖∇̂f‖ = ${c.gradNorm.toExponential(3)})` },
    }
  return propose(p, c, s.eta / 2, Math.max(p.minTol, p.rho * s.tol), s.backtracks + 1, s.iter, false)
}

export const makeHoag = (opts: HoagOptions, label: Label): E.Either<HypergradError, OuterOptimizer<HoagState>> =>
  pipe(
    E.Do,
    E.apS('stepSize', option(label, 'stepSize', opts.stepSize, 1, POSITIVE)),
    E.apS('maxStep', opts.maxStep === undefined || opts.maxStep === Infinity ? E.right(Infinity) : option(label, 'maxStep', opts.maxStep, Infinity, POSITIVE)),
    E.apS('initialTolerance', opts.initialTolerance === undefined ? E.right(undefined) : option(label, 'initialTolerance', opts.initialTolerance, NaN, POSITIVE)),
    E.apS('rho', option(label, 'tolDecrease', opts.tolDecrease, 0.5, UNIT_OPEN)),
    E.apS('kappa', option(label, 'adaptiveFactor', opts.adaptiveFactor, 0.1, POSITIVE)),
    E.apS('minTol', option(label, 'minTolerance', opts.minTolerance, 1e-10, NONNEGATIVE)),
    E.apS('increase', option(label, 'increase', opts.increase, 1.25, { min: 1, max: 100 })),
    E.apS('valueSlack', option(label, 'valueSlack', opts.valueSlack, 1, NONNEGATIVE)),
    E.apS('fNoise', option(label, 'fNoise', opts.fNoise, 1e-6, { min: 0, max: 1, openMax: true })),
    E.apS('maxBacktracks', option(label, 'maxBacktracks', opts.maxBacktracks, 30, { min: 1, max: 100, integer: true })),
    E.apS('xTol', option(label, 'xTol', opts.xTol, 1e-10, NONNEGATIVE)),
    E.map((p): OuterOptimizer<HoagState> => ({
      name: 'hoag',
      init: (x0) => {
        const tol = p.initialTolerance
        return E.right({ state: { phase: 'start', ...(tol !== undefined ? { tol } : {}) }, next: { x: Float64Array.from(x0), ...(tol !== undefined ? { tolerance: tol } : {}) } })
      },
      update: (ev, s) => E.right(update(p, s, ev)),
    })),
  )

/** HOAG: inexact projected gradient steps with shrinking inner tolerances (a Left when an option is out of range). */
export const hoag = (opts: HoagOptions = {}): E.Either<HypergradError, OuterOptimizer<HoagState>> => makeHoag(opts, named('hoag'))
