import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../errors.js'
import {
  aPosterioriBound,
  aPrioriBound,
  aPrioriBoundAfter,
  cgAdjointErrorBound,
  cgResidualBound,
  gdBound,
  gdRate,
  heavyBallBound,
  heavyBallParams,
  heavyBallRate,
  lowerErrorAPosteriori,
  type APosterioriInputs,
  type ErConstants,
} from './ehrhardtRoberts.js'

import { cgDiagonal, diagonalSystem, floor, norm } from './testing.test-util.js'

const slack = (bound: number, scale: number): number => bound * (1 + 1e-9) + floor(scale)

const post: APosterioriInputs = { gradLowerNorm: 0.1, residualNorm: 0.01, BNorm: 2, gradUpperNorm: 1, tau: 0.5, LB: 1, Lf: 3, LH: 0.2, mu2: 0.1 }
const consts: ErConstants = { tau: 0.5, L: 5, LB: 1, Lf: 3, LH: 0.2, mu2: 0.1, BNormStar: 2, gradUpperNormStar: 1, quadraticLower: false }

describe('ehrhardtRoberts: validation', () => {
  it('τ ≤ 0, L < τ, negative or non-finite inputs give domain errors', () => {
    const lefts = [
      aPosterioriBound({ ...post, tau: 0 }),
      aPosterioriBound({ ...post, tau: -1 }),
      aPosterioriBound({ ...post, residualNorm: -1 }),
      aPosterioriBound({ ...post, LH: Number.NaN }),
      aPrioriBound({ ...consts, lowerError: -1, residualBound: 0 }),
      aPrioriBound({ ...consts, lowerError: 1, residualBound: Infinity }),
      lowerErrorAPosteriori(1, 0),
      gdRate({ tau: 2, L: 1 }),
      gdRate({ tau: 1, L: 2 }, 1), // s = 2/L: no contraction
      gdBound({ tau: 1, L: 2 }, 1.5, 1),
      heavyBallRate({ tau: 1, L: 4 }, { step: 1, momentum: 0.9 }), // too long a step
      heavyBallRate({ tau: 1, L: 4 }, { step: 0.1, momentum: 1 }),
      heavyBallBound({ tau: 0, L: 4 }, 3, 1),
      cgResidualBound({ tau: -1, L: 4 }, 3, 1),
      cgAdjointErrorBound({ tau: 1, L: 4 }, -1, 1),
      aPrioriBoundAfter({ ...consts, tau: 0 }, { t: 1, k: 1, lower: { kind: 'gd' }, linear: { kind: 'cg' }, dist0: 1 }),
    ]
    for (const r of lefts) {
      expect(E.isLeft(r)).toBe(true)
      if (E.isLeft(r)) expect(r.left.kind).toBe('domain')
    }
  })
  it('refuses the heavy-ball lower-level bound for a non-quadratic ℓ', () => {
    const run = { t: 5, k: 5, lower: { kind: 'heavyBall' } as const, linear: { kind: 'cg' } as const, dist0: 1 }
    expect(E.isLeft(aPrioriBoundAfter(consts, run))).toBe(true)
    expect(E.isRight(aPrioriBoundAfter({ ...consts, quadraticLower: true }, run))).toBe(true)
  })
})

describe('ehrhardtRoberts: shape of the bounds', () => {
  it('the a posteriori bound is 0 at an exact solution and grows with every input', () => {
    expect(orThrow(aPosterioriBound({ ...post, gradLowerNorm: 0, residualNorm: 0 }))).toBe(0)
    const b = orThrow(aPosterioriBound(post))
    for (const key of ['gradLowerNorm', 'residualNorm', 'BNorm', 'gradUpperNorm', 'LB', 'Lf', 'LH', 'mu2'] as const)
      expect(orThrow(aPosterioriBound({ ...post, [key]: post[key]! * 2 }))).toBeGreaterThan(b)
    expect(orThrow(aPosterioriBound({ ...post, tau: 1 }))).toBeLessThan(b)
  })
  it('the a priori bound after (t, k) steps decreases to 0 for every solver pair', () => {
    const quad = { ...consts, quadraticLower: true }
    for (const lower of [{ kind: 'gd' }, { kind: 'heavyBall' }] as const)
      for (const linear of [{ kind: 'gd' }, { kind: 'heavyBall' }, { kind: 'cg' }] as const) {
        const at = (t: number, k: number): number => orThrow(aPrioriBoundAfter(quad, { t, k, lower, linear, dist0: 2 }))
        expect(at(400, 400)).toBeLessThan(1e-6 * at(0, 0))
        expect(at(2000, 2000)).toBeLessThan(1e-20)
        expect(at(30, 50)).toBeLessThanOrEqual(at(30, 10))
      }
  })
})

/** GD, heavy ball and CG on a diagonal quadratic ½xᵀAx − gᵀx (every method here is orthogonally invariant). */
const quadraticInstance = diagonalSystem(
  fc.record({ tau: fc.double({ min: 0.05, max: 2, noNaN: true }), ratio: fc.double({ min: 1, max: 400, noNaN: true }) }),
  ({ tau, ratio }) => [tau, tau * ratio],
  10,
  60,
).map(({ params: { tau, ratio }, diag, rhs, x0, k }) => ({ c: { tau, L: tau * ratio }, diag, g: rhs, x0, k }))

/** k steps of heavy ball x ← x − s(Ax − g) + β(x − x₋) with x₋₁ = x₀ (β = 0: gradient descent). */
const heavyBallRun = (diag: Float64Array, g: Float64Array, x0: Float64Array, step: number, beta: number, k: number): Float64Array => {
  let prev = Float64Array.from(x0)
  let x = Float64Array.from(x0)
  for (let j = 0; j < k; j++) {
    const next = x.map((xi, i) => xi - step * (diag[i]! * xi - g[i]!) + beta * (xi - prev[i]!))
    prev = x
    x = next
  }
  return x
}


describe('ehrhardtRoberts: solver rates against the iterations themselves', () => {
  const errorAndResidual = (diag: Float64Array, g: Float64Array, x: Float64Array): { err: number; res: number } => ({
    err: norm(x.map((xi, i) => xi - g[i]! / diag[i]!)),
    res: norm(x.map((xi, i) => diag[i]! * xi - g[i]!)),
  })
  it('gradient descent: error and residual both contract by q_GD per step (constant 1)', () => {
    fc.assert(
      fc.property(quadraticInstance, fc.double({ min: 0.05, max: 1, noNaN: true }), ({ c, diag, g, x0, k }, frac) => {
        // A step between a tenth of the optimal and the optimal one, and the optimal one itself.
        for (const step of [2 / (c.L + c.tau), (frac * 2) / (c.L + c.tau)]) {
          const x = heavyBallRun(diag, g, x0, step, 0, k)
          const { err, res } = errorAndResidual(diag, g, x)
          const e0 = errorAndResidual(diag, g, x0)
          expect(err).toBeLessThanOrEqual(orThrow(gdBound(c, k, e0.err, step)) + floor(e0.err))
          expect(res).toBeLessThanOrEqual(orThrow(gdBound(c, k, e0.res, step)) + floor(e0.res))
        }
      }),
    )
  })
  it('heavy ball: error and residual ≤ (1 + (1 + ρ)k)ρᵏ × initial', () => {
    fc.assert(
      fc.property(quadraticInstance, ({ c, diag, g, x0, k }) => {
        const hb = heavyBallParams(c)
        const x = heavyBallRun(diag, g, x0, hb.step, hb.momentum, k)
        const { err, res } = errorAndResidual(diag, g, x)
        const e0 = errorAndResidual(diag, g, x0)
        expect(err).toBeLessThanOrEqual(slack(orThrow(heavyBallBound(c, k, e0.err)), e0.err))
        expect(res).toBeLessThanOrEqual(slack(orThrow(heavyBallBound(c, k, e0.res)), e0.res))
      }),
    )
  })
  it('heavy ball with the classical tuning: ρ = q_HB, and the constant 1 + (1 + ρ)k is attained at λ = L', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 2, noNaN: true }), fc.double({ min: 1.5, max: 400, noNaN: true }), fc.integer({ min: 1, max: 60 }), (tau, ratio, k) => {
        const c = { tau, L: tau * ratio }
        const qhb = (Math.sqrt(c.L) - Math.sqrt(tau)) / (Math.sqrt(c.L) + Math.sqrt(tau))
        expect(orThrow(heavyBallRate(c))).toBeCloseTo(qhb, 6)
        const hb = heavyBallParams(c)
        const x = heavyBallRun(Float64Array.of(c.L), Float64Array.of(0), Float64Array.of(1), hb.step, hb.momentum, k)
        const bound = orThrow(heavyBallBound(c, k, 1))
        // Rounding perturbs the double root at λ = L (by ~√ε): the computed iterate falls short of
        // the exact-arithmetic value by up to ~1e-5 relative (never above it by more than ~1e-12).
        expect(Math.abs(x[0]!)).toBeLessThanOrEqual(bound * (1 + 1e-4))
        expect(Math.abs(x[0]!)).toBeGreaterThanOrEqual(bound * (1 - 1e-4))
        // So ρᵏ alone (constant 1) would be violated.
        expect(Math.abs(x[0]!)).toBeGreaterThan(qhb ** k)
      }),
    )
  })
  it('heavy ball with any convergent (step, momentum): the bound holds with ρ the worst spectral radius', () => {
    fc.assert(
      fc.property(quadraticInstance, fc.double({ min: 0, max: 0.95, noNaN: true }), fc.double({ min: 0.05, max: 1, noNaN: true }), ({ c, diag, g, x0, k }, beta, frac) => {
        const params = { step: (frac * 2 * (1 + beta)) / c.L, momentum: beta }
        const rate = heavyBallRate(c, params)
        fc.pre(E.isRight(rate))
        const x = heavyBallRun(diag, g, x0, params.step, beta, k)
        const { err } = errorAndResidual(diag, g, x)
        const e0 = errorAndResidual(diag, g, x0)
        expect(err).toBeLessThanOrEqual(slack(orThrow(heavyBallBound(c, k, e0.err, params)), e0.err))
      }),
    )
  })
  it('conjugate gradient: ‖rₖ‖ ≤ 2√κ ρᵏ‖r₀‖ and ‖xₖ − x*‖ ≤ 2ρᵏ‖r₀‖/τ', () => {
    fc.assert(
      fc.property(quadraticInstance, ({ c, diag, g, x0, k }) => {
        const x = cgDiagonal(diag, g, x0, k)
        const { err, res } = errorAndResidual(diag, g, x)
        const r0 = errorAndResidual(diag, g, x0).res
        const scale = r0 / c.tau
        expect(res).toBeLessThanOrEqual(orThrow(cgResidualBound(c, k, r0)) + floor(r0) * c.L)
        expect(err).toBeLessThanOrEqual(orThrow(cgAdjointErrorBound(c, k, r0)) + floor(scale))
      }),
    )
  })
})

describe('ehrhardtRoberts: tightness of the solver rates (each constant is needed)', () => {
  it('gradient descent at the optimal step: ‖xₖ − x*‖ = q_GDᵏ‖x₀ − x*‖ along the eigenvector of τ (ratio 1)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 2, noNaN: true }), fc.double({ min: 1.5, max: 400, noNaN: true }), fc.integer({ min: 0, max: 60 }), (tau, ratio, k) => {
        const c = { tau, L: tau * ratio }
        const x = heavyBallRun(Float64Array.of(tau, c.L), Float64Array.of(0, 0), Float64Array.of(1, 0), 2 / (c.L + tau), 0, k)
        expect(norm(x) / orThrow(gdBound(c, k, 1))).toBeCloseTo(1, 9)
      }),
    )
  })
  it('CG residual (R11): with r₀ ∝ (√κ, 1) on the spectrum {τ, L}, ‖r₁‖ = (√κ + 1)²/(4κ) of the bound, more than 1/√κ of it', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 2, noNaN: true }), fc.double({ min: 2, max: 400, noNaN: true }), (tau, kappa) => {
        const c = { tau, L: tau * kappa }
        const g = Float64Array.of(Math.sqrt(kappa), 1)
        const diag = Float64Array.of(tau, c.L)
        const x = cgDiagonal(diag, g, new Float64Array(2), 1)
        const r1 = norm(x.map((xi, i) => diag[i]! * xi - g[i]!))
        const bound = orThrow(cgResidualBound(c, 1, norm(g)))
        const s = Math.sqrt(kappa)
        expect(r1 / bound).toBeCloseTo(((s + 1) * (s + 1)) / (4 * kappa), 9)
        // Without the √κ (2ρ‖r₀‖) the bound would fail: (√κ + 1)²/(4√κ) > 1.
        expect(r1).toBeGreaterThan(bound / s)
      }),
    )
  })
  it('CG adjoint error (R12): one step from 0 reaches 0.84 of 2ρ‖r₀‖/τ, so its factor 2 cannot go', () => {
    for (const tau of [0.1, 1, 7]) {
      const c = { tau, L: 1.5 * tau }
      const g = Float64Array.of(0.7097, 0.7045)
      const diag = Float64Array.of(tau, c.L)
      const x = cgDiagonal(diag, g, new Float64Array(2), 1)
      const err = norm(x.map((xi, i) => xi - g[i]! / diag[i]!))
      const bound = orThrow(cgAdjointErrorBound(c, 1, norm(g)))
      expect(err).toBeLessThanOrEqual(bound * (1 + 1e-12))
      expect(err / bound).toBeGreaterThan(0.84)
    }
  })
  it('the a posteriori lower error ‖∇ℓ(ŵ)‖/τ (R1) is attained along the eigenvector of τ', () => {
    const tau = 0.3
    // ℓ = ½(τ x₀² + 5 x₁²), ŵ − w* = (2, 0): ‖∇ℓ(ŵ)‖/τ = ‖ŵ − w*‖.
    expect(orThrow(lowerErrorAPosteriori(tau * 2, tau))).toBeCloseTo(2, 14)
  })
})
