// examples/biasedRegularization.ts: AID's hypergradient against the closed form, checkProblem, and
// the outer loop lowering f.
import { describe, expect, it } from 'vitest'
import { linalg, orThrow, random } from 'hypergrad'
import type { RVec, Vec } from 'hypergrad'
import { checkProblem, formatFailures } from 'hypergrad/laws'
import { biasedRegularization, hypergradient, learnBias, task, type Regression } from './biasedRegularization.js'

/**
 * w(λ) = (XᵀX + ρI)⁻¹(Xᵀy + ρλ) and ∇f(λ) = ρ (XᵀX + ρI)⁻¹ X_valᵀ(X_val w − y_val): the stationarity
 * of ℓ, and ∂w/∂λ = ρ(XᵀX + ρI)⁻¹ (symmetric).
 */
const closedForm = (train: Regression, validation: Regression, rho: number, lambda: RVec): { f: number; grad: Vec } => {
  const p = train.X.cols
  const G = linalg.matMul(linalg.transpose(train.X), train.X)
  const H = linalg.matrix(p, p, G.data.map((x, k) => (k % (p + 1) === 0 ? x + rho : x)))
  const chol = linalg.cholesky(H)!
  const rhs = linalg.matTVec(train.X, train.y).map((x, j) => x + rho * lambda[j]!)
  const w = linalg.choleskySolve(chol, rhs)
  const r = linalg.sub(linalg.matVec(validation.X, w), validation.y)
  return { f: 0.5 * linalg.normSq(r), grad: linalg.scale(rho, linalg.choleskySolve(chol, linalg.matTVec(validation.X, r))) }
}

describe('examples/biasedRegularization.ts', () => {
  const b = random.normals(random.seed(1), 6)[0]
  const { train, validation } = task(3, 5, b, 0.2)
  const rho = 0.7
  const lambda = random.normals(random.seed(4), 6)[0]
  it('AID matches the closed-form hypergradient to 1e-8; checkProblem passes', () => {
    const problem = orThrow(biasedRegularization(train, validation, rho, lambda))
    const r = orThrow(hypergradient(problem, lambda))
    if (r.status === 'diverged' || r.gradient === null) throw new Error('diverged')
    const truth = closedForm(train, validation, rho, lambda).grad
    expect(linalg.distance(r.gradient, truth) / linalg.norm(truth)).toBeLessThan(1e-8)
    const report = checkProblem(problem, { seed: 5, numRuns: 6, lambda0: lambda, data: { train, validation } })
    expect(formatFailures(report, 'biasedRegularization')).toBe('')
  })
  it('gradient descent on the bias lowers f(λ) (the closed form of f at each step)', () => {
    const result = learnBias(train, validation, rho, 5, 0.02)
    const fs = result.trajectory.map((s) => closedForm(train, validation, rho, Float64Array.from(s.lambda)).f)
    result.trajectory.forEach((s, i) => expect(Math.abs(s.value - fs[i]!)).toBeLessThan(1e-9 * fs[i]!))
    for (let i = 1; i < fs.length; i++) expect(fs[i]!).toBeLessThan(fs[i - 1]!)
  })
})
