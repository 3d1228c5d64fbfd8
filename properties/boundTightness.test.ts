/**
 * Checks that can fail: the deterministic bounds of src/bounds are nearly ATTAINED on a family of
 * instances, so that a bound inflated by a constant factor, or one with a term left out, fails.
 *
 * The family (properties/scalarBilevel.ts) is a scalar bilevel problem with every constant exact
 * and every sign chosen. With b* > 0, g* < 0, β₂ < 0, γ₁ > 0, η₂ > 0 and w₀ > w*, every term of
 * the ITD bound (G12), of c₁ (G5), of the AID bounds (G6, G10, G11) and of the Ehrhardt–Roberts
 * bounds (R4–R6, R13) adds to the error with the same sign, to first order in ‖w₀ − w*‖
 * (docs/theory/deterministic.md §10 derives the signs). The errors are those of the library's own
 * `itd`, `aid` and `sid` against ∇f in closed form.
 *
 * For each bound: error ≤ bound (soundness, with the rounding allowance of the other properties)
 * and error ≥ f · bound for a stated fraction f. For each constant X ∈ {ν₁, ν₂, μ₁, μ₂} a family
 * where X's terms dominate shows that the bound with X set to 0 — every term with X removed — is
 * below the error: no term can be dropped unnoticed.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { aPosterioriBound } from '../src/bounds/ehrhardtRoberts.js'
import { aidBound, cgLinearError, fixedPointLinearError } from '../src/bounds/grazzi2020.js'
import { thm31Bias, thm34MseBound } from '../src/bounds/sid.js'
import * as hg from '../src/index.js'
import { scalarAdjoint, scalarAPosterioriInputs, scalarGrazziConstants, scalarHypergradient, scalarProblem, type ScalarSpec } from './scalarBilevel.js'
import { BOUND_LABEL, boundsAt, draws, FAMILIES, gradientOf, LAMBDA, sound, specOf, within, type Bound, type Draw, type Family } from './tightnessFamilies.js'

const { orThrow } = hg

/** Soundness and the stated fraction for every bound of the family, at one draw. */
const expectTight = (family: Family, d: Draw): void => {
  const { rows, scale } = boundsAt(specOf(d), d.D, d.t, d.k)
  for (const [name, f] of Object.entries(family.fractions) as Array<[Bound, number]>) {
    const { err, bound } = rows[name]
    if (!sound(err, bound, scale)) expect.fail(`${BOUND_LABEL[name]}: error ${err} above the bound ${bound} at ${JSON.stringify(d)}`)
    if (!(err >= f * bound)) expect.fail(`${BOUND_LABEL[name]}: error ${err} below ${f} × the bound ${bound} at ${JSON.stringify(d)}`)
  }
}

/** The bounds with the family's constant set to 0 are below the error: its terms are needed. */
const expectNeeded = (family: Family, d: Draw): void => {
  if (family.needed === undefined) return
  const { rows } = boundsAt(specOf(d), d.D, d.t, d.k, family.needed.patch)
  for (const name of family.needed.bounds) {
    const { err, bound } = rows[name]
    if (!(err > bound)) expect.fail(`${BOUND_LABEL[name]} without the ${family.needed.constant} terms: ${bound} still covers the error ${err} at ${JSON.stringify(d)}`)
  }
}

describe('tightness: the deterministic bounds are nearly attained on the scalar family', () => {
  for (const family of FAMILIES) {
    const fractions = Object.entries(family.fractions).map(([b, f]) => `${b} ≥ ${f}`).join(', ')
    const needed = family.needed === undefined ? '' : `; each is below the error without the ${family.needed.constant} terms`
    it(`${family.name}: ${fractions}${needed}`, () => {
      fc.assert(
        fc.property(draws(family.ranges), (d) => {
          expectTight(family, d)
          expectNeeded(family, d)
        }),
        { numRuns: family.needed === undefined ? 30 : 12 },
      )
    })
  }
})

describe('tightness: the linear-system errors of AID (G7, G9)', () => {
  // ∂₁Φ = q everywhere (ν₁ = 0) and g(w) = G* + μ₁(w − w*) growing along the iterates, so that
  // ‖v(wₜ)‖ = (G* + μ₁Δₜ)/(1 − q): the fixed-point error qᵏ‖v₀ − v(wₜ)‖ is σ_FP exactly when v₀
  // points away from v(wₜ), and CG from v₀ = 0 at k = 0 is half of σ_CG (the factor 2 of (G8)).
  const family = fc.record({
    q: within(0.3, 0.9),
    G: within(0.1, 1),
    ratio: within(2, 4),
    D: within(0.2, 1),
    t: fc.integer({ min: 0, max: 4 }),
    k: fc.integer({ min: 0, max: 30 }),
    v0: within(0, 1),
  })
  it('σ_FP(k) = qᵏ(‖v₀‖ + (G* + μ₁Δ)/(1 − q)) is attained by the linear iterate of `aid`; without μ₁Δ it is not a bound', () => {
    fc.assert(
      fc.property(family, ({ q, G, ratio, D, t, k, v0: v0Fraction }) => {
        // μ₁Δₜ = ratio · G* at the lower iterate wₜ = qᵗD; ‖v₀‖ up to G*/(1 − q).
        const mu1 = (ratio * G) / (q ** t * D)
        const v0 = (v0Fraction * G) / (1 - q)
        const s: ScalarSpec = { q, nu1: 0, b: 1, beta2: 0, g: G, gamma1: mu1, eta2: 0, alpha: 0.5 }
        const r = orThrow(
          hg.aid(scalarProblem(s), LAMBDA, {
            lower: hg.solvers.lower.fixedPointIteration(),
            linear: hg.solvers.linear.fixedPointLinear(),
            t,
            k,
            w0: Float64Array.of(D),
            v0: Float64Array.of(-v0),
          }),
        )
        gradientOf(r) // fails on a diverged run
        const wt = r.w[0]!
        const err = Math.abs(r.v[0]! - scalarAdjoint(s, wt))
        const c = scalarGrazziConstants(s, D)
        const bound = orThrow(fixedPointLinearError(c, k, wt, v0))
        expect(err).toBeLessThanOrEqual(bound * (1 + 1e-9) + 1e-12)
        expect(err).toBeGreaterThanOrEqual(bound * (1 - 1e-9) - 1e-13)
        expect(err).toBeGreaterThan(orThrow(fixedPointLinearError({ ...c, mu1: 0 }, k, wt, v0)) * 1.5)
      }),
      { numRuns: 25 },
    )
  })
  it('σ_CG(0) from v₀ = 0 is twice the error of `aid` with conjugate gradient; without μ₁Δ it is not a bound', () => {
    fc.assert(
      fc.property(family, ({ q, G, ratio, D, t }) => {
        const mu1 = (ratio * G) / (q ** t * D)
        const s: ScalarSpec = { q, nu1: 0, b: 1, beta2: 0, g: G, gamma1: mu1, eta2: 0, alpha: 0.5 }
        const r = orThrow(
          hg.aid(scalarProblem(s), LAMBDA, {
            lower: hg.solvers.lower.fixedPointIteration(),
            linear: hg.solvers.linear.conjugateGradient({ tol: 0 }),
            t,
            k: 0,
            w0: Float64Array.of(D),
          }),
        )
        gradientOf(r) // fails on a diverged run
        const wt = r.w[0]!
        const err = Math.abs(r.v[0]! - scalarAdjoint(s, wt))
        const c = scalarGrazziConstants(s, D)
        expect(err / orThrow(cgLinearError(c, 0, wt))).toBeCloseTo(0.5, 9)
        expect(err).toBeGreaterThan(orThrow(cgLinearError({ ...c, mu1: 0 }, 0, wt)))
      }),
      { numRuns: 25 },
    )
  })
})

describe('tightness: SID Thm 3.1 (bias) and Thm 3.4 (MSE) on the deterministic scalar family', () => {
  // One sample (n = 1): Algorithm 1 with unit steps is deterministic, its bias is its error and
  // its MSE the squared error; ρ(t) = (wₜ − w*)² and σ(k) = sup_w ‖v_k(w) − v(w)‖² =
  // (qᵏ|g*|/(1 − q))² hold with equality, and with μ₁ = 0 the global L_E is |g*|.
  const family = draws({ q: [0.5, 0.8], D: [0.02, 0.08], nu1: [0.3, 1], nu2: [0.3, 1], mu1: [0, 0], mu2: [0.3, 1], t: [6, 14], k: [2, 14] })
  it('bias ≥ 0.75 × Thm 3.1(ii); MSE ≥ 0.12 × Thm 3.4 (its constants 6 and 8 are Cauchy–Schwarz factors)', () => {
    const unit = orThrow(hg.schedule.constant(1))
    fc.assert(
      fc.property(family, (d) => {
        const s = specOf(d)
        const r = orThrow(
          hg.sid(scalarProblem(s), LAMBDA, {
            lower: hg.solvers.lower.sgd({ schedule: unit, batchSize: 1 }),
            linear: hg.solvers.linear.stochasticFixedPoint({ schedule: unit, batchSize: 1 }),
            t: d.t,
            k: d.k,
            seed: 0,
            w0: Float64Array.of(d.D),
          }),
        )
        const err = Math.abs(gradientOf(r) - scalarHypergradient(s))
        const rho = r.w[0]! ** 2
        const sigma = ((d.q ** d.k * d.g) / (1 - d.q)) ** 2
        const c = { LPhi: 1, nu2: d.nu2, rho, sigma, mu1: 0, mu2: d.mu2, nu1: d.nu1, LE: d.g, q: d.q }
        const bias = orThrow(thm31Bias(c)).bias
        const mse = orThrow(thm34MseBound({ ...c, m2: 0 }))
        const scale = scalarHypergradient(s)
        if (!sound(err, bias, scale)) expect.fail(`Thm 3.1: ${err} > ${bias}`)
        expect(err).toBeGreaterThanOrEqual(0.75 * bias)
        expect(err * err).toBeLessThanOrEqual(mse)
        expect(err * err).toBeGreaterThanOrEqual(0.12 * mse)
      }),
      { numRuns: 25 },
    )
  })
})

describe('tightness: the second-order terms ν₂μ₁Δ²/(1 − q) of (G6) and L_BL_fε²/τ of (R4)', () => {
  // ν₁ = μ₂ = 0 and k = 80, so that only the lower level's error remains, with Δ = |wₜ − w*|
  // not small. When b and g both grow along the iterates (β₂, γ₁ > 0) the error of AID is
  // exactly c₁Δ + ν₂μ₁Δ²/(1 − q); when both shrink (β₂ < 0 < γ₁, g* < 0) the a posteriori bound,
  // which reads b and g at ŵ, is exactly the error. Either bound without its Δ² term is below it.
  const family = fc.record({ q: within(0.3, 0.8), nu2: within(0.5, 2), mu1: within(0.5, 2), D: within(0.1, 0.3), t: fc.integer({ min: 0, max: 2 }) })
  const run = (s: ScalarSpec, D: number, t: number) => {
    const problem = scalarProblem(s)
    const r = orThrow(
      hg.aid(problem, LAMBDA, { lower: hg.solvers.lower.fixedPointIteration(), linear: hg.solvers.linear.fixedPointLinear(), t, k: 80, w0: Float64Array.of(D) }),
    )
    return { r, problem, err: Math.abs(gradientOf(r) - scalarHypergradient(s)), delta: Math.abs(r.w[0]!) }
  }
  it('growing b and g: AID error = c₁Δ + ν₂μ₁Δ²/(1 − q) = (G6) at the actual Δ, σ; without ν₂μ₁Δ²/(1 − q) it is exceeded', () => {
    fc.assert(
      fc.property(family, ({ q, nu2, mu1, D, t }) => {
        const s: ScalarSpec = { q, nu1: 0, b: 1, beta2: nu2, g: 1, gamma1: mu1, eta2: 0, alpha: 0.5 }
        const { r, err, delta } = run(s, D, t)
        const c = scalarGrazziConstants(s, D)
        const bound = orThrow(aidBound(c, { lowerError: delta, linearError: Math.abs(r.v[0]! - scalarAdjoint(s, r.w[0]!)) }))
        expect(err / bound).toBeGreaterThan(1 - 1e-6)
        expect(err).toBeLessThanOrEqual(bound * (1 + 1e-9))
        expect(err).toBeGreaterThan(bound - (nu2 * mu1 * delta * delta) / (1 - q) + 1e-3 * bound)
      }),
      { numRuns: 20 },
    )
  })
  it('shrinking b and g: the a posteriori bound equals the error; without L_BL_fε²/τ it is exceeded', () => {
    fc.assert(
      fc.property(family, ({ q, nu2, mu1, D, t }) => {
        const s: ScalarSpec = { q, nu1: 0, b: 1, beta2: -nu2, g: -1, gamma1: mu1, eta2: 0, alpha: 0.5 }
        if (!(nu2 * D < 0.9 && mu1 * D < 0.9)) return
        const { r, problem, err } = run(s, D, t)
        const inputs = scalarAPosterioriInputs(s, problem, r.w, r.v)
        const bound = orThrow(aPosterioriBound(inputs))
        const eps = inputs.gradLowerNorm / inputs.tau
        expect(err / bound).toBeGreaterThan(1 - 1e-6)
        expect(err).toBeLessThanOrEqual(bound * (1 + 1e-9))
        expect(err).toBeGreaterThan(bound - (inputs.LB * inputs.Lf * eps * eps) / inputs.tau + 1e-3 * bound)
      }),
      { numRuns: 20 },
    )
  })
})
