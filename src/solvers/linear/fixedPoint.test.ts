import { describe, expect, it } from 'vitest'
import { orThrow } from '../../errors.js'
import { denseAt, denseSystem, diff, gaussianVec, linearFP, norm, snapshot } from '../../hypergrad/fixtures.test-util.js'
import { matVec } from '../../linalg/matrix.js'
import { linearSystemAt } from '../linearSystem.js'
import { seed } from '../../random/rng.js'
import { take, toArray } from '../../stream/stream.js'
import { fixedPointLinear } from './fixedPoint.js'
import { runLinear } from '../run.js'
import { iter } from '../testing.test-util.js'

const rng = seed(0)
const p = linearFP(4, 0.7)
const lambda = Float64Array.of(1, -0.5, 0.2)
const w = gaussianVec(2, p.dim)
const system = linearSystemAt(p, lambda, w)
const dense = denseAt(p, w, lambda)

describe('fixedPointLinear', () => {
  it('starts at v₀ and follows vₖ₊₁ = ∂₁Φᵀvₖ + b, reporting the true residual ‖(I − ∂₁Φᵀ)vₖ − b‖', () => {
    const v0 = gaussianVec(8, p.dim)
    const s = toArray(take(6)(iter(fixedPointLinear(), system, v0, rng)))
    expect(Array.from(s[0]!.v)).toEqual(Array.from(v0))
    for (let k = 0; k < 5; k++) {
      const v = s[k]!.v
      const jv = p.vjpW(w, lambda, v)
      const next = Float64Array.from(jv, (x, i) => x + system.rhs[i]!)
      expect(diff(s[k + 1]!.v, next)).toBeLessThan(1e-14 * (1 + norm(next)))
      const av = matVec(dense.A, v)
      expect(s[k]!.residual!).toBeCloseTo(diff(av, dense.b), 12)
      expect(s[k]!.counts).toEqual({ phi: 0, jacW: k + 1, jacLambda: 0 })
    }
  })
  it('contracts to the dense solution: ‖vₖ − v*‖ ≤ qᵏ‖v₀ − v*‖ (non-symmetric ∂₁Φ, ‖∂₁Φ‖ = q)', () => {
    const q = p.contraction(lambda)
    const s = toArray(take(60)(iter(fixedPointLinear(), system, new Float64Array(p.dim), rng)))
    const e0 = norm(dense.v)
    s.forEach((x, k) => expect(diff(x.v, dense.v)).toBeLessThanOrEqual(q ** k * e0 * (1 + 1e-10) + 1e-13))
    expect(diff(s[59]!.v, dense.v)).toBeLessThan(1e-8 * e0)
  })
  it('is replayable and pure', () => {
    const v0 = gaussianVec(8, p.dim)
    const [v00, b0] = snapshot(v0, system.rhs)
    const st = iter(fixedPointLinear(), system, v0, rng)
    expect(toArray(take(5)(st)).map((x) => Array.from(x.v))).toEqual(toArray(take(5)(st)).map((x) => Array.from(x.v)))
    expect(Array.from(v0)).toEqual(Array.from(v00!))
    expect(Array.from(system.rhs)).toEqual(Array.from(b0!))
  })
  it('diverges on a non-contractive system: status diverged with the iteration, no NaN', () => {
    // ∂₁Φᵀ = [[1.2, 0.3], [0, 1.05]]: spectral radius 1.2 > 1.
    const JT = { rows: 2, cols: 2, data: Float64Array.of(1.2, 0.3, 0, 1.05) }
    const sys = denseSystem(JT, Float64Array.of(1, 1), false, 0.9)
    const r = orThrow(runLinear(fixedPointLinear(), sys, new Float64Array(2), rng, { maxIter: 1000 }))
    expect(r.status).toBe('diverged')
    expect(r.divergedAt).toBeGreaterThan(100)
    expect(r.divergedAt).toBeLessThan(400)
    expect(r.state.v.every(Number.isFinite)).toBe(true)
  })
})
