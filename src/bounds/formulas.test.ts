/**
 * Each bound equals its equation in docs/theory (deterministic.md (G6), (G9), (G12), (R4)–(R6),
 * (R13); sid.md Cor 4.1 and Remark 4.2), written out independently term by term, on constants
 * whose terms are all different — so that no term can change without a test noticing — and the
 * variance estimators equal their definitions.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../errors.js'
import { quadraticProblem } from '../problems/quadratic.js'
import * as R from '../random/rng.js'
import * as ER from './ehrhardtRoberts.js'
import * as G from './grazzi2020.js'
import * as S from './sid.js'
import { unit, unitFields } from './testing.test-util.js'
import * as V from './variance.js'

const close = (a: number, b: number, tol = 1e-12): void => {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(Math.abs(a), Math.abs(b)))
}

describe('the Grazzi et al. 2020 bounds, term by term', () => {
  const constants = fc.record({ q: unit(0.05, 0.95), ...unitFields(0.1, 3, ['nu1', 'nu2', 'mu1', 'mu2', 'gradUpperNormStar', 'LPhi', 'D']) })
  it('(G5)–(G6): aidBound = c₁Δ + ν₂μ₁Δ²/(1 − q) + (L_Φ + ν₂Δ)σ', () => {
    fc.assert(
      fc.property(constants, unit(0.01, 2), unit(0.01, 2), (c, delta, sigma) => {
        const s = 1 - c.q
        const c1 = c.mu2 + (c.mu1 * c.LPhi + c.nu2 * c.gradUpperNormStar) / s + (c.nu1 * c.gradUpperNormStar * c.LPhi) / (s * s)
        close(G.c1AtSolution(c), c1)
        close(orThrow(G.aidBound(c, { lowerError: delta, linearError: sigma })), c1 * delta + (c.nu2 * c.mu1 * delta * delta) / s + (c.LPhi + c.nu2 * delta) * sigma)
      }),
    )
  })
  it('(G7), (G9): σ_FP and σ_CG with a warm start, κ given or (1 + q)/(1 − q) by default; (G10), (G11) compose them', () => {
    fc.assert(
      fc.property(constants, unit(1, 20), unit(0, 2), unit(0, 3), fc.integer({ min: 0, max: 30 }), (c, kappa, delta, v0, k) => {
        const s = 1 - c.q
        const g = c.gradUpperNormStar + c.mu1 * delta
        close(orThrow(G.fixedPointLinearError(c, k, delta, v0)), c.q ** k * (v0 + g / s))
        const cg = (kap: number) => {
          const rho = (Math.sqrt(kap) - 1) / (Math.sqrt(kap) + 1)
          return 2 * rho ** k * Math.min(Math.sqrt(kap) * (v0 + g / s), (g + (1 + c.q) * v0) / s)
        }
        close(orThrow(G.cgLinearError({ ...c, kappa }, k, delta, v0)), cg(kappa))
        close(orThrow(G.cgLinearError(c, k, delta, v0)), cg((1 + c.q) / s))
        const t = k % 7
        const dt = c.q ** t * c.D
        const compose = (sigma: number) => orThrow(G.aidBound(c, { lowerError: dt, linearError: sigma }))
        close(orThrow(G.aidFixedPointBound(c, t, k, { v0Norm: v0 })), compose(orThrow(G.fixedPointLinearError(c, k, dt, v0))))
        close(orThrow(G.aidConjugateGradientBound({ ...c, kappa }, t, k, { v0Norm: v0 })), compose(orThrow(G.cgLinearError({ ...c, kappa }, k, dt, v0))))
        close(orThrow(G.fixedPointLowerError(c, t)), dt)
      }),
    )
  })
  /** (G12) with Σ_{n<t}(1 − qⁿ) summed here term by term. */
  const itd = (c: G.GrazziConstants, t: number): number => {
    const s = 1 - c.q
    const qt = c.q ** t
    const gBar = c.gradUpperNormStar + c.mu1 * qt * c.D
    let sum = 0
    for (let n = 0; n < t; n++) sum += 1 - c.q ** n
    const base = c.mu2 * qt * c.D + (c.LPhi * c.gradUpperNormStar * qt) / s + (c.LPhi * c.mu1 * c.D * qt * (1 - qt)) / s
    return t === 0 ? base : base + c.nu2 * c.D * gBar * t * c.q ** (t - 1) + (c.nu1 * c.LPhi * c.D * gBar * c.q ** (t - 1) * sum) / s
  }
  it('(G12): itdReverseBound term by term', () => {
    fc.assert(
      fc.property(constants, fc.integer({ min: 0, max: 60 }), (c, t) => {
        close(orThrow(G.itdReverseBound(c, t)), itd(c, t), 1e-11)
      }),
    )
  })
  it('(G12) near q = 1: Σ(1 − qⁿ) is summed without cancellation for moderate t, and in closed form beyond 10⁶ steps', () => {
    const c: G.GrazziConstants = { q: 1 - 1e-6, nu1: 1, nu2: 0, mu1: 0, mu2: 0, gradUpperNormStar: 1, LPhi: 1, D: 1 }
    for (const t of [2, 3, 10]) close(orThrow(G.itdReverseBound(c, t)), itd(c, t), 1e-12)
    const big = 2_000_000
    close(orThrow(G.itdReverseBound(c, big)), itd(c, big), 1e-6)
  })
})

describe('the Ehrhardt & Roberts bounds, term by term', () => {
  const inputs = fc.record({
    ...unitFields(0.01, 2, ['gradLowerNorm', 'residualNorm']),
    ...unitFields(0.1, 3, ['BNorm', 'gradUpperNorm']),
    tau: unit(0.1, 2),
    ...unitFields(0.1, 3, ['LB', 'Lf', 'LH', 'mu2']),
  })
  /** (R4) with ε, δ, β, G. */
  const r4 = (x: { tau: number; LB: number; Lf: number; LH: number; mu2: number }, eps: number, delta: number, beta: number, g: number): number =>
    x.mu2 * eps + beta * delta + (beta * x.Lf * eps) / x.tau + (beta * x.LH * g * eps) / x.tau ** 2 + (x.LB * g * eps) / x.tau + (x.LB * x.Lf * eps * eps) / x.tau
  it('(R5): aPosterioriBound = (R4) at ε = g/τ, δ = ‖r‖/τ, β = ‖B(ŵ)‖, G = ‖∇₁E(ŵ)‖', () => {
    fc.assert(
      fc.property(inputs, (x) => {
        close(orThrow(ER.aPosterioriBound(x)), r4(x, x.gradLowerNorm / x.tau, x.residualNorm / x.tau, x.BNorm, x.gradUpperNorm))
        close(orThrow(ER.lowerErrorAPosteriori(x.gradLowerNorm, x.tau)), x.gradLowerNorm / x.tau)
      }),
    )
  })
  it('(R6): aPrioriBound = (R4) at ε, δ = min(r̄/τ, adjoint error), β = ‖B(w*)‖ + L_Bε, G = ‖∇₁E(w*)‖ + L_fε', () => {
    fc.assert(
      fc.property(inputs, unit(0.01, 1), unit(0.01, 2), unit(0.001, 3), (x, eps, rbar, adj) => {
        const star = { ...x, lowerError: eps, residualBound: rbar, BNormStar: x.BNorm, gradUpperNormStar: x.gradUpperNorm }
        const beta = x.BNorm + x.LB * eps
        const g = x.gradUpperNorm + x.Lf * eps
        close(orThrow(ER.aPrioriBound({ ...star, adjointError: adj })), r4(x, eps, Math.min(rbar / x.tau, adj), beta, g))
        close(orThrow(ER.aPrioriBound(star)), r4(x, eps, rbar / x.tau, beta, g))
      }),
    )
  })
  it('(R13): aPrioriBoundAfter composes the lower rate, ‖r₀‖ ≤ L‖p₀‖ + ‖∇₁E(w*)‖ + L_fε and the linear rate (and CG’s adjoint error)', () => {
    const c: ER.ErConstants = { tau: 0.5, L: 4, LB: 0.7, Lf: 1.3, LH: 0.4, mu2: 0.2, BNormStar: 1.1, gradUpperNormStar: 0.9, quadraticLower: true }
    const hb = ER.heavyBallParams(c)
    for (const [t, k, p0Norm] of [[3, 5, 0], [7, 2, 0.8]] as const) {
      for (const lower of [{ kind: 'gd', step: 0.3 }, { kind: 'heavyBall' }] as const) {
        const eps = lower.kind === 'gd' ? orThrow(ER.gdBound(c, t, 2, 0.3)) : orThrow(ER.heavyBallBound(c, t, 2, hb))
        expect(orThrow(ER.lowerErrorAPriori(c, lower, t, 2))).toBe(eps)
        const r0 = c.L * p0Norm + c.gradUpperNormStar + c.Lf * eps
        const cases = [
          [{ kind: 'gd', step: 0.2 }, orThrow(ER.gdBound(c, k, r0, 0.2)), undefined],
          [{ kind: 'heavyBall' }, orThrow(ER.heavyBallBound(c, k, r0)), undefined],
          [{ kind: 'cg' }, orThrow(ER.cgResidualBound(c, k, r0)), orThrow(ER.cgAdjointErrorBound(c, k, r0))],
        ] as const
        for (const [linear, residualBound, adjointError] of cases) {
          const expected = orThrow(ER.aPrioriBound({ ...c, lowerError: eps, residualBound, adjointError: adjointError ?? residualBound / c.tau }))
          close(orThrow(ER.aPrioriBoundAfter(c, { t, k, lower, linear, dist0: 2, p0Norm })), expected)
        }
      }
    }
  })
  it('(R13) with CG before its first step (k = 0): the residual ‖r₀‖·2√(L/τ) and the adjoint error 2‖r₀‖/τ of CG, not another solver’s', () => {
    const c: ER.ErConstants = { tau: 0.5, L: 8, LB: 1, Lf: 2, LH: 0.3, mu2: 0.2, BNormStar: 1.5, gradUpperNormStar: 0.7, quadraticLower: false }
    const run = { t: 3, k: 0, lower: { kind: 'gd' as const }, linear: { kind: 'cg' as const }, dist0: 2, p0Norm: 0.4 }
    const eps = orThrow(ER.gdBound(c, 3, 2))
    const r0 = c.L * 0.4 + c.gradUpperNormStar + c.Lf * eps
    const expected = orThrow(ER.aPrioriBound({ ...c, lowerError: eps, residualBound: 2 * Math.sqrt(c.L / c.tau) * r0, adjointError: (2 * r0) / c.tau }))
    close(orThrow(ER.aPrioriBoundAfter(c, run)), expected)
  })
  it('the solver rates: q_GD, ρ_HB and its tuning, ρ_CG, and their bounds', () => {
    fc.assert(
      fc.property(unit(0.05, 2), unit(1.5, 100), unit(0.1, 1.9), fc.integer({ min: 0, max: 40 }), (tau, ratio, frac, k) => {
        const c = { tau, L: tau * ratio }
        const s = frac / c.L
        const q = Math.max(Math.abs(1 - s * tau), Math.abs(1 - s * c.L))
        close(orThrow(ER.gdRate(c, s)), q)
        close(orThrow(ER.gdRate(c)), (c.L - tau) / (c.L + tau))
        close(orThrow(ER.gdBound(c, k, 3, s)), 3 * q ** k)
        const sl = Math.sqrt(c.L)
        const st = Math.sqrt(tau)
        const qhb = (sl - st) / (sl + st)
        const hb = ER.heavyBallParams(c)
        close(hb.step, 4 / (sl + st) ** 2)
        close(hb.momentum, qhb * qhb)
        close(orThrow(ER.heavyBallRate(c)), qhb, 1e-7)
        const rho = orThrow(ER.heavyBallRate(c))
        close(orThrow(ER.heavyBallBound(c, k, 3)), (1 + (1 + rho) * k) * rho ** k * 3)
        close(orThrow(ER.cgResidualBound(c, k, 3)), 2 * Math.sqrt(ratio) * qhb ** k * 3, 1e-9)
        close(orThrow(ER.cgAdjointErrorBound(c, k, 3)), (2 * qhb ** k * 3) / tau, 1e-9)
      }),
    )
  })
})

describe('Cor 4.1 and the variance estimators, by their definitions', () => {
  it('Cor 4.1 reports α, q, σ₁ = α²σ₁′ and σ₂ = σ₂′ for both choices of α; the β and γ conditions are strict and inclusive', () => {
    const base = { tau: 1, L: 3, sigma1p: 2, sigma2p: 0.5, mse0: 1, t: 4 }
    const one = orThrow(S.cor41Bound({ ...base, alphaChoice: '1/L', eta: 0.5 }))
    expect(one).toMatchObject({ alpha: 1 / 3, q: 1 - 1 / 3, sigma2: 0.5, kind: 'constant' })
    close(one.sigma1, 2 / 9)
    const two = orThrow(S.cor41Bound({ ...base, alphaChoice: '2/(L+tau)', eta: 0.5 }))
    expect(two).toMatchObject({ alpha: 0.5, q: 0.5, sigma2: 0.5 })
    close(two.sigma1, 0.5)
    // (23): β > L²/(τ(2L − τ)) = 9/5 for α = 1/L; γ ≥ β(1 + σ₂′).
    const dec = { ...base, alphaChoice: '1/L' as const }
    expect(E.isLeft(S.cor41Bound({ ...dec, beta: 9 / 5, gamma: 10 }))).toBe(true)
    expect(E.isRight(S.cor41Bound({ ...dec, beta: 2, gamma: 3 }))).toBe(true)
    expect(E.isLeft(S.cor41Bound({ ...dec, beta: 2, gamma: 3 * (1 - 1e-9) }))).toBe(true)
    expect(E.isLeft(S.cor41Bound({ ...dec, beta: 2, gamma: 2.5 }))).toBe(true)
    const r = orThrow(S.cor41Bound({ ...dec, beta: 2, gamma: 3 }))
    expect(r).toMatchObject({ kind: 'decreasing', alpha: 1 / 3 })
  })
  it('σ₁ = 2V (exact and Monte Carlo, every field doubled); m₂ over points is the largest; intervals are clipped at 0 and open on one side', () => {
    const P = orThrow(quadraticProblem({ dim: 2, hyperDim: 2, nSamples: 4, seed: 3, tau: 0.5, L: 2 }))
    const lam = Float64Array.of(0.2, -0.4)
    const w = Float64Array.of(0.3, -0.1)
    expect(orThrow(V.sigma1Exact(P, lam, w, 2, false))).toBe(2 * orThrow(V.varianceOfMap(P, w, lam, 2, false)))
    const opts = { pairs: 50 }
    const mc = orThrow(V.varianceOfMapMonteCarlo(P, w, lam, 1, true, R.seed(5), opts))
    const s1 = orThrow(V.sigma1MonteCarlo(P, lam, w, 1, true, R.seed(5), opts))
    expect(s1).toMatchObject({ estimate: 2 * mc.estimate, lower: 2 * mc.lower, upper: 2 * mc.upper, stdError: 2 * mc.stdError, samples: 50 })
    const points = [w, Float64Array.of(2, 1), Float64Array.of(-1, 0)]
    const each = points.map((x) => orThrow(V.m2At(P, x, lam, 1, true)))
    expect(orThrow(V.m2Sup(P, lam, points, 1, true))).toBe(Math.max(...each))
    // Draws with a small variance: the two-sided lower end would be negative, and is clipped at 0.
    const tiny = orThrow(V.monteCarloVariance((r) => {
      const [u, next] = R.uniformsIn(r, 1, 0, 1e-3)
      return [u, next]
    }, R.seed(7), { pairs: 3 }))
    expect(tiny.lower).toBe(0)
    const lower = orThrow(V.meanConfidenceInterval([1, 2, 3, 4], { sides: 'lower', confidence: 0.9 }))
    expect(lower.upper).toBe(Infinity)
    expect(lower.lower).toBeLessThan(2.5)
    expect(lower.samples).toBe(4)
    expect(lower.sides).toBe('lower')
    // The quantile is odd, and non-negative from p = 1/2 on.
    expect(V.normalQuantile(0.5)).toBeGreaterThanOrEqual(0)
    expect(V.normalQuantile(0.5)).toBeLessThan(1e-13)
  })
  it('sigma2Empirical = max over the points of (V[Φ̂(w)] − σ₁)₊/‖Φ(w) − w‖², ∞ at a fixed point with excess variance', () => {
    // Φ̂ᵢ(w) = w/2 + cᵢ with Σcᵢ = 0: Φ(w) = w/2, V[Φ̂(w)] = (1/n)Σ‖cᵢ‖² (b = 1) at every w.
    const c = [Float64Array.of(1, 0), Float64Array.of(-1, 0), Float64Array.of(0, 2), Float64Array.of(0, -2)]
    const P = {
      dim: 2,
      hyperDim: 1,
      nSamples: 4,
      checkLambda: (l: Float64Array) => E.right(l),
      phi: (w: Float64Array) => w.map((x) => x / 2),
      phiHat: (w: Float64Array, _l: Float64Array, b: Int32Array) => w.map((x, j) => x / 2 + c[b[0]!]![j]!),
    } as unknown as Parameters<typeof V.sigma2Empirical>[0]
    const lam = Float64Array.of(0)
    const v = (1 + 1 + 4 + 4) / 4
    const ws = [Float64Array.of(2, 0), Float64Array.of(0, 1)]
    // ‖Φ(w) − w‖² = ‖w‖²/4: 1 and 1/4.
    close(orThrow(V.sigma2Empirical(P, lam, 0.5, ws, 1, true)), Math.max((v - 0.5) / 1, (v - 0.5) / 0.25))
    expect(orThrow(V.sigma2Empirical(P, lam, v + 1, ws, 1, true))).toBe(0)
    expect(orThrow(V.sigma2Empirical(P, lam, 0.5, [Float64Array.of(0, 0)], 1, true))).toBe(Infinity)
  })
})
