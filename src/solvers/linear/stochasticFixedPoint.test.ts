import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { HypergradException, orThrow } from '../../errors.js'
import { denseOf, luSolve } from '../../linalg/matrix.js'
import { distance } from '../../linalg/vector.js'
import { linearFixedPointProblem } from '../../problems/linearFixedPoint.js'
import { quadraticProblem } from '../../problems/quadratic.js'
import { minibatch, seed } from '../../random/rng.js'
import { constantOrThrow, custom, decreasingOrThrow } from '../../schedule/schedule.js'
import { take, toArray } from '../../stream/stream.js'
import { linearSystemAt } from '../linearSystem.js'
import type { LinearSystem } from '../types.js'
import { stochasticFixedPoint } from './stochasticFixedPoint.js'
import { shapeOfProblem, shapeOfSystem } from '../check.js'
import { iter, refusal, refusalMessage } from '../testing.test-util.js'

const problem = orThrow(quadraticProblem({ dim: 4, hyperDim: 2, nSamples: 15, seed: 21 }))
const lambda = Float64Array.of(0.2, 0.7)
const w = Float64Array.of(0.3, -0.1, 0.8, 0.2)
const system = linearSystemAt(problem, lambda, w)
const v0 = new Float64Array(4)

/** The solution of (I − ∂₁Φᵀ)v = b by a dense LU solve. */
const denseSolution = (s: LinearSystem): Float64Array => {
  const a = denseOf(s.dim, (v) => {
    const j = s.complement!(v)
    return v.map((x, i) => x - j[i]!)
  })
  return luSolve(a, s.rhs)!
}
const exact = denseSolution(system)

const bits = (xs: ReadonlyArray<Float64Array>): string[] => xs.map((x) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex'))

describe('stochasticFixedPoint (SID eq. 29)', () => {
  it('with η = 1 takes exactly vₖ₊₁ = ∂₁Φ̂(ζ̂ₖ)ᵀvₖ + ∇₁E, ζ̂ₖ drawn in turn from the given Rng', () => {
    const m = stochasticFixedPoint({ schedule: constantOrThrow(1), batchSize: 4 })
    const st = toArray(take(5)(iter(m, system, v0, seed(3))))
    let r = seed(3)
    let v: Float64Array = Float64Array.from(v0)
    for (let k = 1; k < 5; k++) {
      const [batch, next] = minibatch(r, 15, 4)
      r = next
      const j = system.complementHat!(batch, v)
      v = j.map((x, i) => x + system.rhs[i]!)
      expect(bits([st[k]!.v])).toEqual(bits([v]))
    }
  })

  it('one step is unbiased: E[v₁] = v₀ + η(∂₁Φᵀv₀ + ∇₁E − v₀) (Monte Carlo over 3000 Rngs, 5 standard errors)', () => {
    const eta = 0.5
    const start = Float64Array.of(1, 2, -1, 0.5)
    const m = stochasticFixedPoint({ schedule: constantOrThrow(eta), batchSize: 1 })
    const S = 3000
    const sum = new Float64Array(4)
    const sq = new Float64Array(4)
    for (let s = 0; s < S; s++) {
      const v1 = toArray(take(2)(iter(m, system, start, seed(500 + s))))[1]!.v
      for (let i = 0; i < 4; i++) {
        sum[i] = sum[i]! + v1[i]!
        sq[i] = sq[i]! + v1[i]! * v1[i]!
      }
    }
    const jt = system.complement!(start)
    for (let i = 0; i < 4; i++) {
      const mean = sum[i]! / S
      const se = Math.sqrt((sq[i]! / S - mean * mean) / S)
      const want = start[i]! + eta * (jt[i]! + system.rhs[i]! - start[i]!)
      expect(Math.abs(mean - want)).toBeLessThanOrEqual(5 * se + 1e-12)
    }
  })

  it('with ηₖ = β/(γ+k) the MSE to the dense solution falls by 4× from k = 250 to k = 4000 (SID Thm 5.1, eq. 31)', () => {
    const q = system.q!
    const beta = 2 / (1 - q * q)
    const m = stochasticFixedPoint({ schedule: decreasingOrThrow(beta, beta), batchSize: 1 })
    const mse = (k: number): number => {
      let acc = 0
      for (let s = 0; s < 24; s++) acc += distance(toArray(take(k + 1)(iter(m, system, v0, seed(s))))[k]!.v, exact) ** 2
      return acc / 24
    }
    expect(mse(4000)).toBeLessThan(mse(250) / 4)
  })

  it('with b = n (without replacement) it is the deterministic fixed-point iteration and converges to the dense solution', () => {
    const m = stochasticFixedPoint({ schedule: constantOrThrow(1), batchSize: 15 })
    const st = toArray(take(201)(iter(m, system, v0, seed(0))))
    expect(distance(st[200]!.v, exact)).toBeLessThan(1e-10 * Math.max(1, distance(v0, exact)))
  })

  it('replays bit for bit, depends on the Rng, leaves its inputs alone, counts k·b/n', () => {
    const m = stochasticFixedPoint({ schedule: constantOrThrow(0.8), batchSize: 2 })
    const start = Float64Array.of(1, 1, 1, 1)
    const s = take(20)(iter(m, system, start, seed(1)))
    const a = toArray(s)
    expect(bits(toArray(s).map((x) => x.v))).toEqual(bits(a.map((x) => x.v)))
    expect(bits(toArray(take(20)(iter(m, system, start, seed(2)))).map((x) => x.v))).not.toEqual(bits(a.map((x) => x.v)))
    expect(Array.from(start)).toEqual([1, 1, 1, 1])
    a.forEach((x, k) => expect(x.counts.jacW).toBeCloseTo((2 * k) / 15, 14))
  })

  it('rejects a deterministic system, a batch larger than n and non-positive steps', () => {
    const det = orThrow(linearFixedPointProblem({ dim: 4, hyperDim: 2, q: 0.5, seed: 1 }))
    const detSystem = linearSystemAt(det, lambda, w)
    const m = stochasticFixedPoint({ schedule: constantOrThrow(0.5), batchSize: 2 })
    expect(refusal(m, shapeOfSystem(detSystem), 3)).toBe('config')
    expect(refusal(m, shapeOfProblem(det), 3)).toBe('config')
    expect(() => iter(m, detSystem, v0, seed(0))).toThrow(HypergradException)
    expect(refusalMessage(stochasticFixedPoint({ schedule: constantOrThrow(0.5), batchSize: 16 }), shapeOfSystem(system), 3)).toMatch(/larger than the 15 samples/)
    expect(refusal(stochasticFixedPoint({ schedule: custom(() => -0.1), batchSize: 2 }), shapeOfSystem(system), 3)).toBe('domain')
    expect(refusal(m, shapeOfSystem(system), 3)).toBeUndefined()
  })
})
