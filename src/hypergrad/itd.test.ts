import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { RVec } from '../linalg/types.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { fixedPointLinear } from '../solvers/linear/fixedPoint.js'
import { heavyBallLinear } from '../solvers/linear/heavyBall.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { aid } from './aid.js'
import { exact } from './exact.js'
import { itd } from './itd.js'
import { affineProblem, gaussian, gaussianVec, logistic, norm, quadratic, relErr, right, scaledIdentity, snapshot } from './fixtures.test-util.js'
import { divergenceOf, estimateOf } from './fixtures.test-util.js'

/** Ψ^s(w, λ) by explicit relaxed steps — the map ITD differentiates. */
const unroll = (p: BilevelProblem, w0: RVec, lam: RVec, steps: number, eta = 1): Float64Array => {
  let w = Float64Array.from(w0)
  for (let i = 0; i < steps; i++) {
    const phi = p.phi(w, lam)
    w = Float64Array.from(w, (x, j) => x + eta * (phi[j]! - x))
  }
  return w
}

/** Central differences of λ ↦ E(Ψ^s(w₀, λ), λ) along coordinate directions. */
const fdGradient = (p: BilevelProblem, w0: RVec, lam: RVec, steps: number, eta = 1, h = 1e-6): Float64Array =>
  Float64Array.from(lam, (_, j) => {
    const plus = Float64Array.from(lam)
    const minus = Float64Array.from(lam)
    plus[j] = plus[j]! + h
    minus[j] = minus[j]! - h
    return (p.upper(unroll(p, w0, plus, steps, eta), plus) - p.upper(unroll(p, w0, minus, steps, eta), minus)) / (2 * h)
  })

describe('itd', () => {
  const { problem: lp, lambda: ll } = logistic(3, 40, 5, 1)
  const w0 = gaussianVec(11, lp.dim)

  it('reverse mode is the gradient of fₜ(λ) = E(wₜ(λ), λ) through t unrolled steps (central differences, logistic)', () => {
    for (const eta of [1, 0.6]) {
      const r = estimateOf(itd(lp, ll, { t: 12, mode: 'reverse', w0, eta }))
      expect(relErr(r.gradient, fdGradient(lp, w0, ll, 12, eta))).toBeLessThan(1e-6)
      expect(r.memoryVectors).toBe(13)
      expect(r.counts).toEqual({ phi: 13, jacW: 11, jacLambda: 12 })
    }
  })
  it('forward mode equals reverse mode to 1e-12 (also truncated, also relaxed)', () => {
    for (const [truncate, eta] of [[undefined, 1], [4, 1], [7, 0.5], [0, 1]] as const) {
      const opts = { t: 15, w0, eta, ...(truncate === undefined ? {} : { truncate }) }
      const r = estimateOf(itd(lp, ll, { ...opts, mode: 'reverse' }))
      const f = estimateOf(itd(lp, ll, { ...opts, mode: 'forward' }))
      expect(relErr(f.gradient, r.gradient)).toBeLessThan(1e-12)
      expect(f.memoryVectors).toBe(lp.hyperDim + 2)
      expect(f.v.length).toBe(0)
    }
  })
  it('truncated reverse mode differentiates only the last K steps, from wₜ₋ₖ held fixed (central differences)', () => {
    const t = 14
    const K = 5
    const r = estimateOf(itd(lp, ll, { t, mode: 'reverse', truncate: K, w0 }))
    const wFrozen = unroll(lp, w0, ll, t - K)
    expect(relErr(r.gradient, fdGradient(lp, wFrozen, ll, K))).toBeLessThan(1e-6)
    expect([r.k, r.memoryVectors]).toEqual([K, K + 1])
    // K = 0: only ∇₂E(wₜ); K ≥ t: the full gradient.
    const z = estimateOf(itd(lp, ll, { t, mode: 'reverse', truncate: 0, w0 }))
    expect(relErr(z.gradient, lp.gradUpperLambda(unroll(lp, w0, ll, t), ll))).toBeLessThan(1e-14)
    const all = estimateOf(itd(lp, ll, { t, mode: 'reverse', w0 }))
    const big = estimateOf(itd(lp, ll, { t, mode: 'reverse', truncate: 100, w0 }))
    expect(Array.from(big.gradient)).toEqual(Array.from(all.gradient))
  })
  it('from the fixed point w₀ = w(λ), ITD with t steps equals AID-FP with k = t from v₀ = 0 (gradient and adjoint)', () => {
    // All iterates coincide with w(λ), so Σᵢ ∂₂Φᵀpᵢ = ∂₂Φᵀ Σ_{j<t}(∂₁Φᵀ)ʲ∇₁E = ∂₂Φᵀvₜ (AID-FP).
    const ws = estimateOf(exact(lp, ll)).w
    for (const t of [1, 5, 20]) {
      const i = estimateOf(itd(lp, ll, { t, mode: 'reverse', w0: ws }))
      const a = estimateOf(aid(lp, ll, { lower: fixedPointIteration(), linear: fixedPointLinear(), t, k: t, w0: ws }))
      expect(relErr(i.gradient, a.gradient)).toBeLessThan(1e-12)
      expect(relErr(i.v, a.v)).toBeLessThan(1e-12)
    }
    // Relaxed: ITD with η equals AID with the damped (Richardson) linear iteration, β = 0, same η.
    const i = estimateOf(itd(lp, ll, { t: 9, mode: 'reverse', w0: ws, eta: 0.5 }))
    const a = estimateOf(aid(lp, ll, { lower: fixedPointIteration({ eta: 0.5 }), linear: heavyBallLinear({ beta: 0, eta: 0.5 }), t: 9, k: 9, w0: ws }))
    expect(relErr(i.gradient, a.gradient)).toBeLessThan(1e-12)
  })
  it('converges to the closed form on the quadratic', () => {
    const p = quadratic(3)
    const lam = Float64Array.of(1, 0, -1)
    expect(relErr(estimateOf(itd(p, lam, { t: 300, mode: 'reverse' })).gradient, p.hypergradient(lam))).toBeLessThan(1e-10)
    expect(relErr(estimateOf(itd(p, lam, { t: 300, mode: 'forward' })).gradient, p.hypergradient(lam))).toBeLessThan(1e-10)
  })
  it('returns typed errors for bad t, truncate, mode, η, λ, w₀ and q ≥ 1', () => {
    const bad = affineProblem(scaledIdentity(3, 1.1), gaussian(1, 3, 2), new Float64Array(3), new Float64Array(3), 1.1)
    const cases = [
      itd(lp, ll, { t: -3, mode: 'reverse' }),
      itd(lp, ll, { t: 2.5, mode: 'forward' }),
      itd(lp, ll, { t: 3, mode: 'reverse', truncate: -1 }),
      itd(lp, ll, { t: 3, mode: 'sideways' as 'reverse' }),
      itd(lp, ll, { t: 3, mode: 'reverse', eta: 0 }),
      itd(lp, Float64Array.of(1, 1), { t: 3, mode: 'reverse' }),
      itd(lp, ll, { t: 3, mode: 'reverse', w0: new Float64Array(1) }),
      itd(bad, Float64Array.of(0, 0), { t: 3, mode: 'reverse' }),
    ].map((e) => (E.isLeft(e) ? e.left.kind : 'right'))
    expect(cases).toEqual(['domain', 'domain', 'domain', 'config', 'domain', 'dimension', 'dimension', 'domain'])
  })
  it('reports a diverging iteration (a map that lies about q) with its iteration and no estimate, in both modes', () => {
    const liar = affineProblem(scaledIdentity(3, 1.1), gaussian(2, 3, 2), Float64Array.of(1, 1, 1), new Float64Array(3), 0.5)
    for (const mode of ['reverse', 'forward'] as const) {
      const r = divergenceOf(itd(liar, Float64Array.of(1, 1), { t: 3000, mode }))
      expect(r.divergedAt).toEqual({ stage: 'lower', iter: r.t + 1 })
      expect([r.gradient, r.value]).toEqual([null, null])
      expect(r.w.every(Number.isFinite)).toBe(true)
    }
  })
  it('is pure and deterministic', () => {
    const snap = snapshot(ll, w0)
    const a = estimateOf(itd(lp, ll, { t: 6, mode: 'reverse', w0 }))
    const b = estimateOf(itd(lp, ll, { t: 6, mode: 'reverse', w0 }))
    expect(Array.from(a.gradient)).toEqual(Array.from(b.gradient))
    expect(Array.from(ll)).toEqual(Array.from(snap[0]!))
    expect(Array.from(w0)).toEqual(Array.from(snap[1]!))
    expect(norm(a.gradient)).toBeGreaterThan(0)
  })
})
