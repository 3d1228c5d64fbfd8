import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Dataset } from '../data/dataset.js'
import { orThrow } from '../errors.js'
import { aid } from '../hypergrad/aid.js'
import { exact } from '../hypergrad/exact.js'
import { denseOf, spectralNorm } from '../linalg/matrix.js'
import { matrix, type Matrix, type RVec } from '../linalg/types.js'
import { distance, norm, sub } from '../linalg/vector.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import type { ErmProblem } from '../problem/erm.js'
import { dataCleaningProblem } from '../problems/dataCleaning.js'
import { erQuadraticProblem } from '../problems/erQuadratic.js'
import { linearFixedPointProblem } from '../problems/linearFixedPoint.js'
import { logisticProblem } from '../problems/logistic.js'
import { quadraticProblem } from '../problems/quadratic.js'
import { ridgeProblem } from '../problems/ridge.js'
import * as R from '../random/rng.js'
import { fixedPointLinear } from '../solvers/linear/fixedPoint.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import {
  aPosterioriInputsAt,
  certifiedSolution,
  erConstantsFor,
  grazziConstantsFor,
  lipschitzConstants,
  logisticHessianLipschitz,
  linearSystemSigma2,
  meanSquaredLabelledNorm,
  remark42Sigma1pFor,
} from './constants.js'
import { estimateOf } from '../hypergrad/fixtures.test-util.js'
import { remark42Sigma1p } from './sid.js'
import { batchMeanVariance, perSampleJacobianNorm, varianceOfJacobianTProduct } from './variance.js'

const dataset = (seed: number, n: number, p: number, labels: 'sign' | 'real', scale = 1): Dataset => {
  const [rx, ry] = R.split2(R.seed(seed))
  const [x] = R.normals(rx, n * p)
  const [z] = R.normals(ry, n)
  return { X: matrix(n, p, x.map((v) => scale * v)), y: labels === 'sign' ? z.map((s) => (s >= 0 ? 1 : -1)) : z }
}

const diffNorm = (a: Matrix, b: Matrix): number => spectralNorm(matrix(a.rows, a.cols, sub(a.data, b.data)))

/** The dense ∂₁Φ(w), ∂₂Φ(w) of a problem, from its products (independent of the constants code). */
const jacW = (p: BilevelProblem, lambda: RVec, w: RVec): Matrix => denseOf(p.dim, (u) => p.jvpW(w, lambda, u))
const jacL = (p: BilevelProblem, lambda: RVec, w: RVec): Matrix => denseOf(p.hyperDim, (mu) => p.jvpLambda(w, lambda, mu), p.dim)

/**
 * Check the Lipschitz constants (and ‖∂₁Φ‖ ≤ q) of a problem on random pairs (w, w′), far apart
 * and close together, against dense Jacobians built from the problem's own products.
 */
const checkLipschitz = (p: BilevelProblem, lambda: RVec, seed: number, radius: number): void => {
  const lip = orThrow(lipschitzConstants(p, lambda))
  const q = p.contraction(lambda)
  const [a, r1] = R.normals(R.seed(seed), p.dim)
  const [b] = R.normals(r1, p.dim)
  const w = a.map((x) => radius * x)
  for (const wp of [b.map((x) => radius * x), w.map((x, i) => x + 1e-3 * b[i]!)]) {
    const d = distance(w, wp)
    const slack = 1e-9 * (1 + d)
    expect(spectralNorm(jacW(p, lambda, w))).toBeLessThanOrEqual(q + 1e-12)
    expect(diffNorm(jacW(p, lambda, w), jacW(p, lambda, wp))).toBeLessThanOrEqual(lip.nu1 * d + slack)
    expect(diffNorm(jacL(p, lambda, w), jacL(p, lambda, wp))).toBeLessThanOrEqual(lip.nu2 * d + slack)
    expect(distance(p.gradUpperW(w, lambda), p.gradUpperW(wp, lambda))).toBeLessThanOrEqual(lip.mu1 * d + slack)
    expect(distance(p.gradUpperLambda(w, lambda), p.gradUpperLambda(wp, lambda))).toBeLessThanOrEqual(lip.mu2 * d + slack)
  }
}

describe('bounds/constants: Lipschitz constants hold on random pairs', () => {
  it('quadratic, linear fixed point, E&R least squares', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 2, max: 5 }), (seed, dim) => {
        const quad = orThrow(quadraticProblem({ dim, hyperDim: 2, nSamples: 2, seed }))
        checkLipschitz(quad, Float64Array.of(0.3, -1), seed, 3)
        const lin = orThrow(linearFixedPointProblem({ dim, hyperDim: 2, q: 0.8, seed }))
        checkLipschitz(lin, Float64Array.of(1, 2), seed, 3)
        const er = orThrow(erQuadraticProblem({ rows: 6 * dim, cols: dim, seed }))
        checkLipschitz(er, er.lambda0, seed, 3)
      }),
      { numRuns: 10 },
    )
  })
  it('ridge, logistic regression (scalar and per-feature λ) and data cleaning', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 << 20 }),
        fc.integer({ min: 2, max: 4 }),
        fc.constantFrom('scalar' as const, 'perFeature' as const),
        fc.double({ min: 0.2, max: 4, noNaN: true }),
        (seed, p, reg, radius) => {
          const lambda = reg === 'scalar' ? Float64Array.of(0.5) : Float64Array.from({ length: p }, (_, j) => 0.3 + j)
          const ridge = orThrow(ridgeProblem(dataset(seed, 12, p, 'real'), dataset(seed + 1, 9, p, 'real'), lambda, { regularization: reg }))
          checkLipschitz(ridge, lambda, seed, radius)
          const logi = orThrow(logisticProblem(dataset(seed, 12, p, 'sign'), dataset(seed + 1, 9, p, 'sign'), lambda, { regularization: reg }))
          checkLipschitz(logi, lambda, seed, radius)
          const weights = R.uniformsIn(R.seed(seed + 5), 12, -3, 3)[0]
          const clean = orThrow(dataCleaningProblem(dataset(seed, 12, p, 'sign'), dataset(seed + 1, 9, p, 'sign'), weights, { rho: 0.5 }))
          checkLipschitz(clean, weights, seed, radius)
        },
      ),
      { numRuns: 15 },
    )
  })
  it('logistic L_H: the data Hessian difference, on nearby points in many directions, stays below it', () => {
    // A one-row design: the Hessian is ψ''(xᵀw)xxᵀ, whose Lipschitz constant is max|ψ'''|·‖x‖³ exactly,
    // attained where |ψ'''| peaks (xᵀw = ±log(2 + √3)) along w ∥ x: the bound is tight there.
    const x = Float64Array.of(0.6, -0.8, 1.2)
    const X = matrix(1, 3, x)
    const LH = logisticHessianLipschitz(X, Float64Array.of(1))
    const nx = norm(x)
    expect(LH).toBeCloseTo(nx ** 3 / (6 * Math.sqrt(3)), 12)
    const logi = orThrow(logisticProblem({ X, y: Float64Array.of(1) }, { X, y: Float64Array.of(1) }, Float64Array.of(1), { regularization: 'scalar' }))
    const peak = Math.log(2 + Math.sqrt(3))
    const h = 1e-4
    const w1 = x.map((xi) => ((peak - h / 2) * xi) / (nx * nx))
    const w2 = x.map((xi) => ((peak + h / 2) * xi) / (nx * nx))
    const H = (w: RVec): Matrix => denseOf(3, (u) => logi.lower.hvp(w, Float64Array.of(1), u))
    const ratio = diffNorm(H(w1), H(w2)) / distance(w1, w2)
    expect(ratio).toBeLessThanOrEqual(LH * (1 + 1e-9))
    expect(ratio).toBeGreaterThan(LH * (1 - 1e-6))
  })
  it('an unknown problem gives a domain error', () => {
    const quad = orThrow(quadraticProblem({ dim: 2, hyperDim: 1, nSamples: 1, seed: 1 }))
    const wrapped: BilevelProblem = Object.assign(Object.create(null) as object, {
      ...Object.fromEntries(['dim', 'hyperDim', 'symmetric', 'name'].map((k) => [k, (quad as unknown as Record<string, unknown>)[k]])),
      checkLambda: (l: RVec) => quad.checkLambda(l),
    }) as BilevelProblem
    const r = lipschitzConstants(wrapped, Float64Array.of(1))
    expect(E.isLeft(r) && r.left.kind === 'domain').toBe(true)
  })
})

describe('bounds/constants: solutions and values at the solution', () => {
  it('certifiedSolution for logistic regression: the radius covers the distance to the exact solution', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.double({ min: 0.05, max: 3, noNaN: true }), (seed, lam) => {
        const lambda = Float64Array.of(lam)
        const prob = orThrow(logisticProblem(dataset(seed, 15, 3, 'sign', 2), dataset(seed + 1, 10, 3, 'sign'), lambda, { regularization: 'scalar' }))
        const sol = orThrow(certifiedSolution(prob, lambda))
        const ref = estimateOf(exact(prob, lambda))
        // Both solutions carry rounding of order ε·κ·‖w‖ (κ = L/τ), which no radius computed in
        // floating point can certify: allow 1e-13·κ·(1 + ‖w‖).
        const { tau, L } = prob.lower.curvature(lambda)
        const kappa = L / tau
        expect(sol.radius).toBeLessThan(1e-10)
        expect(distance(sol.w, ref.w)).toBeLessThanOrEqual(sol.radius + 1e-13 * kappa * (1 + norm(ref.w)))
      }),
      { numRuns: 15 },
    )
  })
  it('on the closed-form problems the constants equal the problems’ own exact ones', () => {
    const quad = orThrow(quadraticProblem({ dim: 5, hyperDim: 2, nSamples: 2, seed: 4, tau: 0.5, L: 8 }))
    const lq = Float64Array.of(1, -2)
    const w0 = Float64Array.of(1, 2, 3, 4, 5)
    const gq = orThrow(grazziConstantsFor(quad, lq, { w0 }))
    const cq = quad.constants(lq)
    expect(gq.q).toBe(cq.q)
    expect(gq.LPhi).toBeCloseTo(cq.LPhi, 10)
    expect(gq.gradUpperNormStar).toBeCloseTo(quad.upperLipschitz(lq, 0), 10)
    expect(gq.D).toBeCloseTo(distance(w0, quad.solution(lq)), 12)
    expect(gq.kappa).toBeCloseTo(16, 10)
    const er = orThrow(erQuadraticProblem({ rows: 30, cols: 3, seed: 2 }))
    const ce = er.constants(er.lambda0)
    const ee = orThrow(erConstantsFor(er, er.lambda0))
    expect(ee.BNormStar).toBeCloseTo(ce.normB, 8)
    expect(ee.tau).toBe(ce.tau)
    expect(ee.L).toBe(ce.L)
    expect(ee.Lf).toBe(ce.Lf)
    const lin = orThrow(linearFixedPointProblem({ dim: 4, hyperDim: 2, q: 0.6, seed: 9 }))
    const gl = orThrow(grazziConstantsFor(lin, Float64Array.of(0, 1)))
    expect(gl.LPhi).toBeCloseTo(lin.constants(Float64Array.of(0, 1)).LPhi, 10)
    expect(gl.kappa).toBeUndefined()
  })
  it('aPosterioriInputsAt reads AID’s own residuals: ‖∇ℓ(wₜ)‖ = ‖Φ(wₜ) − wₜ‖/α and the linear residual', () => {
    const lambda = Float64Array.of(0.7)
    const prob: ErmProblem = orThrow(logisticProblem(dataset(3, 15, 3, 'sign'), dataset(4, 10, 3, 'sign'), lambda, { regularization: 'scalar' }))
    const r = estimateOf(aid(prob, lambda, { lower: fixedPointIteration(), linear: fixedPointLinear(), t: 7, k: 5 }))
    const inputs = orThrow(aPosterioriInputsAt(prob, lambda, r.w, r.v))
    expect(inputs.gradLowerNorm).toBeCloseTo(r.lowerResiduals[r.lowerResiduals.length - 1]! / prob.alpha, 10)
    expect(inputs.residualNorm).toBeCloseTo(r.linearResidual!, 12)
  })
})

describe('bounds/constants: σ₁′ of Remark 4.2 for the library\'s sum losses', () => {
  it('bounds the exact variance of the minibatch gradient at every w, where the mean-loss σ₁′ (n² smaller) does not', () => {
    const train = dataset(31, 12, 3, 'sign', 2)
    const val = dataset(32, 6, 3, 'sign')
    const logi = orThrow(logisticProblem(train, val, Float64Array.of(0.5, 1, 2), { regularization: 'perFeature' }))
    const lamDc = R.uniformsIn(R.seed(33), 12, -2, 2)[0]
    const dc = orThrow(dataCleaningProblem(train, val, lamDc))
    let meanFormFails = false
    for (const [problem, lambda] of [[logi, Float64Array.of(0.5, 1, 2)], [dc, lamDc]] as const) {
      for (const [b, replace] of [[1, true], [3, false], [4, true]] as const) {
        const { sigma1p, sigma2p } = orThrow(remark42Sigma1pFor(problem, { b, replace }))
        expect(sigma2p).toBe(0)
        const meanForm = orThrow(remark42Sigma1p({ lipPsi: 1, meanSquaredNorm: meanSquaredLabelledNorm(train.X, train.y), loss: 'mean', n: 12, batch: { b, replace } }))
        expect(meanForm.sigma1p * 144).toBeCloseTo(sigma1p, 9)
        for (let s = 0; s < 6; s++) {
          const w = R.normals(R.seed(40 + s), 3)[0].map((x) => 3 * s * x)
          const per = Array.from({ length: 12 }, (_, i) => problem.lower.grad(w, lambda, Int32Array.of(i)))
          const v = batchMeanVariance(per, b, replace)
          expect(v).toBeLessThanOrEqual(sigma1p * (1 + 1e-12))
          if (v > meanForm.sigma1p) meanFormFails = true
        }
      }
    }
    expect(meanFormFails).toBe(true)
  })
  it('(1/n)Σ yᵢ²‖xᵢ‖², and a domain error for a problem without a logistic loss', () => {
    expect(meanSquaredLabelledNorm(matrix(2, 2, Float64Array.of(1, 2, 3, 4)), Float64Array.of(2, -1))).toBeCloseTo((4 * 5 + 25) / 2, 12)
    const quad = orThrow(quadraticProblem({ dim: 2, hyperDim: 1, nSamples: 2, seed: 1, tau: 1, L: 2 }))
    const r = remark42Sigma1pFor(quad, { b: 1, replace: true })
    expect(E.isLeft(r) && r.left.kind === 'domain' && /Remark 4\.2 needs a logistic or data-cleaning lower objective/.test(r.left.message)).toBe(true)
  })
})

describe('bounds/constants: σ₂ of the linear-system map (29), for the two-phase schedule', () => {
  it('is Thm 4.3 with L_T̂ = maxᵢ‖∂₁Φ̂ᵢ‖, makes Assumption D(iii) hold at every v, and is needed (σ₂ = 0 fails far from v*)', () => {
    const P = orThrow(quadraticProblem({ dim: 3, hyperDim: 2, nSamples: 4, seed: 12, tau: 0.5, L: 4 }))
    const lambda = Float64Array.of(0.3, -1)
    const r = orThrow(exact(P, lambda))
    if (r.status === 'diverged' || r.gradient === null) throw new Error('exact diverged')
    const { w, v: vStar } = r
    const sigma2 = orThrow(linearSystemSigma2(P, lambda, w))
    const L = orThrow(perSampleJacobianNorm(P, w, lambda))
    const q = P.contraction(lambda)
    expect(sigma2).toBeCloseTo((2 * (L * L + q * q)) / ((1 - q) * (1 - q)), 12)
    for (const [b, replace] of [[1, true], [2, false]] as const) {
      const sigma1 = 2 * orThrow(varianceOfJacobianTProduct(P, w, lambda, vStar, b, replace))
      let needed = false
      for (let s = 0; s < 8; s++) {
        const v = R.normals(R.seed(60 + s), 3)[0].map((x) => 10 ** (s - 3) * x)
        const variance = orThrow(varianceOfJacobianTProduct(P, w, lambda, v, b, replace))
        const psi = P.vjpW(w, lambda, v).map((x, i) => x + P.gradUpperW(w, lambda)[i]!)
        const gap = distance(psi, v) ** 2
        expect(variance).toBeLessThanOrEqual((sigma1 + sigma2 * gap) * (1 + 1e-9))
        if (variance > sigma1) needed = true
      }
      expect(needed).toBe(true)
    }
  })
})
