/**
 * Step-size schedules η₀, η₁, … as streams (SID paper §4). Each constructor validates its
 * parameters and returns an Either; the `…OrThrow` forms are for code that has already
 * validated. A schedule also exposes `at(t)` for fused loops that index steps directly;
 * iterating the stream yields exactly at(0), at(1), …
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, orThrow, type HypergradError } from '../errors.js'
import { fromIterator, type Stream } from '../stream/stream.js'

export interface Schedule extends Stream<number> {
  readonly kind: 'constant' | 'decreasing' | 'twoPhase' | 'custom'
  /** The step used at iteration t (t = 0, 1, …). */
  at(t: number): number
  /** A one-line description, for reports. */
  readonly describe: string
}

const make = (kind: Schedule['kind'], describe: string, at: (t: number) => number): Schedule => ({
  kind,
  describe,
  at,
  [Symbol.iterator]: () =>
    fromIterator(function* () {
      for (let t = 0; ; t++) yield at(t)
    })[Symbol.iterator](),
})

const positive = (name: string, x: number): E.Either<HypergradError, number> =>
  Number.isFinite(x) && x > 0 ? E.right(x) : E.left(hgError('domain', `${name} must be a positive finite number, got ${x}`))

/** ηₜ = η for every t. */
export const constant = (eta: number): E.Either<HypergradError, Schedule> =>
  E.map((e: number) => make('constant', `constant η=${e}`, () => e))(positive('constant step η', eta))

/** ηₜ = β/(γ + t) (SID Thm 4.2). */
export const decreasing = (beta: number, gamma: number): E.Either<HypergradError, Schedule> => {
  if (!(Number.isFinite(beta) && beta > 0)) return E.left(hgError('domain', `decreasing step: β must be positive, got ${beta}`))
  if (!(Number.isFinite(gamma) && gamma > 0)) return E.left(hgError('domain', `decreasing step: γ must be positive, got ${gamma}`))
  return E.right(make('decreasing', `decreasing β=${beta}, γ=${gamma}`, (t) => beta / (gamma + t)))
}

/**
 * The two-phase schedule that SID §4 recommends: the constant step 1/(1+σ₂) for the first
 * `switchAt` iterations (until the mean square error reaches its plateau ησ₁/(1−q²)), then
 * β/(γ + t − switchAt) with β = 2/(1−q²) and γ = β(1+σ₂), restarting the count at the switch.
 */
export const twoPhase = (p: { readonly q: number; readonly sigma2: number; readonly switchAt: number }): E.Either<HypergradError, Schedule> => {
  const { q, sigma2, switchAt } = p
  if (!(q >= 0 && q < 1)) return E.left(hgError('domain', `two-phase step: contraction constant q must lie in [0, 1), got ${q}`))
  if (!(sigma2 >= 0 && Number.isFinite(sigma2))) return E.left(hgError('domain', `two-phase step: σ₂ must be ≥ 0, got ${sigma2}`))
  if (!(Number.isInteger(switchAt) && switchAt >= 0)) return E.left(hgError('domain', `two-phase step: switchAt must be an integer ≥ 0, got ${switchAt}`))
  const eta = 1 / (1 + sigma2)
  const beta = 2 / (1 - q * q)
  const gamma = beta * (1 + sigma2)
  return E.right(
    make('twoPhase', `two-phase η=${eta} for ${switchAt} steps, then β=${beta}, γ=${gamma}`, (t) =>
      t < switchAt ? eta : beta / (gamma + (t - switchAt)),
    ),
  )
}

/**
 * The iteration at which the constant phase reaches its plateau (SID Thm 4.1): the first t with
 * (1 − η(1−q²))ᵗ (MSE₀ − r) ≤ r, where r = ησ₁/(1−q²) and η = 1/(1+σ₂).
 */
export const plateauStep = (p: { readonly q: number; readonly sigma1: number; readonly sigma2: number; readonly mse0: number }): number => {
  const eta = 1 / (1 + p.sigma2)
  const r = (eta * p.sigma1) / (1 - p.q * p.q)
  if (p.mse0 <= 2 * r) return 0
  if (r <= 0) return Infinity
  const rate = 1 - eta * (1 - p.q * p.q)
  // ρ = 0 (q = σ₂ = 0): one step reaches the plateau exactly.
  if (rate <= 0) return 1
  return Math.max(0, Math.ceil(Math.log(r / (p.mse0 - r)) / Math.log(rate)))
}

/** Any step sequence given by a function of t (checked positive where it is used). */
export const custom = (at: (t: number) => number, describe = 'custom'): Schedule => make('custom', describe, at)

/**
 * Check the conditions of SID Thm 4.1/4.2 for a schedule on a map with contraction q and
 * variance constant σ₂: every step ≤ 1/(1+σ₂); for β/(γ+t) also β > 1/(1−q²) and γ ≥ β(1+σ₂).
 * Returns the schedule, or an error naming the violated condition.
 */
export const checkTheoremConditions = (
  s: Schedule,
  p: { readonly q: number; readonly sigma2: number; readonly beta?: number; readonly gamma?: number },
): E.Either<HypergradError, Schedule> => {
  if (!(Number.isFinite(p.q) && p.q >= 0 && p.q < 1))
    return E.left(hgError('schedule', `the map must be a contraction: q = ${p.q} is not in [0, 1) (SID Assumption D(i))`))
  if (!(Number.isFinite(p.sigma2) && p.sigma2 >= 0)) return E.left(hgError('schedule', `σ₂ must be ≥ 0, got ${p.sigma2} (SID Assumption D(iii))`))
  const cap = 1 / (1 + p.sigma2)
  const eta0 = s.at(0)
  if (s.kind !== 'decreasing' && s.kind !== 'twoPhase' && eta0 > cap * (1 + 1e-12))
    return E.left(hgError('schedule', `step ${eta0} exceeds 1/(1+σ₂) = ${cap} (SID Thm 4.1 requires η ≤ 1/(1+σ₂))`))
  if (p.beta !== undefined && p.gamma !== undefined) {
    if (!(p.beta > 1 / (1 - p.q * p.q)))
      return E.left(hgError('schedule', `β = ${p.beta} must exceed 1/(1−q²) = ${1 / (1 - p.q * p.q)} (SID Thm 4.2)`))
    if (!(p.gamma >= p.beta * (1 + p.sigma2) * (1 - 1e-12)))
      return E.left(hgError('schedule', `γ = ${p.gamma} must be ≥ β(1+σ₂) = ${p.beta * (1 + p.sigma2)} (SID Thm 4.2)`))
  }
  return E.right(s)
}

export const constantOrThrow = (eta: number): Schedule => orThrow(constant(eta))
export const decreasingOrThrow = (beta: number, gamma: number): Schedule => orThrow(decreasing(beta, gamma))
