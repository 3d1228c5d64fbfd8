import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../../errors.js'
import { denseOf, luSolve, spectralNorm } from '../../linalg/matrix.js'
import { matrix, type Matrix, type RVec } from '../../linalg/types.js'
import { distance } from '../../linalg/vector.js'
import { quadraticProblem } from '../../problems/quadratic.js'
import { normals, seed } from '../../random/rng.js'
import { take, toArray } from '../../stream/stream.js'
import { linearSystemAt } from '../linearSystem.js'
import type { LinearSystem } from '../types.js'
import { shapeOfSystem } from '../check.js'
import { fixedPointSystem } from '../linearSystem.js'
import { svrgLinear } from './svrgLinear.js'
import { iter, refusal } from '../testing.test-util.js'

const problem = orThrow(quadraticProblem({ dim: 5, hyperDim: 2, nSamples: 16, seed: 12 }))
const lambda = Float64Array.of(1, -1)
const system = linearSystemAt(problem, lambda, Float64Array.of(0.1, 0.2, 0.3, 0.4, 0.5))

const denseSolution = (s: LinearSystem): Float64Array => {
  const a = denseOf(s.dim, (v) => {
    const j = s.complement!(v)
    return v.map((x, i) => x - j[i]!)
  })
  return luSolve(a, s.rhs)!
}

const matTVec = (a: Matrix, v: RVec): Float64Array => {
  const out = new Float64Array(a.cols)
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out[j] = out[j]! + a.data[i * a.cols + j]! * v[i]!
  return out
}

/**
 * A non-symmetric finite-sum system: ∂₁Φ̂ᵢ = M + Pᵢ with M = 0.5·G/‖G‖ (‖M‖ = 0.5) and centred
 * perturbations Pᵢ of norm ≤ 0.3, so that the mean is M exactly (up to rounding).
 */
const nonSymmetric = (): LinearSystem => {
  const d = 4
  const n = 8
  const [g, r1] = normals(seed(77), d * d)
  const G = matrix(d, d, g)
  const M = matrix(d, d, g.map((x) => (0.5 * x) / spectralNorm(G)))
  const [p] = normals(r1, n * d * d)
  for (let j = 0; j < d * d; j++) {
    let s = 0
    for (let i = 0; i < n; i++) s += p[i * d * d + j]!
    for (let i = 0; i < n; i++) p[i * d * d + j] = p[i * d * d + j]! - s / n
  }
  const per = Array.from({ length: n }, (_, i) => {
    const pi = matrix(d, d, p.slice(i * d * d, (i + 1) * d * d))
    const scale = 0.3 / spectralNorm(pi)
    return matrix(d, d, M.data.map((x, j) => x + scale * pi.data[j]!))
  })
  // Re-centre after scaling so that the mean of the Jᵢ is exactly their average.
  const mean = matrix(d, d, new Float64Array(d * d).map((_, j) => per.reduce((a, m) => a + m.data[j]!, 0) / n))
  return fixedPointSystem((v) => matTVec(mean, v), Float64Array.of(1, -2, 0.5, 1), {
    symmetric: false,
    q: spectralNorm(mean),
    stochastic: {
      nSamples: n,
      complementHat: (batch, v) => {
        const out = new Float64Array(d)
        for (const i of batch) {
          const x = matTVec(per[i]!, v)
          for (let j = 0; j < d; j++) out[j] = out[j]! + x[j]! / batch.length
        }
        return out
      },
    },
  })
}

describe('svrgLinear (SVRG on the linear system)', () => {
  it('converges linearly to the dense solution on the symmetric ERM system, to 1e-10', () => {
    const exact = denseSolution(system)
    const m = svrgLinear({ batchSize: 2 })
    const T = 500
    const errors = toArray(take(T + 1)(iter(m, system, new Float64Array(5), seed(3)))).map((s) => distance(s.v, exact))
    expect(errors[T]!).toBeLessThan(1e-10)
    const epoch = 16
    const ratios: number[] = []
    for (let t = epoch; t <= T; t += epoch) if (errors[t - epoch]! > 1e-13) ratios.push(errors[t]! / errors[t - epoch]!)
    const rho = Math.max(...ratios) ** (1 / epoch)
    expect(rho).toBeLessThan(0.95)
    for (let t = 0; t <= T; t += epoch) expect(errors[t]!).toBeLessThanOrEqual(errors[0]! * rho ** t * 1.0001 + 1e-13)
  })

  it('converges linearly on a non-symmetric finite-sum system too (variance-reduced eq. 29)', () => {
    const s = nonSymmetric()
    const exact = denseSolution(s)
    const errors = toArray(take(401)(iter(svrgLinear({ eta: 0.5, batchSize: 1 }), s, new Float64Array(4), seed(5)))).map((x) => distance(x.v, exact))
    expect(errors[400]!).toBeLessThan(1e-10)
    expect(errors[200]!).toBeLessThan(1e-4 * errors[0]!)
  })

  it('with b = n every step is the deterministic relaxed step v + η(∂₁Φᵀv + b − v)', () => {
    const eta = 0.6
    const st = toArray(take(7)(iter(svrgLinear({ eta, batchSize: 16, epochLength: 3 }), system, new Float64Array(5), seed(1))))
    let v: Float64Array = new Float64Array(5)
    for (let k = 1; k < 7; k++) {
      const j = system.complement!(v)
      v = v.map((x, i) => x + eta * (j[i]! + system.rhs[i]! - x))
      expect(distance(st[k]!.v, v)).toBeLessThan(1e-12)
    }
  })

  it('replays bit for bit; counts one minibatch product per step and one full product per snapshot', () => {
    const m = svrgLinear({ batchSize: 4, epochLength: 5 })
    const s = take(12)(iter(m, system, new Float64Array(5), seed(2)))
    const a = toArray(s)
    const b = toArray(s)
    a.forEach((x, k) => {
      expect(Array.from(x.v)).toEqual(Array.from(b[k]!.v))
      const snaps = k === 0 ? 0 : Math.floor((k - 1) / 5) + 1
      expect(x.counts.jacW).toBeCloseTo((4 * k) / 16 + snaps, 12)
    })
  })

  it('rejects a deterministic system, a batch larger than n, a bad step or epoch length', () => {
    expect(refusal(svrgLinear(), { stochastic: false, symmetric: true }, 3)).toBe('config')
    expect(refusal(svrgLinear({ batchSize: 17 }), shapeOfSystem(system), 3)).toBe('domain')
    expect(refusal(svrgLinear({ eta: 0 }), shapeOfSystem(system), 3)).toBe('domain')
    expect(refusal(svrgLinear({ epochLength: 1.5 }), shapeOfSystem(system), 3)).toBe('domain')
    expect(refusal(svrgLinear(), shapeOfSystem(system), 3)).toBeUndefined()
  })
})
