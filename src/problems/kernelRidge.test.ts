import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { carsRegression } from '../data/cars.js'
import { orThrow } from '../errors.js'
import { exact } from '../hypergrad/exact.js'
import { directional, fdMismatch } from '../laws/numeric.js'
import { cholesky, choleskySolve, matVec } from '../linalg/matrix.js'
import { matrix, type RVec } from '../linalg/types.js'
import { distance, dot, norm } from '../linalg/vector.js'
import { kernelRidgeProblem, squaredDistances } from './kernelRidge.js'

const { train, validation } = orThrow(carsRegression({ nTrain: 30, nVal: 20, seed: 4 }))

/** f(λ) by a dense solve: c = (K + μI)⁻¹y, E = ‖K_val c − y_val‖²/(2n_val). */
const closedF = (lambda: RVec): Float64Array => {
  const s = -0.5 * Math.exp(-2 * lambda[0]!)
  const mu = Math.exp(lambda[1]!)
  const n = train.X.rows
  const K = squaredDistances(train.X, train.X).data.map((d, i) => Math.exp(s * d) + (i % (n + 1) === 0 ? mu : 0))
  const c = choleskySolve(cholesky(matrix(n, n, K))!, train.y)
  const Kv = squaredDistances(validation.X, train.X)
  const r = matVec(matrix(Kv.rows, n, Kv.data.map((d) => Math.exp(s * d))), c).map((x, i) => x - validation.y[i]!)
  return Float64Array.of((0.5 * dot(r, r)) / validation.X.rows)
}

describe('kernelRidgeProblem', () => {
  const lambda = Float64Array.of(0.4, -1)
  const problem = orThrow(kernelRidgeProblem(train, validation, lambda))
  it('squared distances: zero diagonal, symmetric, ‖a − b‖²', () => {
    const D = squaredDistances(train.X, train.X)
    const p = train.X.cols
    for (const [i, j] of [[0, 0], [3, 7], [7, 3]] as const) {
      const a = train.X.data.subarray(i * p, (i + 1) * p)
      const b = train.X.data.subarray(j * p, (j + 1) * p)
      expect(D.data[i * 30 + j]).toBeCloseTo(distance(a, b) ** 2, 12)
    }
    expect(() => squaredDistances(train.X, matrix(1, 2, new Float64Array(2)))).toThrow(RangeError)
  })
  it('exact matches the dense closed form of f and central differences of it; τ = μ ≤ the true curvature', () => {
    const r = orThrow(exact(problem, lambda))
    if (r.status === 'diverged') throw new Error(r.reason)
    expect(Math.abs(r.value - closedF(lambda)[0]!)).toBeLessThan(1e-12 * closedF(lambda)[0]!)
    for (const mu of [Float64Array.of(1, 0), Float64Array.of(0, 1), Float64Array.of(0.6, -0.8)])
      expect(fdMismatch(Float64Array.of(dot(r.gradient, mu)), directional(closedF, lambda, mu), { rtol: 1e-6, atol: 1e-12 })).toBeUndefined()
    expect(norm(r.gradient)).toBeGreaterThan(0)
    const { tau, L } = problem.lower.curvature(lambda)
    expect(tau).toBe(Math.exp(-1))
    expect(L).toBeGreaterThan(tau)
  })
  it('refuses sets that do not fit together', () => {
    const short = { X: validation.X, y: validation.y.subarray(1) }
    expect(E.isLeft(kernelRidgeProblem(train, short, lambda))).toBe(true)
    const narrow = { X: matrix(2, 1, Float64Array.of(1, 2)), y: Float64Array.of(0, 1) }
    const l = kernelRidgeProblem(train, narrow, lambda)
    expect(E.isLeft(l) && l.left.message).toMatch(/8 features, the validation rows 1/)
  })
})
