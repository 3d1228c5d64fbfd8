import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { matTVec, matVec } from '../linalg/matrix.js'
import { conjugateGradient } from '../solvers/linear/conjugateGradient.js'
import { fixedPointLinear } from '../solvers/linear/fixedPoint.js'
import { neumann } from '../solvers/linear/neumann.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { heavyBall } from '../solvers/lower/heavyBall.js'
import { heavyBallParams } from '../solvers/params.js'
import type { LowerSolver } from '../solvers/types.js'
import { orThrow } from '../errors.js'
import { aid } from './aid.js'
import { exact } from './exact.js'
import { affineProblem, denseAt, gaussian, gaussianVec, linearFP, logistic, norm, quadratic, relErr, ridge, right, scaledIdentity, snapshot } from './fixtures.test-util.js'
import { divergenceOf, estimateOf } from './fixtures.test-util.js'

const fp = fixedPointIteration()
const fpl = fixedPointLinear()
const cg = conjugateGradient()

describe('aid', () => {
  it('AID-FP and AID-CG reach the closed-form hypergradient on the quadratic and on ridge', () => {
    const p = quadratic(8)
    const lam = Float64Array.of(1, -1, 0.5)
    const truth = p.hypergradient(lam)
    expect(relErr(estimateOf(aid(p, lam, { lower: fp, linear: fpl, t: 300, k: 300 })).gradient, truth)).toBeLessThan(1e-10)
    expect(relErr(estimateOf(aid(p, lam, { lower: fp, linear: cg, t: 300, k: 50 })).gradient, truth)).toBeLessThan(1e-10)
    const { problem, lambda } = ridge(4)
    const rt = problem.hypergradient(lambda)
    expect(relErr(estimateOf(aid(problem, lambda, { lower: fp, linear: cg, t: 200, k: 50 })).gradient, rt)).toBeLessThan(1e-9)
    expect(relErr(estimateOf(aid(problem, lambda, { lower: fp, linear: neumann(), t: 200, k: 200 })).gradient, rt)).toBeLessThan(1e-9)
  })
  it('AID with heavy ball and CG reaches the exact (Newton + dense solve) hypergradient on logistic regression', () => {
    const { problem, lambda } = logistic(6, 60, 6, 1)
    const ex = estimateOf(exact(problem, lambda))
    const { tau, L } = problem.lower.curvature(lambda)
    const hb = orThrow(heavyBallParams(tau, L, problem.alpha))
    const r = estimateOf(aid(problem, lambda, { lower: heavyBall({ beta: hb.beta, eta: hb.eta }), linear: cg, t: 400, k: 40 }))
    expect(relErr(r.gradient, ex.gradient)).toBeLessThan(1e-9)
  })
  it('with t = k = 0 it is ∇₂E(w₀) + ∂₂Φ(w₀)ᵀv₀ at the given starts', () => {
    const p = linearFP(5)
    const lam = Float64Array.of(0.2, 0.1, -0.4)
    const w0 = gaussianVec(1, p.dim)
    const v0 = gaussianVec(2, p.dim)
    const r = estimateOf(aid(p, lam, { lower: fp, linear: fpl, t: 0, k: 0, w0, v0 }))
    const d = denseAt(p, w0, lam)
    const expected = matTVec(d.D2, v0)
    for (let j = 0; j < expected.length; j++) expected[j] = expected[j]! + 0.1 * lam[j]! // upperReg = 0.1
    expect(relErr(r.gradient, expected)).toBeLessThan(1e-13)
    expect([r.t, r.k]).toEqual([0, 0])
  })
  it('stops each stage at its tolerance (absolute for the lower level, relative to ‖∇₁E‖ for the linear system)', () => {
    const p = quadratic(9)
    const lam = Float64Array.of(0.3, 0.3, 0.3)
    const r = estimateOf(aid(p, lam, { lower: fp, linear: fpl, t: 1000, k: 1000, tolLower: 1e-6, tolLinear: 1e-8 }))
    expect(r.status).toBe('converged')
    expect(r.t).toBeLessThan(1000)
    expect(r.lowerResiduals[r.t]!).toBeLessThanOrEqual(1e-6)
    expect(r.lowerResiduals[r.t - 1]!).toBeGreaterThan(1e-6)
    const b = p.gradUpperW(r.w, lam)
    expect(r.linearResiduals[r.k]!).toBeLessThanOrEqual(1e-8 * norm(b))
    expect(r.linearResiduals[r.k - 1]!).toBeGreaterThan(1e-8 * norm(b))
    // The true residual of vₖ, recomputed, agrees with the dense one.
    const d = denseAt(p, r.w, lam)
    const av = matVec(d.A, r.v)
    expect(r.linearResidual).toBeCloseTo(norm(Float64Array.from(av, (x, i) => x - d.b[i]!)), 12)
    expect(r.stages).toEqual({ lower: 'converged', linear: 'converged' })
  })
  it('counts Φ evaluations and derivative products', () => {
    const p = quadratic(10)
    const lam = Float64Array.of(0, 0, 1)
    const r = estimateOf(aid(p, lam, { lower: fp, linear: fpl, t: 7, k: 5 }))
    // t + 1 Φ (the last gives ‖Φ(wₜ) − wₜ‖), k + 1 ∂₁Φᵀ (same) + 1 for the true residual, one ∂₂Φᵀ.
    expect(r.counts).toEqual({ phi: 8, jacW: 7, jacLambda: 1 })
    expect(r.status).toBe('maxIter')
  })
  it('returns typed errors for bad t, k, λ, starts, q ≥ 1, CG on a non-symmetric problem, stochastic methods on a deterministic problem', () => {
    const p = quadratic(2)
    const lam = Float64Array.of(1, 1, 1)
    const bad = affineProblem(scaledIdentity(3, 1.1), gaussian(1, 3, 3), new Float64Array(3), new Float64Array(3), 1.1)
    const stoch: LowerSolver = { ...fixedPointIteration(), name: 'fake-sgd', stochastic: true }
    const cases = [
      aid(p, lam, { lower: fp, linear: fpl, t: -1, k: 1 }),
      aid(p, lam, { lower: fp, linear: fpl, t: 1.5, k: 1 }),
      aid(p, lam, { lower: fp, linear: fpl, t: 1, k: NaN }),
      aid(p, Float64Array.of(1, 1), { lower: fp, linear: fpl, t: 1, k: 1 }),
      aid(p, Float64Array.of(1, NaN, 1), { lower: fp, linear: fpl, t: 1, k: 1 }),
      aid(p, lam, { lower: fp, linear: fpl, t: 1, k: 1, w0: new Float64Array(5) }),
      aid(p, lam, { lower: fp, linear: fpl, t: 1, k: 1, v0: Float64Array.of(0, 0, 0, 0, 0, NaN) }),
      aid(bad, lam, { lower: fp, linear: fpl, t: 1, k: 1 }),
      aid(linearFP(1), lam, { lower: fp, linear: cg, t: 1, k: 1 }),
      aid(linearFP(1), lam, { lower: stoch, linear: fpl, t: 1, k: 1 }),
      aid(p, lam, { lower: fp, linear: fpl, t: 1, k: 1, tolLinear: -1 }),
    ].map((e) => (E.isLeft(e) ? e.left.kind : 'right'))
    expect(cases).toEqual(['domain', 'domain', 'domain', 'dimension', 'domain', 'dimension', 'data', 'domain', 'domain', 'config', 'domain'])
    const q = aid(bad, lam, { lower: fp, linear: fpl, t: 1, k: 1 })
    expect(E.isLeft(q) && q.left.message).toMatch(/q = 1\.1/)
  })
  it('reports divergence of the lower level (a map that lies about q) as data: where, why, and no number that looks like an estimate', () => {
    // ‖M‖ = 1.1 but contraction() claims 0.5.
    const liar = affineProblem(scaledIdentity(3, 1.1), gaussian(2, 3, 2), Float64Array.of(1, 1, 1), new Float64Array(3), 0.5)
    const r = divergenceOf(aid(liar, Float64Array.of(1, 1), { lower: fp, linear: fpl, t: 5000, k: 10 }))
    expect(r.divergedAt.stage).toBe('lower')
    expect(r.divergedAt.iter).toBeGreaterThan(100)
    expect([r.gradient, r.value]).toEqual([null, null])
    expect(r.reason).toMatch(/blow-up/)
    expect(r.k).toBe(0)
    expect(r.w.every(Number.isFinite)).toBe(true)
  })
  it('reports divergence of the linear stage (fixed point on a non-contractive system) with its iteration', () => {
    const liar = affineProblem(scaledIdentity(3, 1.1), gaussian(2, 3, 2), Float64Array.of(1, 1, 1), new Float64Array(3), 0.5)
    const r = divergenceOf(aid(liar, Float64Array.of(1, 1), { lower: fp, linear: fpl, t: 0, k: 5000, w0: Float64Array.of(3, 3, 3) }))
    expect(r.divergedAt.stage).toBe('linear')
    expect(r.divergedAt.iter).toBe(r.k + 1)
    expect(r.gradient).toBeNull()
    expect(r.v.every(Number.isFinite)).toBe(true)
    expect(r.reason).toMatch(/blow-up/)
  })
  it('is pure and deterministic', () => {
    const p = quadratic(12)
    const lam = Float64Array.of(1, 2, 3)
    const w0 = gaussianVec(4, p.dim)
    const v0 = gaussianVec(5, p.dim)
    const snap = snapshot(lam, w0, v0)
    const a = estimateOf(aid(p, lam, { lower: fp, linear: cg, t: 9, k: 4, w0, v0 }))
    const b = estimateOf(aid(p, lam, { lower: fp, linear: cg, t: 9, k: 4, w0, v0 }))
    expect(Array.from(a.gradient)).toEqual(Array.from(b.gradient))
    ;[lam, w0, v0].forEach((x, i) => expect(Array.from(x)).toEqual(Array.from(snap[i]!)))
    expect(a.w).not.toBe(w0)
  })
})
