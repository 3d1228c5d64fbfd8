import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../errors.js'
import {
  aidBound,
  aidConjugateGradientBound,
  aidFixedPointBound,
  cgLinearError,
  checkGrazziConstants,
  fixedPointLinearError,
  fixedPointLowerError,
  itdReverseBound,
  type GrazziConstants,
} from './grazzi2020.js'
import { cgDiagonal, diagonalSystem, floor, norm } from './testing.test-util.js'

const base: GrazziConstants = { q: 0.7, nu1: 0.3, nu2: 0.2, mu1: 1.5, mu2: 0.4, gradUpperNormStar: 2, LPhi: 1.1, D: 3 }


describe('grazzi2020: validation', () => {
  const bad: ReadonlyArray<[string, Partial<GrazziConstants>]> = [
    ['q = 1', { q: 1 }],
    ['q > 1', { q: 1.5 }],
    ['q < 0', { q: -0.1 }],
    ['q NaN', { q: Number.NaN }],
    ['negative ν₁', { nu1: -1 }],
    ['infinite D', { D: Infinity }],
    ['NaN ‖∇₁E(w*)‖', { gradUpperNormStar: Number.NaN }],
    ['κ < 1', { kappa: 0.5 }],
  ]
  it.each(bad)('%s gives a domain error from every bound', (_name, patch) => {
    const c = { ...base, ...patch }
    for (const r of [
      checkGrazziConstants(c),
      itdReverseBound(c, 3),
      aidFixedPointBound(c, 3, 3),
      aidConjugateGradientBound(c, 3, 3),
      aidBound(c, { lowerError: 1, linearError: 1 }),
      fixedPointLowerError(c, 2),
    ]) {
      expect(E.isLeft(r)).toBe(true)
      if (E.isLeft(r)) expect(r.left.kind).toBe('domain')
    }
  })
  it('rejects non-integer or negative step counts and negative errors', () => {
    for (const r of [
      itdReverseBound(base, 1.5),
      itdReverseBound(base, -1),
      aidFixedPointBound(base, 2, Number.NaN),
      aidConjugateGradientBound(base, -3, 2),
      fixedPointLinearError(base, 2, 1, -1),
      cgLinearError(base, 2, -1),
      aidBound(base, { lowerError: -1, linearError: 0 }),
    ])
      expect(E.isLeft(r) && r.left.kind === 'domain').toBe(true)
  })
})

describe('grazzi2020: limits and monotonicity', () => {
  const constants = fc.record({
    q: fc.double({ min: 0, max: 0.95, noNaN: true }),
    nu1: fc.double({ min: 0, max: 5, noNaN: true }),
    nu2: fc.double({ min: 0, max: 5, noNaN: true }),
    mu1: fc.double({ min: 0, max: 5, noNaN: true }),
    mu2: fc.double({ min: 0, max: 5, noNaN: true }),
    gradUpperNormStar: fc.double({ min: 0, max: 5, noNaN: true }),
    LPhi: fc.double({ min: 0, max: 5, noNaN: true }),
    D: fc.double({ min: 0, max: 5, noNaN: true }),
  })
  it('AID bounds are non-increasing in t and in k, and tend to 0', () => {
    fc.assert(
      fc.property(constants, fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }), (c, t, k) => {
        for (const bound of [aidFixedPointBound, aidConjugateGradientBound]) {
          const b = orThrow(bound(c, t, k))
          expect(orThrow(bound(c, t + 1, k))).toBeLessThanOrEqual(b * (1 + 1e-12))
          expect(orThrow(bound(c, t, k + 1))).toBeLessThanOrEqual(b * (1 + 1e-12))
          expect(orThrow(bound(c, 3000, 3000))).toBeLessThan(1e-30 + 1e-12 * b)
        }
      }),
    )
  })
  it('the ITD bound tends to 0 (it is O(t qᵗ): not monotone for small t)', () => {
    fc.assert(
      fc.property(constants, (c) => {
        const b0 = orThrow(itdReverseBound(c, 0))
        expect(orThrow(itdReverseBound(c, 5000))).toBeLessThan(1e-30 + 1e-12 * Math.max(b0, 1))
      }),
    )
  })
  it('a zero lower and linear error gives a zero bound', () => {
    expect(orThrow(aidBound(base, { lowerError: 0, linearError: 0 }))).toBe(0)
  })
})

/**
 * A scalar problem with everything in closed form: Φ(w, λ) = qw + λ, E(w, λ) = ½(w − e)² + ½cλ².
 * Then w(λ) = λ/(1 − q), ∇f = (w(λ) − e)/(1 − q) + cλ; ν₁ = ν₂ = μ₂ = 0, μ₁ = 1, L_Φ = 1,
 * L_E = |w(λ) − e|, D = |w₀ − w(λ)|. ITD after t steps: wₜ = qᵗw₀ + λ(1 − qᵗ)/(1 − q) and
 * dwₜ/dλ = (1 − qᵗ)/(1 − q); AID-FP: vₖ = (wₜ − e)(1 − qᵏ)/(1 − q).
 */
describe('grazzi2020: the scalar linear contraction, in closed form', () => {
  const instance = fc.record({
    q: fc.double({ min: 0, max: 0.99, noNaN: true }),
    lambda: fc.double({ min: -3, max: 3, noNaN: true }),
    e: fc.double({ min: -3, max: 3, noNaN: true }),
    c: fc.double({ min: 0, max: 2, noNaN: true }),
    w0: fc.double({ min: -3, max: 3, noNaN: true }),
    t: fc.integer({ min: 0, max: 300 }),
    k: fc.integer({ min: 0, max: 300 }),
  })
  it('ITD and AID-FP errors are below their bounds; the ITD bound is attained at t = 0', () => {
    fc.assert(
      fc.property(instance, ({ q, lambda, e, c, w0, t, k }) => {
        const wStar = lambda / (1 - q)
        const grad = (wStar - e) / (1 - q) + c * lambda
        const consts: GrazziConstants = { q, nu1: 0, nu2: 0, mu1: 1, mu2: 0, gradUpperNormStar: Math.abs(wStar - e), LPhi: 1, D: Math.abs(w0 - wStar) }
        const wt = q ** t * w0 + (lambda * (1 - q ** t)) / (1 - q)
        const itd = ((wt - e) * (1 - q ** t)) / (1 - q) + c * lambda
        const aidFp = ((wt - e) * (1 - q ** k)) / (1 - q) + c * lambda
        const tol = floor(Math.abs(grad) + 1 / (1 - q))
        expect(Math.abs(itd - grad)).toBeLessThanOrEqual(orThrow(itdReverseBound(consts, t)) + tol)
        expect(Math.abs(aidFp - grad)).toBeLessThanOrEqual(orThrow(aidFixedPointBound(consts, t, k)) + tol)
        // t = 0: ∇̂f = cλ, error |w(λ) − e|/(1 − q) = L_Φ L_E/(1 − q), exactly the bound.
        expect(orThrow(itdReverseBound(consts, 0))).toBeCloseTo(Math.abs(wStar - e) / (1 - q), 8)
      }),
    )
  })
})

/**
 * A scalar NONLINEAR contraction with every constant exact: Φ(w, λ) = q·sin(w + λ),
 * E(w) = ½(w − e)². ∂₁Φ = ∂₂Φ = q·cos(w + λ), so ‖∂₁Φ‖ ≤ q, ν₁ = ν₂ = q, μ₁ = 1, μ₂ = 0,
 * L_Φ = |q cos(w* + λ)|, L_E = |w* − e|, and ∇f = a(w* − e)/(1 − a) with a = q cos(w* + λ);
 * w* by Newton on w − q sin(w + λ) (its derivative is ≥ 1 − q > 0). ITD and AID-FP are run by
 * their scalar recursions.
 */
describe('grazzi2020: a scalar nonlinear contraction (ν₁, ν₂ ≠ 0, exact constants)', () => {
  it('ITD and AID-FP errors are below their bounds', () => {
    fc.assert(
      fc.property(
        fc.record({
          q: fc.double({ min: 0, max: 0.98, noNaN: true }),
          lambda: fc.double({ min: -3, max: 3, noNaN: true }),
          e: fc.double({ min: -3, max: 3, noNaN: true }),
          w0: fc.double({ min: -3, max: 3, noNaN: true }),
          t: fc.integer({ min: 0, max: 80 }),
          k: fc.integer({ min: 0, max: 80 }),
        }),
        ({ q, lambda, e, w0, t, k }) => {
          let w = 0
          for (let i = 0; i < 100; i++) w -= (w - q * Math.sin(w + lambda)) / (1 - q * Math.cos(w + lambda))
          const a = q * Math.cos(w + lambda)
          const grad = (a * (w - e)) / (1 - a)
          const ws = [w0]
          for (let i = 0; i < t; i++) ws.push(q * Math.sin(ws[i]! + lambda))
          // ITD, reverse mode: g = Σᵢ ∂₂Φ(wᵢ) Πⱼ₌ᵢ₊₁..ₜ₋₁ ∂₁Φ(wⱼ) · (wₜ − e).
          let p = ws[t]! - e
          let itd = 0
          for (let i = t - 1; i >= 0; i--) {
            const d = q * Math.cos(ws[i]! + lambda)
            itd += d * p
            p *= d
          }
          const at = q * Math.cos(ws[t]! + lambda)
          let v = 0
          for (let j = 0; j < k; j++) v = at * v + (ws[t]! - e)
          const c: GrazziConstants = { q, nu1: q, nu2: q, mu1: 1, mu2: 0, gradUpperNormStar: Math.abs(w - e), LPhi: Math.abs(a), D: Math.abs(w0 - w) }
          const tol = floor(Math.abs(grad) + 1 / (1 - q))
          expect(Math.abs(itd - grad)).toBeLessThanOrEqual(orThrow(itdReverseBound(c, t)) + tol)
          expect(Math.abs(at * v - grad)).toBeLessThanOrEqual(orThrow(aidFixedPointBound(c, t, k)) + tol)
        },
      ),
    )
  })
})


describe('grazzi2020: linear-system rates', () => {
  /** A symmetric system M = I − ∂₁Φᵀ with spectrum in [1 − q, 1 + q], both ends attained. */
  const system = diagonalSystem(fc.double({ min: 0.05, max: 0.98, noNaN: true }), (q) => [1 - q, 1 + q], 12, 40).map(({ params: q, diag, rhs, x0, k }) => ({ q, diag, b: rhs, v0: x0, k }))

  it('conjugate gradient: ‖vₖ − v*‖ ≤ σ_CG(k), from v₀ = 0 and from a warm start', () => {
    fc.assert(
      fc.property(system, ({ q, diag, b, v0, k }) => {
        const vStar = b.map((bi, i) => bi / diag[i]!)
        const c: GrazziConstants = { q, nu1: 0, nu2: 0, mu1: 0, mu2: 0, gradUpperNormStar: norm(b), LPhi: 0, D: 0 }
        const zero = new Float64Array(diag.length)
        const errCold = norm(cgDiagonal(diag, b, zero, k).map((x, i) => x - vStar[i]!))
        expect(errCold).toBeLessThanOrEqual(orThrow(cgLinearError(c, k, 0)) + floor(norm(vStar)))
        const errWarm = norm(cgDiagonal(diag, b, v0, k).map((x, i) => x - vStar[i]!))
        expect(errWarm).toBeLessThanOrEqual(orThrow(cgLinearError(c, k, 0, norm(v0))) + floor(norm(vStar) + norm(v0)))
      }),
    )
  })
  it('fixed point: ‖vₖ − v*‖ ≤ σ_FP(k) for vⱼ₊₁ = (I − M)vⱼ + b', () => {
    fc.assert(
      fc.property(system, ({ q, diag, b, v0, k }) => {
        const vStar = b.map((bi, i) => bi / diag[i]!)
        const v = Float64Array.from(v0)
        for (let j = 0; j < k; j++) for (let i = 0; i < v.length; i++) v[i] = (1 - diag[i]!) * v[i]! + b[i]!
        const c: GrazziConstants = { q, nu1: 0, nu2: 0, mu1: 0, mu2: 0, gradUpperNormStar: norm(b), LPhi: 0, D: 0 }
        const err = norm(v.map((x, i) => x - vStar[i]!))
        expect(err).toBeLessThanOrEqual(orThrow(fixedPointLinearError(c, k, 0, norm(v0))) + floor(norm(vStar) + norm(v0)))
      }),
    )
  })
})

describe('grazzi2020: tightness of the conjugate-gradient error (G9): its factor 2 and its √κ are needed', () => {
  const errorAfter = (diag: Float64Array, b: Float64Array, v0: Float64Array, k: number): number =>
    norm(cgDiagonal(diag, b, v0, k).map((x, i) => x - b[i]! / diag[i]!))
  const zero: GrazziConstants = { q: 0.5, nu1: 0, nu2: 0, mu1: 0, mu2: 0, gradUpperNormStar: 0, LPhi: 0, D: 0 }
  it('from v₀ = 0 one step reaches 0.84 of 2ρ‖∇₁E‖/(1 − q): more than half, so the factor 2 of (G8) cannot go', () => {
    // Spectrum (1 − q)·{1, κ} with κ = 1.5 (≤ (1 + q)/(1 − q)), the right-hand side near the worst direction.
    for (const q of [0.2, 0.5, 0.9]) {
      const diag = Float64Array.of(1 - q, 1.5 * (1 - q))
      const b = Float64Array.of(0.7097, 0.7045)
      const c: GrazziConstants = { ...zero, q, gradUpperNormStar: norm(b), kappa: 1.5 }
      const bound = orThrow(cgLinearError(c, 1, 0))
      const err = errorAfter(diag, b, new Float64Array(2), 1)
      expect(err).toBeLessThanOrEqual(bound * (1 + 1e-12))
      expect(err / bound).toBeGreaterThan(0.84)
    }
  })
  it('from a warm start the error-route branch 2√κρᵏ(‖v₀‖ + ·) is reached to 0.39: more than 1/√κ, so its √κ cannot go', () => {
    // q = 0.8 (κ = 9), k = 3, ∇₁E = 0: the bound is 2√κρ³‖v₀‖, the smaller branch.
    const diag = Float64Array.of(0.2, 1.8, 0.926, 0.6732, 1.4809)
    const v0 = Float64Array.of(-1.8436, 0.5747, -0.0187, -1.3515, -0.8957)
    const c: GrazziConstants = { ...zero, q: 0.8 }
    const bound = orThrow(cgLinearError(c, 3, 0, norm(v0)))
    const err = errorAfter(diag, new Float64Array(5), v0, 3)
    expect(err).toBeLessThanOrEqual(bound * (1 + 1e-12))
    expect(err / bound).toBeGreaterThan(0.39)
    expect(err / bound).toBeGreaterThan(1 / Math.sqrt(9))
  })
})
