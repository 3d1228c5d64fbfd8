import { describe, expect, it } from 'vitest'
import { diff, gaussianVec, norm, quadratic } from '../../hypergrad/fixtures.test-util.js'
import { seed } from '../../random/rng.js'
import { take, toArray } from '../../stream/stream.js'
import { fixedPointIteration } from './fixedPoint.js'
import { heavyBall } from './heavyBall.js'
import { heavyBallParams } from '../params.js'
import * as E from 'fp-ts/lib/Either.js'
import { orThrow } from '../../errors.js'
import { iter, refusal } from '../testing.test-util.js'

const rng = seed(0)

describe('heavyBallParams', () => {
  it('gives step 4/(√L+√τ)², rate (√L−√τ)/(√L+√τ), β = rate², η = step/α', () => {
    // τ = 1, L = 9: √L = 3, √τ = 1 → step 4/16, rate 2/4.
    const h = orThrow(heavyBallParams(1, 9, 0.5))
    expect(h.step).toBeCloseTo(0.25, 15)
    expect(h.rate).toBeCloseTo(0.5, 15)
    expect(h.beta).toBeCloseTo(0.25, 15)
    expect(h.eta).toBeCloseTo(0.5, 15)
    expect(E.isLeft(heavyBallParams(2, 1))).toBe(true)
    expect(E.isLeft(heavyBallParams(0, 1))).toBe(true)
  })
})

describe('heavyBall', () => {
  const p = quadratic(21, 6, 2, 1, 100)
  const lambda = Float64Array.of(0.3, -0.7)
  const w0 = gaussianVec(9, p.dim)
  it('follows wₜ₊₁ = wₜ + η(Φ(wₜ) − wₜ) + β(wₜ − wₜ₋₁) with w₋₁ = w₀, and reports ‖Φ(wₜ) − wₜ‖', () => {
    const beta = 0.3
    const eta = 0.7
    const s = toArray(take(5)(iter(heavyBall({ beta, eta }), p, lambda, w0, rng)))
    expect(Array.from(s[0]!.w)).toEqual(Array.from(w0))
    let prev = w0
    for (let t = 0; t < 4; t++) {
      const w = s[t]!.w
      const phi = p.phi(w, lambda)
      const expected = Float64Array.from(w, (x, i) => x + eta * (phi[i]! - x) + beta * (x - prev[i]!))
      expect(diff(s[t + 1]!.w, expected)).toBeLessThan(1e-14 * (1 + norm(expected)))
      expect(s[t]!.residual).toBeCloseTo(diff(phi, w), 13)
      expect(s[t]!.counts.phi).toBe(t + 1)
      prev = w
    }
  })
  it('with β = 0, η = 1 it is the fixed-point iteration', () => {
    const a = toArray(take(8)(iter(heavyBall({ beta: 0 }), p, lambda, w0, rng)))
    const b = toArray(take(8)(iter(fixedPointIteration(), p, lambda, w0, rng)))
    a.forEach((s, t) => expect(diff(s.w, b[t]!.w)).toBeLessThan(1e-13 * (1 + norm(b[t]!.w))))
  })
  it('with the optimal parameters, ‖wₜ − w*‖ ≤ (2t+1) q_HBᵗ ‖w₀ − w*‖ (κ = L/τ = 100: far below GD\'s qᵗ)', () => {
    // Per eigenmode of ∇²ℓ the error obeys eₜ₊₁ = (1+β−sλ)eₜ − βeₜ₋₁ with roots of modulus
    // q_HB, so eₜ = q_HBᵗ[sin((t+1)θ)/sinθ · e₀ − q_HB sin(tθ)/sinθ · e₋₁], |·| ≤ (2t+1)q_HBᵗ|e₀|.
    const { tau, L } = p.lower.curvature(lambda)
    const hb = orThrow(heavyBallParams(tau, L, p.alpha))
    const ws = p.solution(lambda)
    const e0 = diff(w0, ws)
    const states = toArray(take(120)(iter(heavyBall({ beta: hb.beta, eta: hb.eta }), p, lambda, w0, rng)))
    states.forEach((s, t) => expect(diff(s.w, ws)).toBeLessThanOrEqual((2 * t + 1) * hb.rate ** t * e0 * (1 + 1e-9) + 1e-12))
    const q = p.contraction(lambda)
    expect(diff(states[119]!.w, ws)).toBeLessThan(1e-3 * q ** 119 * e0)
  })
  it('is replayable and rejects bad parameters', () => {
    const s = iter(heavyBall({ beta: 0.5 }), p, lambda, w0, rng)
    expect(toArray(take(4)(s)).map((x) => Array.from(x.w))).toEqual(toArray(take(4)(s)).map((x) => Array.from(x.w)))
    expect(refusal(heavyBall({ beta: 1 }), p)).toBe('domain')
    expect(refusal(heavyBall({ beta: -0.1 }), p)).toBe('domain')
    expect(refusal(heavyBall({ beta: 0.5, eta: 0 }), p)).toBe('domain')
  })
})
