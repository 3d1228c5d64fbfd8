/**
 * Optimization over θ = log λ (λ = e^θ > 0 by construction). The inner optimizer sees
 * evaluations in θ: ∇_θ f = λ ⊙ ∇_λ f, and a bound ε on the error of ∇̂_λ f becomes
 * ‖λ‖_∞·ε (since ‖λ ⊙ e‖ ≤ ‖λ‖_∞‖e‖); an accuracy asked in θ is divided by ‖λ‖_∞ on the way
 * out. Where the point evaluated is the one proposed, the inner optimizer gets back its own θ
 * bit for bit (not log e^θ); where a transform outside moved λ (a projection), θ = log λ.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError } from '../../errors.js'
import type { RVec, Vec } from '../../linalg/types.js'
import { withState, isStop, type OuterOptimizer, type Proposal, type Transform } from './types.js'

export interface LogScaleState<S = unknown> {
  readonly inner: S
  /** The last proposal, in θ and in λ. */
  readonly theta: Vec
  readonly lambda: Vec
}

const maxAbs = (x: RVec): number => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0)

/** λ = e^θ, a Left when a coordinate leaves (0, ∞) in floating point. */
const outward = (who: string, p: Proposal) => {
  const lambda = p.x.map(Math.exp)
  const bad = lambda.findIndex((l) => !(l > 0 && l < Infinity))
  if (bad >= 0) return E.left(hgError('divergence', `${who}: the step took θ[${bad}] = ${p.x[bad]} where λ = e^θ is ${lambda[bad]}`))
  const l = maxAbs(lambda)
  return E.right({ lambda, proposal: { x: lambda, ...(p.tolerance !== undefined ? { tolerance: p.tolerance / l } : {}) } })
}

/** Run the inner optimizer on θ = log λ. */
export const logScale = (): Transform => (inner: OuterOptimizer) =>
  E.right<never, OuterOptimizer<LogScaleState>>({
    name: `logScale(${inner.name})`,
    init: (lambda0) => {
      const bad = lambda0.findIndex((l) => !(l > 0 && l < Infinity))
      if (bad >= 0) return E.left(hgError('domain', `lambda[${bad}] = ${lambda0[bad]}: logScale needs λ > 0`))
      const start = inner.init(lambda0.map(Math.log))
      if (E.isLeft(start)) return start
      const out = outward('logScale', start.right.next)
      if (E.isLeft(out)) return out
      return E.right({ state: { inner: start.right.state, theta: start.right.next.x, lambda: out.right.lambda }, next: out.right.proposal })
    },
    update: (ev, s) => {
      const lam = ev.x
      const bad = lam.findIndex((l) => !(l > 0 && l < Infinity))
      if (bad >= 0) return E.left(hgError('domain', `logScale: λ[${bad}] = ${lam[bad]} was evaluated, but log λ needs λ > 0 (a box outside logScale with a lower bound ≤ 0?)`))
      const theta = Float64Array.from(lam, (l, i) => (l === s.lambda[i] ? s.theta[i]! : Math.log(l)))
      const gradient = Float64Array.from(ev.gradient, (g, i) => g * lam[i]!)
      const r = inner.update({ x: theta, value: ev.value, gradient, ...(ev.bound !== undefined ? { bound: ev.bound * maxAbs(lam) } : {}) }, s.inner)
      if (E.isLeft(r)) return r
      const u = r.right
      if (isStop(u)) return E.right(withState(u, { ...s, inner: u.state }))
      const out = outward('logScale', u.next)
      if (E.isLeft(out)) return out
      return E.right(withState(u, { inner: u.state, theta: u.next.x, lambda: out.right.lambda }, out.right.proposal))
    },
  })
