/**
 * A safeguarded derivative-based method for one hyperparameter, a zero finder on f′ (the
 * safeguards of Dekker 1969 and Brent 1973, ch. 4). The zero of f′ is first bracketed: steps
 * downhill, extrapolated to 1.5 times the model's minimizer ahead and from a quarter to 8 times
 * the last step (twice it when the model has none). Then it is found by model steps through the
 * last two points, kept inside the bracket [a, b] with f′(a) < 0 < f′(b), which shrinks at every
 * evaluation: the minimizer of the cubic through their values and slopes while the values differ
 * by more than fNoise·|f|, else the secant root of f′, which converges with order (1 + √5)/2 near
 * a simple zero (a minimum with f″ > 0). Values of f that are flat near the minimum thus do not
 * stall it. A model step that leaves the bracket, or a bracket that has neither halved nor seen
 * |f′| halve in three steps, gives way to bisection; a step on an end of the bracket is moved
 * xTol·(1 + |x|) inside. Every evaluation is accepted (it is the method's next iterate); the
 * optimizer stops when f′ = 0 or when the bracket, or the next step, is shorter than
 * xTol·(1 + |x|). Under `box`, f′ is zero at a bound it points out of, which ends the search there.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../../errors.js'
import { modelStep } from './interpolation.js'
import { named, option, NONNEGATIVE, POSITIVE, type Label } from './options.js'
import type { Evaluation, OuterOptimizer, Update } from './types.js'

export interface SecantOptions {
  /** Length of the first step (downhill from x₀); default 1. */
  readonly stepSize?: number
  /** Longest step while bracketing; default Infinity. */
  readonly maxStep?: number
  /** Stop when the bracket or the next step is shorter than xTol·(1 + |x|); ≥ 0, default 1e-10. */
  readonly xTol?: number
  /** Relative noise level of f: below it, differences of f are not used (only f′); in [0, 1), default 1e-6. */
  readonly fNoise?: number
}

/** A point: x, f(x) and f′(x). */
interface P1 {
  readonly x: number
  readonly f: number
  readonly g: number
}

export type SecantState =
  | { readonly phase: 'start' }
  | { readonly phase: 'expand'; readonly prev: P1; readonly step: number }
  | {
      readonly phase: 'bracket'
      /** f′(neg) < 0 < f′(pos). */
      readonly neg: P1
      readonly pos: P1
      /** The two latest points (the secant's). */
      readonly prev: P1
      readonly last: P1
      /** The bracket's width and |f′| of the last evaluations, newest last. */
      readonly widths: ReadonlyArray<readonly [number, number]>
    }

interface Params {
  readonly fNoise: number
  readonly stepSize: number
  readonly maxStep: number
  readonly xTol: number
}

const pointOf = (ev: Evaluation): P1 => ({ x: ev.x[0]!, f: ev.value, g: ev.gradient[0]! })

const propose = (state: SecantState, x: number, gradNorm: number): Update<SecantState> => ({ state, accepted: true, gradNorm, next: { x: Float64Array.of(x) } })
const converged = (state: SecantState, gradNorm: number, reason: string): Update<SecantState> => ({ state, accepted: true, gradNorm, stop: { status: 'converged', reason } })

/** A step downhill from p of the given length. */
const downhill = (p: P1, length: number): number => p.x - Math.sign(p.g) * length

const inBracket = (p: Params, neg: P1, pos: P1, prev: P1, last: P1, widths: ReadonlyArray<readonly [number, number]>): Update<SecantState> => {
  const width = Math.abs(pos.x - neg.x)
  const g = Math.abs(last.g)
  const floor = p.xTol * (1 + Math.abs(last.x))
  const history = [...widths, [width, g] as const].slice(-4)
  const state: SecantState = { phase: 'bracket', neg, pos, prev, last, widths: history }
  if (!(width > 2 * floor)) return converged(state, g, `the bracket [${Math.min(neg.x, pos.x)}, ${Math.max(neg.x, pos.x)}] is shorter than xTol·(1 + |x|)`)
  const lo = Math.min(neg.x, pos.x)
  const hi = Math.max(neg.x, pos.x)
  const root = modelStep({ t: prev.x, f: prev.f, g: prev.g }, { t: last.x, f: last.f, g: last.g }, p.fNoise * Math.abs(last.f))
  // Bisect when the model step leaves the bracket, or when in three steps neither the bracket
  // nor |f′| has halved.
  const [w0, g0] = history[0]!
  const slow = history.length === 4 && width > w0 / 2 && g > g0 / 2
  // A model step on (or next to) an end of the bracket is moved xTol·(1 + |x|) inside it.
  const x = Number.isFinite(root) && root >= lo && root <= hi && !slow ? Math.min(hi - floor, Math.max(lo + floor, root)) : lo + (hi - lo) / 2
  if (!(Math.abs(x - last.x) > floor)) return converged(state, g, `the next step ${Math.abs(x - last.x).toExponential(2)} is shorter than xTol·(1 + |x|)`)
  return propose(state, x, g)
}

const update = (p: Params, s: SecantState, ev: Evaluation): Update<SecantState> => {
  const q = pointOf(ev)
  const g = Math.abs(q.g)
  if (s.phase === 'start') {
    if (q.g === 0) return converged(s, 0, `f′ = 0 at x₀`)
    return propose({ phase: 'expand', prev: q, step: Math.min(p.stepSize, p.maxStep) }, downhill(q, Math.min(p.stepSize, p.maxStep)), g)
  }
  if (q.g === 0) return converged(s, 0, `f′ = 0 at x = ${q.x}`)
  if (s.phase === 'expand') {
    const prev = s.prev
    if (Math.sign(q.g) !== Math.sign(prev.g)) {
      const [neg, pos] = q.g < 0 ? [q, prev] : [prev, q]
      return inBracket(p, neg, pos, prev, q, [])
    }
    if (q.x === prev.x) return { state: s, accepted: true, gradNorm: g, stop: { status: 'stalled', reason: `the step from x = ${q.x} did not move (held by a bound?)` } }
    // Same sign: extrapolate to 1.5 times the model's minimizer beyond q (its cubic, or the
    // secant of f′ when |f′| fell), else double the step; from a quarter to 8 times the last step.
    const model = modelStep({ t: prev.x, f: prev.f, g: prev.g }, { t: q.x, f: q.f, g: q.g }, p.fNoise * Math.abs(q.f))
    const ahead = Math.sign(q.x - prev.x) * (model - q.x)
    const length = ahead > 0 ? Math.min(8 * s.step, Math.max(s.step / 4, 1.5 * ahead)) : 2 * s.step
    const step = Math.min(length, p.maxStep)
    return propose({ phase: 'expand', prev: q, step }, downhill(q, step), g)
  }
  const neg = q.g < 0 ? q : s.neg
  const pos = q.g > 0 ? q : s.pos
  return inBracket(p, neg, pos, s.last, q, s.widths)
}

export const makeSecant = (opts: SecantOptions, label: Label): E.Either<HypergradError, OuterOptimizer<SecantState>> =>
  pipe(
    E.Do,
    E.apS('stepSize', option(label, 'stepSize', opts.stepSize, 1, POSITIVE)),
    E.apS('maxStep', opts.maxStep === undefined || opts.maxStep === Infinity ? E.right(Infinity) : option(label, 'maxStep', opts.maxStep, Infinity, POSITIVE)),
    E.apS('xTol', option(label, 'xTol', opts.xTol, 1e-10, NONNEGATIVE)),
    E.apS('fNoise', option(label, 'fNoise', opts.fNoise, 1e-6, { min: 0, max: 1, openMax: true })),
    E.map((p): OuterOptimizer<SecantState> => ({
      name: 'secant',
      init: (x0) =>
        x0.length === 1
          ? E.right({ state: { phase: 'start' }, next: { x: Float64Array.from(x0) } })
          : E.left(hgError('dimension', `secant: one hyperparameter only, got ${x0.length} (use lbfgs)`)),
      update: (ev, s) => E.right(update(p, s, ev)),
    })),
  )

/** The safeguarded secant method for one hyperparameter (a Left when an option is out of range). */
export const secant = (opts: SecantOptions = {}): E.Either<HypergradError, OuterOptimizer<SecantState>> => makeSecant(opts, named('secant'))
