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
import { aidBound, aidConjugateGradientBound, aidFixedPointBound, cgLinearError, fixedPointLinearError, itdReverseBound, type GrazziConstants } from '../src/bounds/grazzi2020.js'
import { aPosterioriBound, aPrioriBoundAfter, type ErConstants } from '../src/bounds/ehrhardtRoberts.js'
import { thm31Bias, thm34MseBound } from '../src/bounds/sid.js'
import * as hg from '../src/index.js'
import {
  scalarAdjoint,
  scalarAPosterioriInputs,
  scalarErConstants,
  scalarGrazziConstants,
  scalarHypergradient,
  scalarProblem,
  type ScalarSpec,
} from './scalarBilevel.js'

const { orThrow } = hg
const LAMBDA = Float64Array.of(0)

/** The gradient of a result, failing the test on a diverged run. */
const gradientOf = (r: hg.HypergradResult): number => {
  if (r.status === 'diverged' || r.gradient === null) throw new Error(`${r.method} diverged`)
  return r.gradient[0]!
}

/** The rounding allowance of the true-error properties (properties/deterministicBounds.test.ts). */
const sound = (err: number, bound: number, scale: number): boolean => err <= bound * (1 + 1e-9) + 1e-10 * (1 + scale)

type Bound = 'itd' | 'aidFp' | 'aidCg' | 'aidGeneric' | 'erPrior' | 'erPostFp' | 'erPostCg'

/** Every bound and its observed error at one instance and (t, k); `patch` zeroes constants. */
const boundsAt = (s: ScalarSpec, w0: number, t: number, k: number, patch: { readonly g?: Partial<GrazziConstants>; readonly e?: Partial<ErConstants> } = {}) => {
  const problem = scalarProblem(s)
  const truth = scalarHypergradient(s)
  const W0 = Float64Array.of(w0)
  const lower = hg.solvers.lower.fixedPointIteration()
  const itd = orThrow(hg.itd(problem, LAMBDA, { t, mode: 'reverse', w0: W0 }))
  const fp = orThrow(hg.aid(problem, LAMBDA, { lower, linear: hg.solvers.linear.fixedPointLinear(), t, k, w0: W0 }))
  const cg = orThrow(hg.aid(problem, LAMBDA, { lower, linear: hg.solvers.linear.conjugateGradient({ tol: 0 }), t, k, w0: W0 }))
  const gc: GrazziConstants = { ...scalarGrazziConstants(s, w0), ...patch.g }
  const ec: ErConstants = { ...scalarErConstants(s), ...patch.e }
  const post = (r: hg.HypergradResult): number =>
    orThrow(aPosterioriBound({ ...scalarAPosterioriInputs(s, problem, r.w, r.v), LH: ec.LH!, LB: ec.LB, Lf: ec.Lf, mu2: ec.mu2! }))
  const wt = fp.w[0]!
  const gd = { kind: 'gd', step: s.alpha } as const
  const errFp = Math.abs(gradientOf(fp) - truth)
  const errCg = Math.abs(gradientOf(cg) - truth)
  const rows: Record<Bound, { readonly err: number; readonly bound: number }> = {
    itd: { err: Math.abs(gradientOf(itd) - truth), bound: orThrow(itdReverseBound(gc, t)) },
    aidFp: { err: errFp, bound: orThrow(aidFixedPointBound(gc, t, k)) },
    aidCg: { err: errCg, bound: orThrow(aidConjugateGradientBound(gc, t, k)) },
    aidGeneric: { err: errFp, bound: orThrow(aidBound(gc, { lowerError: Math.abs(wt), linearError: Math.abs(fp.v[0]! - scalarAdjoint(s, wt)) })) },
    erPrior: { err: errFp, bound: orThrow(aPrioriBoundAfter(ec, { t, k, lower: gd, linear: gd, dist0: Math.abs(w0) })) },
    erPostFp: { err: errFp, bound: post(fp) },
    erPostCg: { err: errCg, bound: post(cg) },
  }
  return { rows, scale: Math.abs(truth) }
}

/** An instance of the family: q, D = w₀ − w* > 0, the constants' sizes, and (t, k). */
interface Draw {
  readonly q: number
  readonly D: number
  readonly nu1: number
  readonly nu2: number
  readonly mu1: number
  readonly mu2: number
  readonly g: number
  readonly t: number
  readonly k: number
}

/** The sign pattern under which every term adds (module comment). */
const specOf = (d: Draw): ScalarSpec => ({ q: d.q, nu1: d.nu1, b: 1, beta2: -d.nu2, g: -d.g, gamma1: d.mu1, eta2: d.mu2, alpha: 0.5 })

/** Numbers spread evenly over [lo, hi] (not fc.double, which crowds near 0). */
const within = (lo: number, hi: number) => fc.integer({ min: 0, max: 1 << 16 }).map((i) => lo + ((hi - lo) * i) / (1 << 16))

/** Draws with the given ranges; the constraints keep the signs of a, b, g fixed along the iterates. */
const draws = (r: {
  readonly q: readonly [number, number]
  readonly D: readonly [number, number]
  readonly nu1: readonly [number, number]
  readonly nu2: readonly [number, number]
  readonly mu1: readonly [number, number]
  readonly mu2: readonly [number, number]
  readonly g?: number
  readonly t: readonly [number, number]
  readonly k: readonly [number, number]
}) =>
  fc
    .record({
      q: within(...r.q),
      D: within(...r.D),
      nu1: within(...r.nu1),
      nu2: within(...r.nu2),
      mu1: within(...r.mu1),
      mu2: within(...r.mu2),
      t: fc.integer({ min: r.t[0], max: r.t[1] }),
      k: fc.integer({ min: r.k[0], max: r.k[1] }),
    })
    .map((d): Draw => ({ ...d, g: r.g ?? 1 }))
    .filter((d) => d.nu1 * d.D <= d.q / 2 && d.nu2 * d.D <= 0.5 && d.mu1 * d.D <= 0.9 * d.g)

/** Soundness and the stated fraction for every bound listed, at one draw. */
const expectTight = (d: Draw, fractions: Partial<Record<Bound, number>>): void => {
  const { rows, scale } = boundsAt(specOf(d), d.D, d.t, d.k)
  for (const [name, f] of Object.entries(fractions) as Array<[Bound, number]>) {
    const { err, bound } = rows[name]
    if (!sound(err, bound, scale)) expect.fail(`${name}: error ${err} above the bound ${bound} at ${JSON.stringify(d)}`)
    if (!(err >= f * bound)) expect.fail(`${name}: error ${err} below ${f} × the bound ${bound} at ${JSON.stringify(d)}`)
  }
}

/** The bounds with constant X set to 0 are below the error (X's terms are needed). */
const expectNeeded = (d: Draw, patch: { readonly g: Partial<GrazziConstants>; readonly e: Partial<ErConstants> }, names: ReadonlyArray<Bound>): void => {
  const { rows } = boundsAt(specOf(d), d.D, d.t, d.k, patch)
  for (const name of names) {
    const { err, bound } = rows[name]
    if (!(err > bound)) expect.fail(`${name} without ${JSON.stringify(patch.g)}: ${bound} still covers the error ${err} at ${JSON.stringify(d)}`)
  }
}

const BALANCED = draws({ q: [0.5, 0.8], D: [0.02, 0.08], nu1: [0.3, 1], nu2: [0.3, 1], mu1: [0.3, 1], mu2: [0.3, 1], t: [6, 14], k: [2, 14] })

describe('tightness: the deterministic bounds are nearly attained on the scalar family', () => {
  it('every constant of the same size: ITD ≥ 0.85, AID and E&R a priori ≥ 0.75, a posteriori ≥ 0.9 of their bounds', () => {
    fc.assert(
      fc.property(BALANCED, (d) =>
        expectTight(d, { itd: 0.85, aidFp: 0.75, aidCg: 0.75, aidGeneric: 0.9, erPrior: 0.75, erPostFp: 0.9, erPostCg: 0.9 }),
      ),
      { numRuns: 30 },
    )
  })

  // Each family makes one constant's terms dominate (others ≤ 0.05), with k large so that the
  // linear solver's error does not hide the lower level's; the ITD families use t large enough
  // for the t·q^{t−1} terms.
  const small = [0.01, 0.05] as const
  const big = [2, 5] as const
  const AID_BOUNDS: ReadonlyArray<Bound> = ['aidFp', 'aidCg', 'erPrior', 'erPostFp', 'erPostCg']
  const aidFamily = (x: 'nu1' | 'nu2' | 'mu1' | 'mu2') =>
    draws({ q: [0.5, 0.8], D: [0.02, 0.08], nu1: small, nu2: small, mu1: small, mu2: small, [x]: big, t: [6, 14], k: [30, 40] })
  const cases = [
    { x: 'nu1', patch: { g: { nu1: 0 }, e: { LH: 0 } }, aid: { aidFp: 0.4, aidCg: 0.4, erPrior: 0.4, erPostFp: 0.75, erPostCg: 0.75 } },
    { x: 'nu2', patch: { g: { nu2: 0 }, e: { LB: 0 } }, aid: { aidFp: 0.9, aidCg: 0.9, erPrior: 0.9, erPostFp: 0.95, erPostCg: 0.95 } },
    { x: 'mu1', patch: { g: { mu1: 0 }, e: { Lf: 0 } }, aid: { aidFp: 0.9, aidCg: 0.9, erPrior: 0.9, erPostFp: 0.95, erPostCg: 0.95 } },
    { x: 'mu2', patch: { g: { mu2: 0 }, e: { mu2: 0 } }, aid: { aidFp: 0.9, aidCg: 0.9, erPrior: 0.9, erPostFp: 0.95, erPostCg: 0.95 } },
  ] as const
  for (const { x, patch, aid } of cases) {
    it(`${x} dominant: AID and E&R bounds nearly attained, and each is below the error without the ${x} terms`, () => {
      fc.assert(
        fc.property(aidFamily(x), (d) => {
          expectTight(d, aid)
          expectNeeded(d, patch, AID_BOUNDS)
        }),
        { numRuns: 12 },
      )
    })
  }
  const itdFamilies = [
    { x: 'nu1', f: 0.4, r: { q: [0.6, 0.8], D: [0.05, 0.1], nu1: big, nu2: small, mu1: small, mu2: small, t: [15, 25], k: [0, 0] }, patch: { g: { nu1: 0 }, e: {} } },
    { x: 'nu2', f: 0.9, r: { q: [0.6, 0.8], D: [0.05, 0.1], nu1: small, nu2: big, mu1: small, mu2: small, t: [15, 25], k: [0, 0] }, patch: { g: { nu2: 0 }, e: {} } },
    { x: 'mu1', f: 0.9, r: { q: [0.5, 0.8], D: [0.1, 0.2], nu1: small, nu2: small, mu1: [3, 5], mu2: small, t: [6, 14], k: [0, 0] }, patch: { g: { mu1: 0 }, e: {} } },
    { x: 'mu2', f: 0.9, r: { q: [0.5, 0.8], D: [0.1, 0.2], nu1: small, nu2: small, mu1: small, mu2: [3, 5], g: 0.1, t: [6, 14], k: [0, 0] }, patch: { g: { mu2: 0 }, e: {} } },
  ] as const
  for (const { x, f, r, patch } of itdFamilies) {
    it(`${x} dominant: the ITD bound is nearly attained (≥ ${f}) and below the error without the ${x} terms`, () => {
      fc.assert(
        fc.property(draws(r), (d) => {
          expectTight(d, { itd: f })
          expectNeeded(d, patch, ['itd'])
        }),
        { numRuns: 12 },
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
