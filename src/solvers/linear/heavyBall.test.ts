import { describe, expect, it } from 'vitest'
import { denseAt, diff, gaussianVec, norm, quadratic } from '../../hypergrad/fixtures.test-util.js'
import { matVec } from '../../linalg/matrix.js'
import { seed } from '../../random/rng.js'
import { take, toArray } from '../../stream/stream.js'
import { heavyBallParams } from '../params.js'
import { orThrow } from '../../errors.js'
import { linearSystemAt } from '../linearSystem.js'
import { fixedPointLinear } from './fixedPoint.js'
import { heavyBallLinear } from './heavyBall.js'
import { iter, refusal } from '../testing.test-util.js'

const rng = seed(0)
const p = quadratic(41, 7, 2, 1, 100)
const lambda = Float64Array.of(-0.2, 0.6)
const w = gaussianVec(3, p.dim)
const system = linearSystemAt(p, lambda, w)
const dense = denseAt(p, w, lambda)

describe('heavyBallLinear', () => {
  it('follows vₖ₊₁ = vₖ + η(b − (I − ∂₁Φᵀ)vₖ) + β(vₖ − vₖ₋₁), v₋₁ = v₀, with the true residual', () => {
    const beta = 0.4
    const eta = 0.9
    const v0 = gaussianVec(5, p.dim)
    const s = toArray(take(5)(iter(heavyBallLinear({ beta, eta }), system, v0, rng)))
    let prev = v0
    for (let k = 0; k < 4; k++) {
      const v = s[k]!.v
      const av = matVec(dense.A, v)
      const expected = Float64Array.from(v, (x, i) => x + eta * (dense.b[i]! - av[i]!) + beta * (x - prev[i]!))
      expect(diff(s[k + 1]!.v, expected)).toBeLessThan(1e-12 * (1 + norm(expected)))
      expect(s[k]!.residual!).toBeCloseTo(diff(av, dense.b), 11)
      prev = v
    }
  })
  it('with β = 0, η = 1 it is the fixed-point iteration', () => {
    const a = toArray(take(10)(iter(heavyBallLinear({ beta: 0 }), system, new Float64Array(p.dim), rng)))
    const b = toArray(take(10)(iter(fixedPointLinear(), system, new Float64Array(p.dim), rng)))
    a.forEach((s, k) => expect(diff(s.v, b[k]!.v)).toBeLessThan(1e-13 * (1 + norm(b[k]!.v))))
  })
  it('with the optimal parameters for spectrum [ατ, αL], ‖vₖ − v*‖ ≤ (2k+1) q_HBᵏ ‖v₀ − v*‖', () => {
    // Same per-eigenmode argument as for the lower heavy ball; I − ∂₁Φᵀ = α∇²ℓ.
    const { tau, L } = p.lower.curvature(lambda)
    const hb = orThrow(heavyBallParams(tau, L, p.alpha))
    const e0 = norm(dense.v)
    const states = toArray(take(150)(iter(heavyBallLinear({ beta: hb.beta, eta: hb.eta }), system, new Float64Array(p.dim), rng)))
    states.forEach((s, k) => expect(diff(s.v, dense.v)).toBeLessThanOrEqual((2 * k + 1) * hb.rate ** k * e0 * (1 + 1e-9) + 1e-12 * e0))
  })
  it('rejects bad parameters', () => {
    const shape = { stochastic: false, symmetric: true }
    expect(refusal(heavyBallLinear({ beta: 1.2 }), shape)).toBe('domain')
    expect(refusal(heavyBallLinear({ beta: 0.2, eta: -1 }), shape)).toBe('domain')
    expect(refusal(heavyBallLinear({ beta: 0.2 }), shape)).toBeUndefined()
  })
})
