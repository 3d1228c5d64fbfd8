// examples/hyperRepresentation.ts: checkProblem on its problem, AID against exact, and ⟨∇f(Λ), μ⟩
// against central differences of the closed-form f(Λ) = ½‖tanh(X_val Λᵀ) w(Λ) − y_val‖², with
// w(Λ) = (HᵀH + ρI)⁻¹Hᵀy, H = tanh(X Λᵀ).
import { describe, expect, it } from 'vitest'
import { exact, linalg, orThrow, random } from 'hypergrad'
import type { RVec } from 'hypergrad'
import { checkProblem, directional, fdMismatch, formatFailures } from 'hypergrad/laws'
import { hypergradient, hyperRepresentation, initialLambda, teacher, type Regression } from './hyperRepresentation.js'

const features = (X: linalg.Matrix, lambda: RVec, k: number): linalg.Matrix =>
  linalg.matrix(X.rows, k, linalg.matMul(X, linalg.transpose(linalg.matrix(k, X.cols, lambda))).data.map(Math.tanh))

const closedF = (train: Regression, validation: Regression, k: number, rho: number) => (lambda: RVec): Float64Array => {
  const H = features(train.X, lambda, k)
  const G = linalg.matMul(linalg.transpose(H), H)
  const A = linalg.matrix(k, k, G.data.map((x, i) => (i % (k + 1) === 0 ? x + rho : x)))
  const w = linalg.choleskySolve(linalg.cholesky(A)!, linalg.matTVec(H, train.y))
  const r = linalg.sub(linalg.matVec(features(validation.X, lambda, k), w), validation.y)
  return Float64Array.of(0.5 * linalg.normSq(r))
}

describe('examples/hyperRepresentation.ts', () => {
  const p = 5, k = 3, rho = 0.3
  const { train, validation } = teacher(7, 12, 10, p, k)
  const lambda = initialLambda(k, p, 8)
  const problem = orThrow(hyperRepresentation(train, validation, k, rho, lambda))
  it('its problem passes checkProblem', () => {
    const report = checkProblem(problem, { seed: 9, numRuns: 4, lambda0: lambda, batchSize: 1, data: { train, validation } })
    expect(formatFailures(report, 'hyperRepresentation')).toBe('')
  })
  it('AID matches exact and central differences of the closed-form f(Λ)', () => {
    const r = orThrow(hypergradient(problem, lambda))
    const e = orThrow(exact(problem, lambda, { tol: 1e-14 }))
    if (r.status === 'diverged' || r.gradient === null || e.status === 'diverged' || e.gradient === null) throw new Error('diverged')
    expect(linalg.distance(r.gradient, e.gradient) / linalg.norm(e.gradient)).toBeLessThan(1e-10)
    expect(Math.abs(r.value! - closedF(train, validation, k, rho)(lambda)[0]!)).toBeLessThan(1e-10 * r.value!)
    for (const s of [1, 2]) {
      const mu = random.normals(random.seed(s), k * p)[0]
      expect(fdMismatch(Float64Array.of(linalg.dot(r.gradient, mu)), directional(closedF(train, validation, k, rho), lambda, mu), { rtol: 1e-6, atol: 1e-10 })).toBeUndefined()
    }
  })
})
