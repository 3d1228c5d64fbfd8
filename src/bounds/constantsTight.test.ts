/**
 * The constants of src/bounds/constants.ts are not only upper bounds (constants.test.ts) but the
 * right ones: each Lipschitz constant is attained, or equals its documented form (K3)–(K4), and
 * the values at the solution add exactly the Lipschitz constant times the certified radius.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Dataset } from '../data/dataset.js'
import { orThrow } from '../errors.js'
import { denseOf, spectralNorm } from '../linalg/matrix.js'
import { matrix, type RVec } from '../linalg/types.js'
import { distance, norm } from '../linalg/vector.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { ermProblem } from '../problem/erm.js'
import { dataCleaningProblem } from '../problems/dataCleaning.js'
import { erQuadraticProblem } from '../problems/erQuadratic.js'
import { linearFixedPointProblem } from '../problems/linearFixedPoint.js'
import { logisticProblem, squaredSpectralNorm } from '../problems/logistic.js'
import { quadraticProblem } from '../problems/quadratic.js'
import { ridgeProblem } from '../problems/ridge.js'
import * as R from '../random/rng.js'
import {
  aPosterioriInputsAt,
  certifiedRadius,
  certifiedSolution,
  crossJacobianNorm,
  dataCleaningCrossLipschitz,
  erConstantsFor,
  grazziConstantsFor,
  lipschitzConstants,
  logisticHessianLipschitz,
  LOGISTIC_PSI3_MAX,
} from './constants.js'

const dataset = (seed: number, n: number, p: number, labels: 'sign' | 'real'): Dataset => {
  const [x, r] = R.normals(R.seed(seed), n * p)
  const [z] = R.normals(r, n)
  return { X: matrix(n, p, x), y: labels === 'sign' ? z.map((s) => (s >= 0 ? 1 : -1)) : z }
}

/** ‖∂₂Φ(w)‖ from the dense Jacobian (independent of the code under test). */
const crossNormDense = (p: BilevelProblem, lambda: RVec, w: RVec): number => spectralNorm(denseOf(p.hyperDim, (mu) => p.jvpLambda(w, lambda, mu), p.dim))

/** ‖∇₁E(w + h u) − ∇₁E(w − h u)‖/(2h) for a unit u: the Lipschitz quotient of ∇₁E along u. */
const gradUpperQuotient = (p: BilevelProblem, lambda: RVec, w: RVec, u: RVec, h: number): number =>
  distance(p.gradUpperW(w.map((x, i) => x + h * u[i]!), lambda), p.gradUpperW(w.map((x, i) => x - h * u[i]!), lambda)) / (2 * h)

describe('the Lipschitz constants are attained', () => {
  it('logistic μ₁ = max y² σ_max(X_val)²/4 is the curvature of E at w = 0 along the top singular vector', () => {
    const train = dataset(1, 12, 3, 'sign')
    const val = dataset(2, 9, 3, 'sign')
    const lambda = Float64Array.of(0.5)
    const p = orThrow(logisticProblem(train, val, lambda, { regularization: 'scalar' }))
    const lip = orThrow(lipschitzConstants(p, lambda))
    // The Jacobian of ∇₁E at 0 by differences: (1/4) X_valᵀX_val, whose norm is μ₁.
    const g0 = p.gradUpperW(new Float64Array(3), lambda)
    const sn = spectralNorm(denseOf(3, (u) => p.gradUpperW(u.map((x) => 1e-6 * x), lambda).map((g, i) => g - g0[i]!))) / 1e-6
    expect(lip.mu1).toBeGreaterThanOrEqual(sn * (1 - 1e-6))
    expect(lip.mu1).toBeLessThanOrEqual(sn * (1 + 1e-5))
    expect(lip.mu1).toBeCloseTo(squaredSpectralNorm(val.X) / 4, 12)
    expect(lip.nu2).toBe(p.alpha)
    expect(lip.LB).toBe(1)
    expect(lip.mu2).toBe(0)
    expect(lip.nu1).toBeCloseTo(p.alpha * logisticHessianLipschitz(train.X, train.y), 14)
    expect(lip.quadraticLower).toBe(false)
  })
  it('ridge: μ₁ = σ_max(X_val)², ν₂ = α, ν₁ = 0, attained along the top singular vector; quadratic lower level', () => {
    const val = dataset(4, 9, 3, 'real')
    const lambda = Float64Array.of(0.5, 1, 2)
    const p = orThrow(ridgeProblem(dataset(3, 12, 3, 'real'), val, lambda, { regularization: 'perFeature' }))
    const lip = orThrow(lipschitzConstants(p, lambda))
    const u = Float64Array.of(1, 0, 0)
    expect(lip.mu1).toBeGreaterThanOrEqual(gradUpperQuotient(p, lambda, new Float64Array(3), u, 1))
    expect(lip.mu1).toBeCloseTo(squaredSpectralNorm(val.X), 12)
    expect(lip).toMatchObject({ nu1: 0, nu2: p.alpha, mu2: 0, LH: 0, LB: 1, quadraticLower: true })
    // ν₂ = α is attained: ∂₂Φ(w) = −α diag(w).
    const w1 = Float64Array.of(1, 0, 0)
    const w2 = Float64Array.of(3, 0, 0)
    expect(Math.abs(crossNormDense(p, lambda, w2) - crossNormDense(p, lambda, w1)) / distance(w1, w2)).toBeCloseTo(p.alpha, 12)
  })
  it('the closed-form problems pass their own constants through; E&R: ν₁ = αL_H, ν₂ = αL_B', () => {
    const quad = orThrow(quadraticProblem({ dim: 3, hyperDim: 2, nSamples: 2, seed: 5 }))
    const lq = Float64Array.of(0.1, 0.2)
    const cq = quad.constants(lq)
    expect(orThrow(lipschitzConstants(quad, lq))).toEqual({ nu1: cq.nu1, nu2: cq.nu2, mu1: cq.mu1, mu2: cq.mu2, LH: 0, LB: 0, quadraticLower: true })
    const lin = orThrow(linearFixedPointProblem({ dim: 3, hyperDim: 2, q: 0.7, seed: 6 }))
    const cl = lin.constants(lq)
    expect(orThrow(lipschitzConstants(lin, lq))).toEqual({ nu1: cl.nu1, nu2: cl.nu2, mu1: cl.mu1, mu2: cl.mu2, quadraticLower: true })
    const er = orThrow(erQuadraticProblem({ rows: 12, cols: 3, seed: 7 }))
    const ce = er.constants(er.lambda0)
    expect(orThrow(lipschitzConstants(er, er.lambda0))).toEqual({
      nu1: er.alpha * ce.LH,
      nu2: er.alpha * ce.LB,
      mu1: ce.Lf,
      mu2: 0,
      LH: ce.LH,
      LB: ce.LB,
      quadraticLower: true,
    })
  })
  it('data cleaning: L_B of (K4) is attained by one row at w = 0 (ψ″ = 1/4) along x; ν₁ = αL_H with weights σ(λᵢ), ν₂ = αL_B', () => {
    const x = Float64Array.of(0.6, -0.8, 1.2)
    const X = matrix(1, 3, x)
    const lambda = Float64Array.of(0.4)
    const sig = 1 / (1 + Math.exp(-0.4))
    const LB = dataCleaningCrossLipschitz(X, Float64Array.of(1), lambda)
    expect(LB).toBeCloseTo((sig * (1 - sig) * norm(x) ** 2) / 4, 12)
    const p = orThrow(dataCleaningProblem({ X, y: Float64Array.of(1) }, { X, y: Float64Array.of(-1) }, lambda))
    const h = 1e-5
    const w1 = x.map((v) => (-h * v) / norm(x))
    const w2 = x.map((v) => (h * v) / norm(x))
    const quotient = Math.abs(crossNormDense(p, lambda, w2) / p.alpha - crossNormDense(p, lambda, w1) / p.alpha) / distance(w1, w2)
    expect(quotient).toBeGreaterThan(LB * (1 - 1e-6))
    const lip = orThrow(lipschitzConstants(p, lambda))
    expect(lip.LB).toBe(LB)
    expect(lip.nu2).toBeCloseTo(p.alpha * LB, 14)
    expect(lip.LH).toBeCloseTo(logisticHessianLipschitz(X, Float64Array.of(1), Float64Array.of(sig)), 14)
    expect(lip.nu1).toBeCloseTo(p.alpha * lip.LH!, 14)
    expect(lip.mu1).toBeCloseTo(squaredSpectralNorm(X) / 4, 12)
    expect(lip.quadraticLower).toBe(false)
  })
  it('(K3) and (K4) take the smaller of their two forms, whichever it is', () => {
    // Parallel rows x and x/4: σ_max² = (1 + 1/16)‖x‖², so the first form of (K3), M Σ‖xᵢ‖³, is the smaller.
    const x = Float64Array.of(1, 2, 2)
    const parallel = matrix(2, 3, Float64Array.of(...x, ...x.map((v) => v / 4)))
    const r = norm(x)
    expect(logisticHessianLipschitz(parallel, Float64Array.of(1, -1))).toBeCloseTo(LOGISTIC_PSI3_MAX * r ** 3 * (1 + 1 / 64), 9)
    // Orthogonal rows of equal norm: σ_max² = r², the second form maxᵢ‖xᵢ‖ σ_max² = r³ is the smaller.
    const orth = matrix(3, 3, Float64Array.of(2, 0, 0, 0, 2, 0, 0, 0, 2))
    expect(logisticHessianLipschitz(orth, Float64Array.of(1, 1, -1))).toBeCloseTo(LOGISTIC_PSI3_MAX * 8 * (1 + 1e-9), 9)
    // Labels enter as |y|³ and weights linearly.
    expect(logisticHessianLipschitz(orth, Float64Array.of(2, 2, 2), Float64Array.of(0.5, 0.5, 0.5))).toBeCloseTo(LOGISTIC_PSI3_MAX * 32 * (1 + 1e-9), 9)
    // (K4) with cᵢ = σ'(λᵢ)yᵢ²‖xᵢ‖ (σ'(0) = 1/4): orthogonal rows 2eᵢ have cᵢ = 1/2, and
    // σ_max · maxᵢcᵢ = 1 is below (Σcᵢ²‖xᵢ‖²)^{1/2} = √3; for the parallel rows x, x/4 the
    // second (Frobenius) form is the smaller.
    const zeros3 = Float64Array.of(0, 0, 0)
    expect(dataCleaningCrossLipschitz(orth, Float64Array.of(1, 1, 1), zeros3)).toBeCloseTo(0.25 * Math.sqrt(squaredSpectralNorm(orth)) * 0.5, 12)
    const c1 = 0.25 * r
    const c2 = (0.25 * r) / 4
    const frobenius = Math.sqrt((c1 * r) ** 2 + ((c2 * r) / 4) ** 2)
    expect(frobenius).toBeLessThan(Math.sqrt(squaredSpectralNorm(parallel)) * c1)
    expect(dataCleaningCrossLipschitz(parallel, Float64Array.of(1, 1), Float64Array.of(0, 0))).toBeCloseTo(0.25 * frobenius, 12)
  })
})

describe('the values at the solution: value at ŵ plus Lipschitz constant × certified radius', () => {
  it('grazziConstantsFor: G* = ‖∇₁E(ŵ)‖ + μ₁ρ, L_Φ = ‖∂₂Φ(ŵ)‖ + ν₂ρ, D = ‖w₀ − ŵ‖ + ρ, κ = min(L/τ, (1+q)/(1−q))', () => {
    const lambda = Float64Array.of(0.5, 1.5)
    const p = orThrow(logisticProblem(dataset(8, 12, 2, 'sign'), dataset(9, 8, 2, 'sign'), lambda, { regularization: 'perFeature' }))
    const w = Float64Array.of(0.3, -0.2)
    const w0 = Float64Array.of(1, 1)
    const rho = 0.25
    const c = orThrow(grazziConstantsFor(p, lambda, { w0, solution: { w, radius: rho } }))
    const lip = orThrow(lipschitzConstants(p, lambda))
    expect(c.gradUpperNormStar).toBeCloseTo(norm(p.gradUpperW(w, lambda)) + lip.mu1 * rho, 12)
    expect(c.LPhi).toBeCloseTo(crossNormDense(p, lambda, w) + lip.nu2 * rho, 12)
    expect(c.D).toBeCloseTo(distance(w0, w) + rho, 12)
    const { tau, L } = p.lower.curvature(lambda)
    expect(c.kappa).toBeCloseTo(Math.min(L / tau, (1 + c.q) / (1 - c.q)), 12)
    expect(c).toMatchObject({ q: p.contraction(lambda), nu1: lip.nu1, nu2: lip.nu2, mu1: lip.mu1, mu2: lip.mu2 })
    // The default start is 0.
    expect(orThrow(grazziConstantsFor(p, lambda, { solution: { w, radius: rho } })).D).toBeCloseTo(norm(w) + rho, 12)
  })
  it('erConstantsFor: ‖B(w*)‖ ≤ ‖B(ŵ)‖ + L_Bρ, ‖∇₁E(w*)‖ ≤ ‖∇₁E(ŵ)‖ + L_fρ, the curvature and the constants', () => {
    const lambda = R.uniformsIn(R.seed(10), 6, -1, 1)[0]
    const p = orThrow(dataCleaningProblem(dataset(11, 6, 2, 'sign'), dataset(12, 5, 2, 'sign'), lambda))
    const w = Float64Array.of(0.2, 0.4)
    const rho = 0.5
    const c = orThrow(erConstantsFor(p, lambda, { solution: { w, radius: rho } }))
    const lip = orThrow(lipschitzConstants(p, lambda))
    expect(c.BNormStar).toBeCloseTo(crossNormDense(p, lambda, w) / p.alpha + lip.LB! * rho, 12)
    expect(c.gradUpperNormStar).toBeCloseTo(norm(p.gradUpperW(w, lambda)) + lip.mu1 * rho, 12)
    expect(c).toMatchObject({ ...p.lower.curvature(lambda), LB: lip.LB, LH: lip.LH, Lf: lip.mu1, mu2: lip.mu2, quadraticLower: false })
    const lin = orThrow(linearFixedPointProblem({ dim: 2, hyperDim: 1, q: 0.5, seed: 1 }))
    expect(crossJacobianNorm(lin, Float64Array.of(1), w)).toBeCloseTo(crossNormDense(lin, Float64Array.of(1), w), 12)
  })
  it('certifiedRadius is the smaller of ‖Φ(ŵ) − ŵ‖/(1 − q) and ‖∇₁ℓ(ŵ)‖/τ; certifiedSolution reaches 1e-10 in few steps by Newton', () => {
    const lambda = Float64Array.of(0.05)
    const p = orThrow(logisticProblem(dataset(13, 30, 4, 'sign'), dataset(14, 8, 4, 'sign'), lambda, { regularization: 'scalar' }))
    const w = Float64Array.of(0.5, -0.5, 0.2, 0)
    const q = p.contraction(lambda)
    const viaPhi = distance(p.phi(w, lambda), w) / (1 - q)
    const viaGrad = norm(p.lower.grad(w, lambda)) / p.lower.curvature(lambda).tau
    expect(certifiedRadius(p, lambda, w)).toBeCloseTo(Math.min(viaPhi, viaGrad), 12)
    const lin = orThrow(linearFixedPointProblem({ dim: 2, hyperDim: 1, q: 0.5, seed: 1 }))
    expect(certifiedRadius(lin, Float64Array.of(1), Float64Array.of(1, 1))).toBeCloseTo(
      distance(lin.phi(Float64Array.of(1, 1), Float64Array.of(1)), Float64Array.of(1, 1)) / 0.5,
      12,
    )
    // q is close to 1 here: 300 fixed-point steps alone would leave a large radius; Newton does not.
    const sol = orThrow(certifiedSolution(p, lambda, { maxIter: 300 }))
    expect(sol.radius).toBeLessThan(1e-10)
    expect(certifiedRadius(p, lambda, sol.w)).toBe(sol.radius)
    const fromStart = orThrow(certifiedSolution(p, lambda, { maxIter: 300, w0: sol.w }))
    expect(fromStart.radius).toBeLessThanOrEqual(sol.radius)
    expect(orThrow(certifiedSolution(p, lambda, { tol: 1e-3 })).radius).toBeLessThanOrEqual(1e-3)
  })
})

/** The contraction Φ(w) = w/2 + 1 on R (fixed point 2): from 0 the certified radius after i steps is 2^{1−i} exactly. */
const halving = {
  name: 'halving',
  dim: 1,
  hyperDim: 1,
  symmetric: true,
  checkLambda: (l: RVec) => E.right(Float64Array.from(l)),
  contraction: () => 0.5,
  phi: (w: RVec) => Float64Array.of(w[0]! / 2 + 1),
} as unknown as BilevelProblem

describe('certifiedSolution and certifiedRadius, step by step', () => {
  it('a contraction Φ(w) = w/2 + 1 from 0: the radius after i steps is 2^{1−i}; the budget is shared by the two phases', () => {
    const plain = halving
    const lam = Float64Array.of(0)
    // 10 steps (the first phase stops at the budget, before 1e-4).
    const ten = orThrow(certifiedSolution(plain, lam, { maxIter: 10, tol: 1e-300 }))
    expect(ten.radius).toBe(2 ** -9)
    expect(ten.w[0]).toBe(2 * (1 - 2 ** -10))
    // 30 steps allowed: the first phase reaches 2^{−14} ≤ 1e-4 in 15 steps, the second 2^{−19} ≤ 2e-6 in 5 more.
    const more = orThrow(certifiedSolution(plain, lam, { maxIter: 30, tol: 2e-6 }))
    expect(more.radius).toBe(2 ** -19)
    expect(orThrow(certifiedSolution(plain, lam, { maxIter: 30, tol: 2e-6, w0: Float64Array.of(2) })).radius).toBe(0)
  })
  it('closed-form problems: the solution with radius 0; ERM problems: Newton steps reach 1e-10 within a budget of 5 fixed-point steps', () => {
    const quad = orThrow(quadraticProblem({ dim: 3, hyperDim: 1, nSamples: 2, seed: 2 }))
    const lq = Float64Array.of(0.5)
    const sq = orThrow(certifiedSolution(quad, lq, { maxIter: 1 }))
    expect(sq.radius).toBe(0)
    expect(Array.from(sq.w)).toEqual(Array.from(quad.solution(lq)))
    const lambda = Float64Array.of(0.01)
    const p = orThrow(logisticProblem(dataset(13, 30, 4, 'sign'), dataset(14, 8, 4, 'sign'), lambda, { regularization: 'scalar' }))
    const sol = orThrow(certifiedSolution(p, lambda, { maxIter: 5 }))
    expect(sol.radius).toBeLessThan(1e-10)
    expect(certifiedRadius(p, lambda, sol.w)).toBe(sol.radius)
  })
  it('with a step longer than 2/(L + τ) the two certificates differ and the radius is the smaller (the gradient one); κ = L/τ', () => {
    // λ = 5: L/τ ≈ 3, so that q = αL − 1 = 0.8 and 1 − q < ατ.
    const lambda = Float64Array.of(5)
    const base = orThrow(logisticProblem(dataset(15, 20, 3, 'sign'), dataset(16, 8, 3, 'sign'), lambda, { regularization: 'scalar' }))
    const { tau, L } = base.lower.curvature(lambda)
    const long = orThrow(ermProblem(base.lower, base.upperObjective, { alpha: 1.8 / L }))
    const w = Float64Array.of(0.4, -0.3, 0.2)
    const viaPhi = distance(long.phi(w, lambda), w) / (1 - long.contraction(lambda))
    const viaGrad = norm(long.lower.grad(w, lambda)) / tau
    expect(viaGrad).toBeLessThan(viaPhi * 0.9)
    expect(certifiedRadius(long, lambda, w)).toBeCloseTo(viaGrad, 12)
    const q = long.contraction(lambda)
    expect(L / tau).toBeLessThan((1 + q) / (1 - q))
    expect(orThrow(grazziConstantsFor(long, lambda, { solution: { w, radius: 0 } })).kappa).toBeCloseTo(L / tau, 12)
  })
  it('aPosterioriInputsAt carries τ and the Lipschitz constants of the problem; (K4) keeps the labels squared', () => {
    const lambda = R.uniformsIn(R.seed(17), 5, -1, 1)[0]
    const train = dataset(18, 5, 2, 'sign')
    const p = orThrow(dataCleaningProblem(train, dataset(19, 4, 2, 'sign'), lambda))
    const lip = orThrow(lipschitzConstants(p, lambda))
    const x = orThrow(aPosterioriInputsAt(p, lambda, Float64Array.of(0.1, 0.2), Float64Array.of(1, -1)))
    expect(x).toMatchObject({ tau: p.lower.curvature(lambda).tau, LB: lip.LB, LH: lip.LH, Lf: lip.mu1, mu2: lip.mu2 })
    expect(lip.LB).toBeGreaterThan(0)
    expect(lip.LH).toBeGreaterThan(0)
    const X = matrix(1, 2, Float64Array.of(3, 4))
    const s = 1 / (1 + Math.exp(-0.3))
    expect(dataCleaningCrossLipschitz(X, Float64Array.of(2), Float64Array.of(0.3))).toBeCloseTo(0.25 * s * (1 - s) * 4 * 25, 12)
  })
})

describe('certifiedSolution stops where its contract says', () => {
  it('stops at the first iterate whose radius is ≤ tol, even when the radius equals tol', () => {
    // Φ(w) = w/2 + 1 from 0: the radius after i steps is 2^{1−i} exactly; tol = 2^{−19} is reached at step 20.
    const sol = orThrow(certifiedSolution(halving, Float64Array.of(0), { maxIter: 100, tol: 2 ** -19 }))
    expect(sol.radius).toBe(2 ** -19)
    expect(sol.w[0]).toBe(2 * (1 - 2 ** -20))
  })
  it('keeps a Newton step only when it lowers the certified radius: from a far start, one fixed-point step and rejected Newton steps', () => {
    const lambda = Float64Array.of(0.05)
    const data = dataset(13, 30, 4, 'sign')
    const p = orThrow(logisticProblem(data, data, lambda, { regularization: 'scalar' }))
    for (const scale of [5, 20, 50]) {
      const w0 = Float64Array.of(scale, -scale, scale, -scale)
      const afterOne = certifiedRadius(p, lambda, p.phi(w0, lambda))
      const sol = orThrow(certifiedSolution(p, lambda, { maxIter: 1, w0 }))
      expect(sol.radius).toBeLessThanOrEqual(afterOne)
      expect(certifiedRadius(p, lambda, sol.w)).toBe(sol.radius)
    }
  })
})
