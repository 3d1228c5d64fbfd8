// examples/equilibrium.ts on 6 digits with 3 hidden units: checkProblem on the fixed-point problem,
// AID against exact, and ⟨∇f(λ), μ⟩ against central differences of f(λ) = E(w(λ), λ) with w(λ)
// solved to rounding.
import { describe, expect, it } from 'vitest'
import { exact, linalg, orThrow, random } from 'hypergrad'
import type { RVec } from 'hypergrad'
import { checkProblem, directional, fdMismatch, formatFailures } from 'hypergrad/laws'
import { equilibriumProblem, hypergradient, initialLambda, layout, mnistDigits, normA } from './equilibrium.js'

describe('examples/equilibrium.ts', () => {
  const k = 3
  const digits = orThrow(mnistDigits(6, 100))
  const lambda = initialLambda(k, 49, 2)
  const problem = orThrow(equilibriumProblem(digits, k, lambda))
  const gradient = (r: { status: string; gradient: Float64Array | null }): Float64Array => {
    if (r.status === 'diverged' || r.gradient === null) throw new Error('diverged')
    return r.gradient
  }
  it('its problem passes checkProblem; the contraction constant is ‖A‖₂ < 0.9', () => {
    expect(layout(k, 49, 10).size).toBe(problem.hyperDim)
    expect(problem.contraction(lambda)).toBe(normA(lambda, k))
    expect(normA(lambda.map((x) => 100 * x), k)).toBeLessThan(0.9)
    const report = checkProblem(problem, { seed: 3, numRuns: 4, lambda0: lambda, data: digits })
    expect(formatFailures(report, 'equilibrium')).toBe('')
  })
  it('AID matches exact, and both match central differences of f(λ)', () => {
    const g = gradient(orThrow(hypergradient(problem, lambda)))
    const truth = gradient(orThrow(exact(problem, lambda, { tol: 1e-15 })))
    expect(linalg.distance(g, truth) / linalg.norm(truth)).toBeLessThan(1e-10)
    // f(λ) with w(λ) by fixed-point iteration run to a fixed point of the rounding.
    const f = (l: RVec): Float64Array => {
      let w: RVec = new Float64Array(problem.dim)
      for (let i = 0; i < 200; i++) w = problem.phi(w, l)
      return Float64Array.of(problem.upper(w, l))
    }
    for (const s of [5, 6]) {
      const mu = random.normals(random.seed(s), problem.hyperDim)[0]
      const m = fdMismatch(Float64Array.of(linalg.dot(g, mu)), directional(f, lambda, mu), { rtol: 1e-6, atol: 1e-10 })
      expect(m).toBeUndefined()
    }
  })
})
