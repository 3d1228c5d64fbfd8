/**
 * The instance families on which the deterministic bounds are nearly attained, shared by the
 * property test (properties/boundTightness.test.ts) and the table of measured ratios
 * (properties/boundTightnessTable.ts, docs/theory/deterministic.md §10).
 *
 * Every family is the scalar problem of ./scalarBilevel.ts with the sign pattern b* > 0, g* < 0,
 * β₂ < 0, γ₁ > 0, η₂ > 0 and w₀ > w*, under which every term of every bound adds to the error
 * with the same sign, to first order in ‖w₀ − w*‖. The errors are those of the library's `itd`
 * and `aid` against ∇f in closed form.
 */
import fc from 'fast-check'
import { aidBound, aidConjugateGradientBound, aidFixedPointBound, itdReverseBound, type GrazziConstants } from '../src/bounds/grazzi2020.js'
import { aPosterioriBound, aPrioriBoundAfter, type ErConstants } from '../src/bounds/ehrhardtRoberts.js'
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

/** The one hyperparameter of the scalar family. */
export const LAMBDA = Float64Array.of(0)

/** The gradient of a result (a scalar), throwing on a diverged run. */
export const gradientOf = (r: hg.HypergradResult): number => {
  if (r.status === 'diverged' || r.gradient === null) throw new Error(`${r.method} diverged`)
  return r.gradient[0]!
}

/** The rounding allowance of the true-error properties (properties/deterministicBounds.test.ts). */
export const sound = (err: number, bound: number, scale: number): boolean => err <= bound * (1 + 1e-9) + 1e-10 * (1 + scale)

/** The bounds checked on the family. */
export type Bound = 'itd' | 'aidFp' | 'aidCg' | 'aidGeneric' | 'erPrior' | 'erPostFp' | 'erPostCg'

/** What each bound is, for messages and tables. */
export const BOUND_LABEL: Readonly<Record<Bound, string>> = {
  itd: 'ITD (G12)',
  aidFp: 'AID-FP (G10)',
  aidCg: 'AID-CG (G11, κ = 1)',
  aidGeneric: 'AID, any solvers (G6) at the actual Δ, σ',
  erPrior: 'E&R a priori, GD/GD (R13)',
  erPostFp: 'E&R a posteriori at AID-FP (R5)',
  erPostCg: 'E&R a posteriori at AID-CG (R5)',
}

/** Constants set to 0 in a bound (to show that their terms are needed). */
export interface Patch {
  readonly g?: Partial<GrazziConstants>
  readonly e?: Partial<ErConstants>
}

/** Every bound and its observed error at one instance and (t, k). */
export const boundsAt = (s: ScalarSpec, w0: number, t: number, k: number, patch: Patch = {}) => {
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
  const errFp = Math.abs(gradientOf(fp) - truth)
  const errCg = Math.abs(gradientOf(cg) - truth)
  const wt = fp.w[0]!
  const gd = { kind: 'gd', step: s.alpha } as const
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

/** An instance of the family: q, D = w₀ − w* > 0, the constants' sizes, |g*| and (t, k). */
export interface Draw {
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
export const specOf = (d: Draw): ScalarSpec => ({ q: d.q, nu1: d.nu1, b: 1, beta2: -d.nu2, g: -d.g, gamma1: d.mu1, eta2: d.mu2, alpha: 0.5 })

/** Numbers spread evenly over [lo, hi] (not fc.double, which crowds near 0). */
export const within = (lo: number, hi: number): fc.Arbitrary<number> =>
  fc.integer({ min: 0, max: 1 << 16 }).map((i) => lo + ((hi - lo) * i) / (1 << 16))

type Range = readonly [number, number]

/** The ranges of a family. */
export interface Ranges {
  readonly q: Range
  readonly D: Range
  readonly nu1: Range
  readonly nu2: Range
  readonly mu1: Range
  readonly mu2: Range
  readonly g?: number
  readonly t: Range
  readonly k: Range
}

/** Draws with the given ranges; the filter keeps the signs of a, b, g fixed along the iterates. */
export const draws = (r: Ranges): fc.Arbitrary<Draw> =>
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

/** A family: its ranges, the fraction of each bound its errors reach, and the constants whose terms it shows are needed. */
export interface Family {
  readonly name: string
  readonly ranges: Ranges
  readonly fractions: Partial<Record<Bound, number>>
  readonly needed?: { readonly constant: string; readonly patch: Patch; readonly bounds: ReadonlyArray<Bound> }
}

const SMALL: Range = [0.01, 0.05]
const BIG: Range = [2, 5]
const AID_BOUNDS: ReadonlyArray<Bound> = ['aidFp', 'aidCg', 'erPrior', 'erPostFp', 'erPostCg']

type Constant = 'nu1' | 'nu2' | 'mu1' | 'mu2'
const ZERO: Readonly<Record<Constant, Patch>> = {
  nu1: { g: { nu1: 0 }, e: { LH: 0 } },
  nu2: { g: { nu2: 0 }, e: { LB: 0 } },
  mu1: { g: { mu1: 0 }, e: { Lf: 0 } },
  mu2: { g: { mu2: 0 }, e: { mu2: 0 } },
}

/** Constant x's terms dominate the AID and E&R bounds (others ≤ 0.05; k large, so the linear error does not hide them). */
const aidFamily = (x: Constant, f: number, fPost: number): Family => ({
  name: `${x} dominant, AID and E&R`,
  ranges: { q: [0.5, 0.8], D: [0.02, 0.08], nu1: SMALL, nu2: SMALL, mu1: SMALL, mu2: SMALL, [x]: BIG, t: [6, 14], k: [30, 40] },
  fractions: { aidFp: f, aidCg: f, erPrior: f, erPostFp: fPost, erPostCg: fPost },
  needed: { constant: x, patch: ZERO[x], bounds: AID_BOUNDS },
})

/** Constant x's terms dominate the ITD bound. */
const itdFamily = (x: Constant, f: number, ranges: Omit<Ranges, Constant | 'k'>, xRange: Range = BIG): Family => ({
  name: `${x} dominant, ITD`,
  ranges: { nu1: SMALL, nu2: SMALL, mu1: SMALL, mu2: SMALL, [x]: xRange, k: [0, 0], ...ranges },
  fractions: { itd: f },
  needed: { constant: x, patch: { g: ZERO[x].g! }, bounds: ['itd'] },
})

/** The families of the property test, with their stated fractions. */
export const FAMILIES: ReadonlyArray<Family> = [
  {
    name: 'every constant of the same size',
    ranges: { q: [0.5, 0.8], D: [0.02, 0.08], nu1: [0.3, 1], nu2: [0.3, 1], mu1: [0.3, 1], mu2: [0.3, 1], t: [6, 14], k: [2, 14] },
    fractions: { itd: 0.85, aidFp: 0.75, aidCg: 0.75, aidGeneric: 0.9, erPrior: 0.75, erPostFp: 0.9, erPostCg: 0.9 },
  },
  aidFamily('nu1', 0.4, 0.75),
  aidFamily('nu2', 0.9, 0.95),
  aidFamily('mu1', 0.9, 0.95),
  aidFamily('mu2', 0.9, 0.95),
  itdFamily('nu1', 0.4, { q: [0.6, 0.8], D: [0.05, 0.1], t: [15, 25] }),
  itdFamily('nu2', 0.9, { q: [0.6, 0.8], D: [0.05, 0.1], t: [15, 25] }),
  itdFamily('mu1', 0.9, { q: [0.5, 0.8], D: [0.1, 0.2], t: [6, 14] }, [3, 5]),
  itdFamily('mu2', 0.9, { q: [0.5, 0.8], D: [0.1, 0.2], g: 0.1, t: [6, 14] }, [3, 5]),
]
