/**
 * Box constraints lo ≤ xᵢ ≤ hi, handled as L-BFGS-B handles them (Byrd, Lu, Nocedal & Zhu 1995)
 * in its simplest form: a coordinate at a bound whose gradient points out of the box is active.
 * The inner optimizer sees the projected gradient (zero on the active coordinates), so that its
 * steps and its stationarity measure are those of the free coordinates; every proposal keeps the
 * active coordinates of the current iterate where they are and projects the others onto the box.
 * A line search of the inner optimizer thus searches along the projected path P(x + αd), and its
 * sufficient-decrease test ĝᵀ(P(x + αd) − x) is exact in first order (ĝ and the step vanish on
 * the active set). Gradient descent steps are unchanged by the transform: x − η·0 = x there.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError } from '../../errors.js'
import type { RVec, Vec } from '../../linalg/types.js'
import { isStop, withState, type Evaluation, type OuterOptimizer, type Proposal, type Transform } from './types.js'

export interface BoxState<S = unknown> {
  readonly inner: S
  /** The current (accepted) iterate and its active coordinates (1 = held at a bound). */
  readonly x?: Vec
  readonly active?: Uint8Array
}

const clip = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v)

/** The active set at x for the gradient g: at lo with g > 0, or at hi with g < 0. */
const activeSet = (x: RVec, g: RVec, lo: number, hi: number): Uint8Array =>
  Uint8Array.from(x, (xi, i) => ((xi <= lo && g[i]! > 0) || (xi >= hi && g[i]! < 0) ? 1 : 0))

/** A proposal with the active coordinates held at the current iterate and the rest projected. */
const project = (p: Proposal, lo: number, hi: number, x?: RVec, active?: Uint8Array): Proposal => ({
  ...p,
  x: Float64Array.from(p.x, (v, i) => (active !== undefined && x !== undefined && active[i] === 1 ? x[i]! : clip(v, lo, hi))),
})

/**
 * Keep every point in [lo, hi] (the same bounds for every coordinate; ±Infinity for a one-sided
 * box). A Left when lo < hi fails or a bound is NaN.
 */
export const box = (lo: number, hi: number): Transform => (inner: OuterOptimizer) => {
  if (Number.isNaN(lo) || Number.isNaN(hi) || !(lo < hi) || lo === Infinity || hi === -Infinity)
    return E.left(hgError('config', `box: expected lo < hi, got [${lo}, ${hi}]`))
  return E.right<never, OuterOptimizer<BoxState>>({
    name: `box(${inner.name})`,
    init: (x0) => {
      const start = inner.init(Float64Array.from(x0, (v) => clip(v, lo, hi)))
      if (E.isLeft(start)) return start
      return E.right({ state: { inner: start.right.state }, next: project(start.right.next, lo, hi) })
    },
    update: (ev, s) => {
      const outside = ev.x.findIndex((v) => !(v >= lo && v <= hi))
      if (outside >= 0) return E.left(hgError('domain', `box: x[${outside}] = ${ev.x[outside]} was evaluated outside [${lo}, ${hi}]`))
      const active = activeSet(ev.x, ev.gradient, lo, hi)
      const projected: Evaluation = { ...ev, gradient: Float64Array.from(ev.gradient, (g, i) => (active[i] === 1 ? 0 : g)) }
      const r = inner.update(projected, s.inner)
      if (E.isLeft(r)) return r
      const u = r.right
      const state: BoxState = u.accepted ? { inner: u.state, x: Float64Array.from(ev.x), active } : { ...s, inner: u.state }
      return E.right(isStop(u) ? withState(u, state) : withState(u, state, project(u.next, lo, hi, state.x, state.active)))
    },
  })
}
