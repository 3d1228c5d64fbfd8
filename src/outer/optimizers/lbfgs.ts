/**
 * L-BFGS (Nocedal 1980; Liu & Nocedal 1989): the direction d = −H∇̂f from the last m curvature
 * pairs (s, y) by the two-loop recursion, with H₀ = (sᵀy / yᵀy)·I from the newest pair, and a line
 * search for the weak Wolfe conditions on φ(α) = f(x + αd):
 *
 *   sufficient decrease   φ(α) ≤ φ(0) + c₁·ĝᵀs                  (s = x(α) − x)
 *   curvature             ĝ(α)ᵀs ≥ c₂·ĝᵀs
 *
 * where the decrease test also passes in the approximate form of Hager & Zhang (2005, §4):
 * φ(α) ≤ φ(0) + ε_f with ε_f = fNoise·|φ(0)| and ĝ(α)ᵀs ≤ (1 − 2δ)|ĝᵀs| (δ = 0.1). Near a
 * minimum f is flat and its values (or their estimates from an inexact inner solve) no longer
 * resolve the decrease, while the derivative still does; the approximate test lets the search
 * conclude on the derivative. A trial no lower than an earlier trial ends the extrapolation
 * (Nocedal & Wright 2006, Algorithm 3.5). The search extrapolates by 2 to 4 times while the slope
 * is steep, and inside a bracket takes model steps (`modelStep`: the cubic through two trials, or
 * the secant root of φ′ where the values are flat) — see `nextAlpha`.
 *
 * Every pair lies on a search line: from the accepted point to the trial (or the start) that
 * brackets the line minimum from the other side, the nearest first (`pairFor`), so that it
 * measures the curvature near the new point. Inexact gradients are tolerated: a pair with
 * sᵀy ≤ 10⁻¹⁰‖s‖‖y‖ is skipped (the curvature information is noise); a direction that is not
 * one of descent for ĝ is replaced by −ĝ; a line search that fails (maxLineSearch trials, or a
 * step below xTol) restarts once from −ĝ with an empty memory, and a failure from −ĝ stops the
 * optimizer ('stalled'). Points are taken as evaluated: under `box` a trial is the projected
 * point P(x + αd), s is the step actually taken, and a trial that the box moved is accepted on
 * the decrease test alone.
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../../errors.js'
import type { RVec, Vec } from '../../linalg/types.js'
import { axpby, dot, norm, sub } from '../../linalg/vector.js'
import { modelStep, safeguard, type Knot } from './interpolation.js'
import { named, option, NONNEGATIVE, POSITIVE, type Label } from './options.js'
import { iterateOf, type Evaluation, type Iterate, type OuterOptimizer, type Update } from './types.js'

export interface LbfgsOptions {
  /** Pairs (s, y) kept: an integer in [1, 1000]; default 10. */
  readonly memory?: number
  /** Length of the first trial step (and of the first after a restart); default 1. */
  readonly stepSize?: number
  /** Longest trial step; default Infinity. */
  readonly maxStep?: number
  /** Sufficient-decrease constant c₁ ∈ (0, ½); default 1e-4. */
  readonly c1?: number
  /** Curvature constant c₂ ∈ (c₁, 1); default 0.9. */
  readonly c2?: number
  /** Relative noise level of f for the approximate decrease test, in [0, 1); default 1e-6. */
  readonly fNoise?: number
  /** Trials per line search: an integer in [1, 100]; default 20. */
  readonly maxLineSearch?: number
  /** Stop when a step would be shorter than xTol·(1 + ‖x‖); ≥ 0, default 1e-10. */
  readonly xTol?: number
}

/** A point on the search line: φ(α), φ′(α), and the point and gradient themselves. */
interface Trial {
  readonly alpha: number
  readonly value: number
  readonly slope: number
  readonly x: Vec
  readonly gradient: Vec
}

interface Search {
  readonly phase: 'search'
  readonly current: Iterate
  readonly S: ReadonlyArray<Vec>
  readonly Y: ReadonlyArray<Vec>
  readonly d: Vec
  /** ‖d‖ and the bracket [lo, hi] on α (hi absent while extrapolating). */
  readonly dNorm: number
  readonly lo: Trial
  readonly hi?: Trial
  /** The lo before the current one, when lo moved. */
  readonly prevLo?: Trial
  readonly alpha: number
  readonly trials: number
  /** The bracket's width and |φ′(lo)| after each trial, newest last (the last four). */
  readonly widths: ReadonlyArray<readonly [number, number]>
  readonly proposed: Vec
  /** Length of the last accepted step (stepSize before the first). */
  readonly lastStep: number
  readonly iter: number
}
export type LbfgsState = { readonly phase: 'start' } | Search

interface Params {
  readonly memory: number
  readonly stepSize: number
  readonly maxStep: number
  readonly c1: number
  readonly c2: number
  readonly fNoise: number
  readonly maxLineSearch: number
  readonly xTol: number
}

const DELTA = 0.1

/** d = −H ĝ by the two-loop recursion over the pairs (oldest first in S, Y). */
const direction = (g: RVec, S: ReadonlyArray<Vec>, Y: ReadonlyArray<Vec>): Vec => {
  const k = S.length
  const q = Float64Array.from(g)
  const a = new Float64Array(k)
  const rho = new Float64Array(k)
  for (let i = k - 1; i >= 0; i--) {
    rho[i] = 1 / dot(Y[i]!, S[i]!)
    a[i] = rho[i]! * dot(S[i]!, q)
    for (let j = 0; j < q.length; j++) q[j] = q[j]! - a[i]! * Y[i]![j]!
  }
  if (k > 0) {
    const gamma = dot(S[k - 1]!, Y[k - 1]!) / dot(Y[k - 1]!, Y[k - 1]!)
    for (let j = 0; j < q.length; j++) q[j] = gamma * q[j]!
  }
  for (let i = 0; i < k; i++) {
    const b = rho[i]! * dot(Y[i]!, q)
    for (let j = 0; j < q.length; j++) q[j] = q[j]! + (a[i]! - b) * S[i]![j]!
  }
  for (let j = 0; j < q.length; j++) q[j] = -q[j]!
  return q
}

const sameVec = (a: RVec, b: RVec): boolean => a.every((v, i) => v === b[i])

const stop = (state: LbfgsState, accepted: boolean, gradNorm: number, status: 'converged' | 'stalled', reason: string): Update<LbfgsState> => ({
  state,
  accepted,
  gradNorm,
  stop: { status, reason },
})

/**
 * Start a line search from the current point: along −Hĝ (−ĝ with an empty memory), first
 * trial α = 1 (α = lastStep/‖ĝ‖ along −ĝ), capped by maxStep.
 */
const begin = (p: Params, current: Iterate, S: ReadonlyArray<Vec>, Y: ReadonlyArray<Vec>, lastStep: number, iter: number, accepted: boolean): Update<LbfgsState> => {
  if (current.gradNorm === 0) return stop({ phase: 'start' }, accepted, 0, 'converged', `∇̂f = 0 at iteration ${iter}`)
  let d = S.length > 0 ? direction(current.gradient, S, Y) : current.gradient.map((g) => -g)
  let slope = dot(current.gradient, d)
  if (!(slope < 0)) {
    S = []
    Y = []
    d = current.gradient.map((g) => -g)
    slope = -(current.gradNorm * current.gradNorm)
  }
  const dNorm = norm(d)
  let alpha = S.length > 0 ? 1 : lastStep / dNorm
  if (alpha * dNorm > p.maxStep) alpha = p.maxStep / dNorm
  const floor = p.xTol * (1 + norm(current.x))
  if (!(alpha * dNorm > floor))
    return stop({ phase: 'start' }, accepted, current.gradNorm, 'converged', `the step ${(alpha * dNorm).toExponential(2)} is below xTol·(1 + ‖x‖) = ${floor.toExponential(2)} at iteration ${iter}`)
  const proposed = axpby(alpha, d, current.x)
  const lo: Trial = { alpha: 0, value: current.value, slope, x: current.x, gradient: current.gradient }
  const state: Search = { phase: 'search', current, S, Y, d, dNorm, lo, alpha, trials: 0, widths: [], proposed, lastStep, iter }
  return { state, accepted, gradNorm: current.gradNorm, next: { x: proposed } }
}

const knot = (t: Trial): Knot => ({ t: t.alpha, f: t.value, g: t.slope })

/**
 * The next trial step: beyond lo, the model step (cubic, or secant of φ′) through lo and the
 * point before it, between 2 and 4 times lo's step (4 times when the model has no minimizer
 * beyond lo); inside [lo, hi], a model step (cubic, or
 * secant of φ′): through the last two lo when |φ′| fell from one to the other and their model
 * lands inside the bracket (the nearer points model the minimizer better, as in case 3 of Moré &
 * Thuente 1994), else through lo and hi; at least 1% of the bracket from its ends, or the
 * midpoint when in three trials neither the bracket nor |φ′(lo)| has halved.
 */
const nextAlpha = (
  p: Params, s: Search, lo: Trial, hi: Trial | undefined, prevLo: Trial | undefined, widths: ReadonlyArray<readonly [number, number]>, noise: number,
): number => {
  if (hi === undefined) {
    const model = modelStep(knot(prevLo ?? s.lo), knot(lo), noise)
    const a = model > lo.alpha ? Math.min(4 * lo.alpha, Math.max(2 * lo.alpha, model)) : 4 * lo.alpha
    return Math.min(a, p.maxStep / s.dNorm)
  }
  const [w0, g0] = widths[0] ?? [0, 0]
  const [w3, g3] = widths[3] ?? [0, 0]
  const slow = widths.length === 4 && w3 > w0 / 2 && g3 > g0 / 2
  if (slow) return safeguard(NaN, lo.alpha, hi.alpha, 0.01)
  const near = prevLo !== undefined && Math.abs(lo.slope) < Math.abs(prevLo.slope) ? modelStep(knot(prevLo), knot(lo), noise) : NaN
  const inside = (a: number): boolean => a > Math.min(lo.alpha, hi.alpha) && a < Math.max(lo.alpha, hi.alpha)
  return safeguard(inside(near) ? near : modelStep(knot(lo), knot(hi), noise), lo.alpha, hi.alpha, 0.01)
}

/**
 * The curvature pair of an accepted step: from a point of the search line (the start, or a trial
 * kept as a bracket end) to x₊, with sᵀy > 10⁻¹⁰‖s‖‖y‖. All of them lie on the line, so each
 * pair measures the curvature along d; preferred are the points on the other side of the line's
 * minimum (φ′ of the other sign: the secant then brackets it), nearest first.
 */
const pairFor = (points: ReadonlyArray<Trial>, alpha: number, slope: number, x: RVec, g: RVec): readonly [Vec, Vec] | undefined => {
  const rank = (q: Trial): number => (Math.sign(q.slope) !== Math.sign(slope) ? 0 : 1e300) + Math.abs(q.alpha - alpha)
  const ordered = [...points].sort((a, b) => rank(a) - rank(b))
  for (const q of ordered) {
    const sv = sub(x, q.x)
    const y = sub(g, q.gradient)
    if (dot(sv, y) > 1e-10 * norm(sv) * norm(y)) return [sv, y]
  }
  return undefined
}

const step = (p: Params, s: Search, ev: Evaluation): Update<LbfgsState> => {
  const c = s.current
  const sv = sub(ev.x, c.x)
  const dec = dot(c.gradient, sv)
  const slopeS = dot(ev.gradient, sv)
  const moved = !sameVec(ev.x, s.proposed)
  // A trial no lower than an earlier trial of this search ends the extrapolation: a minimizer
  // lies between them (Nocedal & Wright 2006, Algorithm 3.5).
  const decrease =
    dec < 0 &&
    (ev.value <= c.value + p.c1 * dec || (ev.value <= c.value + p.fNoise * Math.abs(c.value) && slopeS <= (1 - 2 * DELTA) * -dec)) &&
    !(s.lo.alpha > 0 && ev.value >= s.lo.value)
  if (decrease && (slopeS >= p.c2 * dec || moved)) {
    const next = iterateOf(ev)
    const start: Trial = { alpha: 0, value: c.value, slope: dec / s.alpha, x: c.x, gradient: c.gradient }
    const pair = pairFor([start, s.lo, ...(s.hi !== undefined ? [s.hi] : [])], s.alpha, slopeS, next.x, next.gradient)
    const S = pair !== undefined ? [...s.S, pair[0]].slice(-p.memory) : s.S
    const Y = pair !== undefined ? [...s.Y, pair[1]].slice(-p.memory) : s.Y
    return begin(p, next, S, Y, norm(sv), s.iter + 1, true)
  }
  const trial: Trial = { alpha: s.alpha, value: ev.value, slope: slopeS / s.alpha, x: Float64Array.from(ev.x), gradient: Float64Array.from(ev.gradient) }
  const [lo, hi] = decrease ? [trial, s.hi] : [s.lo, trial]
  const prevLo = decrease && s.lo.alpha > 0 ? s.lo : decrease ? undefined : s.prevLo
  const trials = s.trials + 1
  const widths = hi !== undefined ? [...s.widths, [Math.abs(hi.alpha - lo.alpha), Math.abs(lo.slope)] as const].slice(-4) : s.widths
  const alpha = nextAlpha(p, s, lo, hi, prevLo, widths, p.fNoise * Math.abs(c.value))
  const floor = p.xTol * (1 + norm(c.x))
  if (trials >= p.maxLineSearch || !(dec < 0) || !(alpha * s.dNorm > floor) || alpha === s.alpha) {
    const why = !(dec < 0) ? 'the step taken is not one of descent for ∇̂f' : trials >= p.maxLineSearch ? `no Wolfe point in ${trials} trials` : 'the step fell below xTol'
    if (s.S.length > 0) {
      // Restart from −ĝ with an empty memory.
      return begin(p, c, [], [], s.lastStep, s.iter, false)
    }
    return stop(s, false, c.gradNorm, 'stalled', `line search along −∇̂f failed at iteration ${s.iter}: ${why} (‖∇̂f‖ = ${c.gradNorm.toExponential(3)})`)
  }
  const proposed = axpby(alpha, s.d, c.x)
  const state: Search = { ...s, lo, ...(hi !== undefined ? { hi } : {}), ...(prevLo !== undefined ? { prevLo } : {}), alpha, trials, widths, proposed }
  return { state, accepted: false, gradNorm: c.gradNorm, next: { x: proposed } }
}

export const makeLbfgs = (opts: LbfgsOptions, label: Label): E.Either<HypergradError, OuterOptimizer<LbfgsState>> =>
  pipe(
    E.Do,
    E.apS('memory', option(label, 'memory', opts.memory, 10, { min: 1, max: 1000, integer: true })),
    E.apS('stepSize', option(label, 'stepSize', opts.stepSize, 1, POSITIVE)),
    E.apS('maxStep', opts.maxStep === undefined || opts.maxStep === Infinity ? E.right(Infinity) : option(label, 'maxStep', opts.maxStep, Infinity, POSITIVE)),
    E.apS('c1', option(label, 'c1', opts.c1, 1e-4, { min: 0, max: 0.5, openMin: true, openMax: true })),
    E.bind('c2', ({ c1 }) => option(label, 'c2', opts.c2, 0.9, { min: c1, max: 1, openMin: true, openMax: true })),
    E.apS('fNoise', option(label, 'fNoise', opts.fNoise, 1e-6, { min: 0, max: 1, openMax: true })),
    E.apS('maxLineSearch', option(label, 'maxLineSearch', opts.maxLineSearch, 20, { min: 1, max: 100, integer: true })),
    E.apS('xTol', option(label, 'xTol', opts.xTol, 1e-10, NONNEGATIVE)),
    E.map((p: Params): OuterOptimizer<LbfgsState> => ({
      name: 'lbfgs',
      init: (x0) => E.right({ state: { phase: 'start' }, next: { x: Float64Array.from(x0) } }),
      update: (ev, s) => E.right(s.phase === 'start' ? begin(p, iterateOf(ev), [], [], p.stepSize, 0, true) : step(p, s, ev)),
    })),
  )

/** L-BFGS with a Wolfe line search (a Left when an option is out of range). */
export const lbfgs = (opts: LbfgsOptions = {}): E.Either<HypergradError, OuterOptimizer<LbfgsState>> => makeLbfgs(opts, named('lbfgs'))
