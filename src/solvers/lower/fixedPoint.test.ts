import { describe, expect, it } from 'vitest'
import { diff, gaussianVec, norm, quadratic, snapshot } from '../../hypergrad/fixtures.test-util.js'
import { seed } from '../../random/rng.js'
import { take, toArray } from '../../stream/stream.js'
import { fixedPointIteration } from './fixedPoint.js'
import { iter, refusal } from '../testing.test-util.js'
import { lowerIterates } from '../solver.js'
import * as E from 'fp-ts/lib/Either.js'

const p = quadratic(11)
const lambda = Float64Array.of(0.5, -1, 0.25)
const w0 = gaussianVec(5, p.dim)
const rng = seed(0)

describe('fixedPointIteration', () => {
  it('starts at w₀ and follows wₜ₊₁ = Φ(wₜ) exactly, reporting ‖Φ(wₜ) − wₜ‖ and t + 1 Φ evaluations', () => {
    const states = toArray(take(6)(iter(fixedPointIteration(), p, lambda, w0, rng)))
    expect(Array.from(states[0]!.w)).toEqual(Array.from(w0))
    expect(states[0]!.w).not.toBe(w0)
    for (let t = 0; t < 5; t++) {
      const phi = p.phi(states[t]!.w, lambda)
      expect(Array.from(states[t + 1]!.w)).toEqual(Array.from(phi))
      expect(states[t]!.residual).toBeCloseTo(diff(phi, states[t]!.w), 13)
      expect(states[t]!.iter).toBe(t)
      expect(states[t]!.counts).toEqual({ phi: t + 1, jacW: 0, jacLambda: 0 })
    }
  })
  it('with relaxation η follows wₜ₊₁ = wₜ + η(Φ(wₜ) − wₜ)', () => {
    const eta = 0.4
    const states = toArray(take(4)(iter(fixedPointIteration({ eta }), p, lambda, w0, rng)))
    for (let t = 0; t < 3; t++) {
      const w = states[t]!.w
      const phi = p.phi(w, lambda)
      const expected = Float64Array.from(w, (x, i) => x + eta * (phi[i]! - x))
      expect(diff(states[t + 1]!.w, expected)).toBeLessThan(1e-14 * (1 + norm(expected)))
    }
  })
  it('contracts: ‖wₜ − w(λ)‖ ≤ qᵗ‖w₀ − w(λ)‖ (Banach, q = problem.contraction(λ))', () => {
    const ws = p.solution(lambda)
    const q = p.contraction(lambda)
    const states = toArray(take(30)(iter(fixedPointIteration(), p, lambda, w0, rng)))
    const e0 = diff(w0, ws)
    states.forEach((s, t) => expect(diff(s.w, ws)).toBeLessThanOrEqual(q ** t * e0 * (1 + 1e-10) + 1e-13))
  })
  it('is lazy, replayable (bit-identical on a second pass) and pure (inputs untouched, fresh vectors)', () => {
    const [l0, w00] = snapshot(lambda, w0)
    const s = iter(fixedPointIteration(), p, lambda, w0, rng)
    const a = toArray(take(5)(s)).map((x) => Array.from(x.w))
    const b = toArray(take(5)(s)).map((x) => Array.from(x.w))
    expect(b).toEqual(a)
    expect(Array.from(lambda)).toEqual(Array.from(l0!))
    expect(Array.from(w0)).toEqual(Array.from(w00!))
    const states = toArray(take(3)(s))
    expect(new Set(states.map((x) => x.w)).size).toBe(3)
  })
  it('rejects a bad η and a w₀ of the wrong length', () => {
    // The factory never throws: its check refuses, and so does every entry point.
    expect(refusal(fixedPointIteration({ eta: 0 }), p)).toBe('domain')
    expect(refusal(fixedPointIteration({ eta: NaN }), p)).toBe('domain')
    const wrong = lowerIterates(fixedPointIteration(), p, lambda, new Float64Array(p.dim + 1), rng)
    expect(E.isLeft(wrong) && wrong.left.message).toMatch(/w₀ has length 7, expected 6/)
  })
})
