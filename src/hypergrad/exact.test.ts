import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { runLower } from '../solvers/run.js'
import { seed } from '../random/rng.js'
import { exact } from './exact.js'
import { affineProblem, denseAt, gaussian, gaussianVec, linearFP, logistic, norm, quadratic, relErr, ridge, right, scaledIdentity, snapshot } from './fixtures.test-util.js'
import { matVec } from '../linalg/matrix.js'
import { iter } from '../solvers/testing.test-util.js'
import { estimateOf } from './fixtures.test-util.js'

describe('exact', () => {
  it('equals the closed form on the quadratic (one Newton step: Φ is affine; Cholesky path)', () => {
    const p = quadratic(5)
    const lam = Float64Array.of(0.5, -1, 2)
    const r = estimateOf(exact(p, lam))
    expect(relErr(r.gradient, p.hypergradient(lam))).toBeLessThan(1e-12)
    expect(relErr(r.w, p.solution(lam))).toBeLessThan(1e-12)
    expect([r.status, r.t]).toEqual(['converged', 1])
    expect(r.counts).toEqual({ phi: 2, jacW: 2 * p.dim, jacLambda: 1 })
  })
  it('equals the closed form on the non-symmetric linear fixed-point problem (LU path)', () => {
    const p = linearFP(3, 0.9)
    const lam = Float64Array.of(1, 0, -1)
    const r = estimateOf(exact(p, lam))
    expect(relErr(r.gradient, p.hypergradient(lam))).toBeLessThan(1e-11)
    // v solves (I − ∂₁Φᵀ)v = ∇₁E: check against the dense system.
    const d = denseAt(p, r.w, lam)
    expect(relErr(matVec(d.A, r.v), d.b)).toBeLessThan(1e-12)
    // The direct solve's residuals: at v₀ = 0 (‖b‖), then at the solution, computed densely.
    expect(r.linearResiduals.length).toBe(2)
    expect(r.linearResiduals[0]!).toBeCloseTo(norm(d.b), 12)
    expect(r.linearResiduals[1]!).toBeLessThan(1e-12 * norm(d.b))
  })
  it('equals the closed form on ridge regression (∂₂Φ depends on w)', () => {
    const { problem, lambda } = ridge(7)
    const r = estimateOf(exact(problem, lambda))
    expect(relErr(r.gradient, problem.hypergradient(lambda))).toBeLessThan(1e-11)
  })
  it('on a moderate logistic regression (d = 40, n = 300), agrees with central differences of f(λ) = E(w(λ), λ), w(λ) by fixed-point iteration', () => {
    const { problem, lambda } = logistic(9, 300, 40, 0.5)
    const t0 = performance.now()
    const r = estimateOf(exact(problem, lambda))
    const ms = performance.now() - t0
    expect(r.status).toBe('converged')
    expect(r.lowerResiduals[r.lowerResiduals.length - 1]!).toBeLessThanOrEqual(1e-12 * (1 + norm(r.w)))
    // f by an independent solver: fixed-point iteration to ‖Φ(w) − w‖ ≤ 1e-13.
    const f = (l: Float64Array): number => {
      const run = right(runLower(fixedPointIteration(), problem, l, r.w, seed(0), { maxIter: 20_000, tol: 1e-13 }))
      expect(run.status).toBe('converged')
      return problem.upper(run.state.w, l)
    }
    const h = 1e-5
    for (const s of [1, 2, 3]) {
      const u = gaussianVec(100 + s, problem.hyperDim)
      const plus = Float64Array.from(lambda, (x, i) => x + h * u[i]!)
      const minus = Float64Array.from(lambda, (x, i) => x - h * u[i]!)
      const fd = (f(plus) - f(minus)) / (2 * h)
      const an = r.gradient.reduce((acc, g, i) => acc + g * u[i]!, 0)
      expect(Math.abs(fd - an)).toBeLessThan(1e-6 * (Math.abs(an) + norm(r.gradient)))
    }
    expect(ms).toBeLessThan(5000)
  })
  it('rejects q ≥ 1, bad λ, bad w, bad maxNewton with typed errors', () => {
    const bad = affineProblem(scaledIdentity(3, 1.1), gaussian(1, 3, 2), new Float64Array(3), new Float64Array(3), 1.1)
    const q = exact(bad, Float64Array.of(0, 0))
    expect(E.isLeft(q) && q.left.kind).toBe('domain')
    expect(E.isLeft(q) && q.left.message).toMatch(/q = 1\.1/)
    const p = quadratic(2)
    const kinds = [
      exact(p, Float64Array.of(1, 2)),
      exact(p, Float64Array.of(1, NaN, 2)),
      exact(p, Float64Array.of(1, 1, 2), { w: new Float64Array(2) }),
      exact(p, Float64Array.of(1, 1, 2), { maxNewton: -1 }),
      exact(p, Float64Array.of(1, 1, 2), { tol: -1 }),
    ].map((e) => (E.isLeft(e) ? e.left.kind : 'right'))
    expect(kinds).toEqual(['dimension', 'domain', 'dimension', 'domain', 'domain'])
  })
  it('reports maxIter (with a reason) when Newton is capped before tol, and never mutates its inputs', () => {
    const { problem, lambda } = logistic(2, 40, 5, 1)
    const w = gaussianVec(3, problem.dim)
    const [l0, w0] = snapshot(lambda, w)
    const r = estimateOf(exact(problem, lambda, { w, maxNewton: 1 }))
    expect(r.status).toBe('maxIter')
    expect(r.reason).toMatch(/after 1 Newton steps/)
    expect(Array.from(lambda)).toEqual(Array.from(l0!))
    expect(Array.from(w)).toEqual(Array.from(w0!))
  })
})
