import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../../errors.js'
import { distance } from '../../linalg/vector.js'
import { linearFixedPointProblem } from '../../problems/linearFixedPoint.js'
import { quadraticProblem } from '../../problems/quadratic.js'
import { seed } from '../../random/rng.js'
import { constantOrThrow, decreasingOrThrow } from '../../schedule/schedule.js'
import { take, toArray } from '../../stream/stream.js'
import { linearSystemAt } from '../linearSystem.js'
import type { LinearSystem } from '../types.js'
import { sgdQuadratic } from './sgdQuadratic.js'
import { stochasticFixedPoint } from './stochasticFixedPoint.js'
import { shapeOfSystem } from '../check.js'
import { iter, refusal, refusalMessage } from '../testing.test-util.js'

const problem = orThrow(quadraticProblem({ dim: 4, hyperDim: 2, nSamples: 10, seed: 8 }))
const lambda = Float64Array.of(-0.5, 0.25)
const w = Float64Array.of(0.1, 0.2, -0.3, 0.4)
const system = linearSystemAt(problem, lambda, w)

/** g(v) = ½vᵀ(I − ∂₁Φᵀ)v − vᵀb, evaluated with the full product. */
const g = (s: LinearSystem, v: Float64Array): number => {
  const j = s.complement!(v)
  let acc = 0
  for (let i = 0; i < v.length; i++) acc += 0.5 * v[i]! * (v[i]! - j[i]!) - v[i]! * s.rhs[i]!
  return acc
}

describe('sgdQuadratic (SGD on g(v) = ½vᵀ(I − ∂₁Φᵀ)v − vᵀ∇₁E, SID §5)', () => {
  it('with b = n its step is v − γ∇g(v), ∇g by central differences of g', () => {
    const gamma = 0.3
    const v0 = Float64Array.of(1, -2, 0.5, 3)
    const m = sgdQuadratic({ gamma: constantOrThrow(gamma), batchSize: 10 })
    const v1 = toArray(take(2)(iter(m, system, v0, seed(4))))[1]!.v
    const h = 1e-5
    for (let i = 0; i < 4; i++) {
      const up = Float64Array.from(v0)
      const dn = Float64Array.from(v0)
      up[i] = up[i]! + h
      dn[i] = dn[i]! - h
      const grad = (g(system, up) - g(system, dn)) / (2 * h)
      expect(v1[i]!).toBeCloseTo(v0[i]! - gamma * grad, 8)
    }
  })

  it('equals SID eq. 29 (stochasticFixedPoint) with η = γ, along the same draws, to rounding', () => {
    const q = system.q!
    const beta = 2 / (1 - q * q)
    const a = toArray(take(300)(iter(sgdQuadratic({ gamma: decreasingOrThrow(beta, beta), batchSize: 2 }), system, new Float64Array(4), seed(6))))
    const b = toArray(take(300)(iter(stochasticFixedPoint({ schedule: decreasingOrThrow(beta, beta), batchSize: 2 }), system, new Float64Array(4), seed(6))))
    for (let k = 0; k < 300; k++) expect(distance(a[k]!.v, b[k]!.v)).toBeLessThan(1e-12 * (1 + Math.hypot(...b[k]!.v)))
  })

  it('replays bit for bit and counts k·b/n', () => {
    const m = sgdQuadratic({ gamma: constantOrThrow(0.5), batchSize: 3 })
    const s = take(15)(iter(m, system, new Float64Array(4), seed(1)))
    const x = toArray(s)
    const y = toArray(s)
    x.forEach((st, k) => {
      expect(Array.from(st.v)).toEqual(Array.from(y[k]!.v))
      expect(st.counts.jacW).toBeCloseTo((3 * k) / 10, 14)
    })
  })

  it('needs a symmetric, stochastic system', () => {
    const det = orThrow(linearFixedPointProblem({ dim: 4, hyperDim: 2, q: 0.5, seed: 1 }))
    const m = sgdQuadratic({ gamma: constantOrThrow(0.5), batchSize: 2 })
    expect(refusalMessage(m, shapeOfSystem(linearSystemAt(det, lambda, w)), 3)).toMatch(/stochastic system/)
    // A stochastic but non-symmetric shape is refused: g's gradient would not be (I − ∂₁Φᵀ)v − b.
    expect(refusalMessage(m, { stochastic: true, nSamples: 10, symmetric: false }, 3)).toMatch(/symmetric/)
    expect(refusal(m, shapeOfSystem(system), 3)).toBeUndefined()
    expect(refusal(sgdQuadratic({ gamma: constantOrThrow(0.5), batchSize: 11 }), shapeOfSystem(system), 3)).toBe('domain')
  })
})
