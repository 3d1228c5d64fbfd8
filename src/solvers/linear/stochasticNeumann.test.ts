import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../../errors.js'
import { denseOf, luSolve, spectralNorm } from '../../linalg/matrix.js'
import { distance, norm } from '../../linalg/vector.js'
import { quadraticProblem } from '../../problems/quadratic.js'
import { seed, type Rng } from '../../random/rng.js'
import { take, toArray } from '../../stream/stream.js'
import { linearSystemAt } from '../linearSystem.js'
import type { LinearSystem } from '../types.js'
import { shapeOfSystem } from '../check.js'
import { orThrow as unwrap } from '../../errors.js'
import { neumannDraw, neumannProduct, stochasticNeumann } from './stochasticNeumann.js'
import { iter, refusal } from '../testing.test-util.js'

// Two samples, so that every draw can be enumerated: 2ᴷ batch sequences for each K.
const problem = orThrow(quadraticProblem({ dim: 3, hyperDim: 2, nSamples: 2, seed: 4 }))
const lambda = Float64Array.of(0.5, 1.5)
const system = linearSystemAt(problem, lambda, Float64Array.of(0.2, -0.4, 0.1))

/** η Σ_{i<N} Mⁱ b with M = I − η(I − ∂₁Φᵀ), from full products. */
const truncatedSeries = (s: LinearSystem, eta: number, N: number): Float64Array => {
  const out = new Float64Array(s.dim)
  let u = Float64Array.from(s.rhs)
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < s.dim; j++) out[j] = out[j]! + eta * u[j]!
    const ju = s.complement!(u)
    u = u.map((x, j) => x - eta * (x - ju[j]!))
  }
  return out
}

/** E[v̂] by enumerating K ∈ {0..N−1} and all 2ᴷ single-sample batch sequences. */
const enumeratedMean = (s: LinearSystem, eta: number, N: number): Float64Array => {
  const out = new Float64Array(s.dim)
  for (let K = 0; K < N; K++) {
    for (let code = 0; code < 2 ** K; code++) {
      const batches = Array.from({ length: K }, (_, i) => Int32Array.of((code >> i) & 1))
      const est = unwrap(neumannProduct(s, batches, eta, N))
      const p = 1 / N / 2 ** K
      for (let j = 0; j < s.dim; j++) out[j] = out[j]! + p * est[j]!
    }
  }
  return out
}

const denseSolution = (s: LinearSystem): Float64Array => {
  const a = denseOf(s.dim, (v) => {
    const j = s.complement!(v)
    return v.map((x, i) => x - j[i]!)
  })
  return luSolve(a, s.rhs)!
}

describe('stochasticNeumann (Ghadimi & Wang 2018; SID footnote 1)', () => {
  it('is unbiased for the N-term truncated series η Σ_{i<N} Mⁱ b, by exact enumeration', () => {
    for (const [eta, N] of [[1, 1], [1, 4], [0.7, 5], [0.4, 3]] as const) {
      const want = truncatedSeries(system, eta, N)
      expect(distance(enumeratedMean(system, eta, N), want)).toBeLessThan(1e-12 * (1 + norm(want)))
    }
  })

  it('with η = 1 that series is N fixed-point steps from 0, and its bias to v is ≤ ‖M‖ᴺ‖v‖', () => {
    const N = 6
    let v = new Float64Array(3)
    for (let k = 0; k < N; k++) {
      const j = system.complement!(v)
      v = j.map((x, i) => x + system.rhs[i]!)
    }
    expect(distance(enumeratedMean(system, 1, N), v)).toBeLessThan(1e-12)
    const exact = denseSolution(system)
    const M = denseOf(3, (u) => system.complement!(u))
    for (const n of [2, 6, 12]) expect(distance(truncatedSeries(system, 1, n), exact)).toBeLessThanOrEqual(spectralNorm(M) ** n * norm(exact) * (1 + 1e-9))
  })

  it('draws K and the batches uniformly: the mean of 20000 draws is within 5 standard errors of the series', () => {
    const opts = { maxTerms: 4, eta: 0.8, batchSize: 1 }
    const want = truncatedSeries(system, 0.8, 4)
    const S = 20000
    const sum = new Float64Array(3)
    const sq = new Float64Array(3)
    let r: Rng = seed(10)
    for (let s = 0; s < S; s++) {
      const d = unwrap(neumannDraw(system, opts, r))
      r = d.rng
      for (let j = 0; j < 3; j++) {
        sum[j] = sum[j]! + d.estimate[j]!
        sq[j] = sq[j]! + d.estimate[j]! ** 2
      }
    }
    for (let j = 0; j < 3; j++) {
      const mean = sum[j]! / S
      const se = Math.sqrt((sq[j]! / S - mean * mean) / S)
      expect(Math.abs(mean - want[j]!)).toBeLessThanOrEqual(5 * se)
    }
  })

  it('as a linear method, state k is the average of the first k draws, and counts K·b/n per draw', () => {
    const opts = { maxTerms: 5, eta: 1, batchSize: 1 }
    const st = toArray(take(30)(iter(stochasticNeumann(opts), system, Float64Array.of(9, 9, 9), seed(3))))
    expect(Array.from(st[0]!.v)).toEqual([9, 9, 9])
    let r: Rng = seed(3)
    const sum = new Float64Array(3)
    let products = 0
    for (let k = 1; k < 30; k++) {
      const d = unwrap(neumannDraw(system, opts, r))
      r = d.rng
      products += d.products
      for (let j = 0; j < 3; j++) sum[j] = sum[j]! + d.estimate[j]!
      expect(distance(st[k]!.v, sum.map((x) => x / k))).toBeLessThan(1e-12 * (1 + norm(sum)))
      expect(st[k]!.counts.jacW).toBeCloseTo(products / 2, 12)
    }
    // Replay.
    const again = toArray(take(30)(iter(stochasticNeumann(opts), system, Float64Array.of(9, 9, 9), seed(3))))
    again.forEach((s, k) => expect(Array.from(s.v)).toEqual(Array.from(st[k]!.v)))
  })

  it('rejects bad maxTerms, η, batch size and a deterministic system', () => {
    const sh = shapeOfSystem(system)
    expect(refusal(stochasticNeumann({ maxTerms: 0, batchSize: 1 }), sh, 1)).toBe('domain')
    expect(refusal(stochasticNeumann({ maxTerms: 2.5, batchSize: 1 }), sh, 1)).toBe('domain')
    expect(refusal(stochasticNeumann({ maxTerms: 3, eta: 0, batchSize: 1 }), sh, 1)).toBe('domain')
    expect(refusal(stochasticNeumann({ maxTerms: 3, batchSize: 3 }), sh, 1)).toBe('domain')
    expect(refusal(stochasticNeumann({ maxTerms: 3, batchSize: 1 }), { stochastic: false, symmetric: true }, 1)).toBe('config')
    expect(refusal(stochasticNeumann({ maxTerms: 3, batchSize: 2 }), sh, 1)).toBeUndefined()
  })
})
