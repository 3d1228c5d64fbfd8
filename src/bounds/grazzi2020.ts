/**
 * A priori bounds on the hypergradient error ‖∇̂f(λ) − ∇f(λ)‖ of ITD (reverse mode) and AID
 * (fixed-point and conjugate-gradient linear solvers), after t lower-level steps and k
 * linear-system steps, in the setting of Grazzi, Franceschi, Pontil, Salzo (ICML 2020, "On the
 * Iteration Complexity of Hypergradient Computation"), with the constants of SID Assumption A.
 *
 * The statements are derived in docs/theory/deterministic.md (§1–§4) and checked against true
 * errors by properties/deterministicBounds.test.ts. Every function validates its inputs and
 * returns `Either<HypergradError, number>`: a Left of kind 'domain' when a constant is out of its
 * domain (q ∉ [0, 1), a negative or non-finite constant, κ < 1, t or k not a non-negative
 * integer).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'

/**
 * The constants of the a priori bounds, all at one λ (SID Assumption A and Thm 3.1):
 *   q     ‖∂₁Φ(w, λ)‖ ≤ q < 1 for every w (contraction),
 *   nu1   Lipschitz constant of w ↦ ∂₁Φ(w, λ) (spectral norm),
 *   nu2   Lipschitz constant of w ↦ ∂₂Φ(w, λ),
 *   mu1   Lipschitz constant of w ↦ ∇₁E(w, λ),
 *   mu2   Lipschitz constant of w ↦ ∇₂E(w, λ),
 *   gradUpperNormStar ≥ ‖∇₁E(w(λ), λ)‖, the value AT THE FIXED POINT only (the bounds add
 *         μ₁‖wₜ − w(λ)‖ themselves wherever ∇₁E is needed at an iterate, so no global bound on
 *         ∇₁E is assumed). This is not SID's L_{E,λ} (`LE` in ./sid.ts), a global constant
 *         ≥ sup_w ‖∇₁E(w, λ)‖ that a quadratic E does not have; the same name as in
 *         `ErConstants` (./ehrhardtRoberts.ts),
 *   LPhi  ≥ ‖∂₂Φ(w(λ), λ)‖ at the fixed point,
 *   D     ≥ ‖w₀ − w(λ)‖,
 *   kappa (optional, AID-CG only) ≥ the condition number of I − ∂₁Φ(wₜ, λ)ᵀ; defaults to
 *         (1 + q)/(1 − q), which holds whenever ∂₁Φ is symmetric.
 */
export interface GrazziConstants {
  readonly q: number
  readonly nu1: number
  readonly nu2: number
  readonly mu1: number
  readonly mu2: number
  readonly gradUpperNormStar: number
  readonly LPhi: number
  readonly D: number
  readonly kappa?: number
}

const domain = (message: string): E.Either<HypergradError, never> => E.left(hgError('domain', message))

/** Validate a constants object: q ∈ [0, 1), the others finite and ≥ 0, κ ≥ 1 when given. */
export const checkGrazziConstants = (c: GrazziConstants): E.Either<HypergradError, GrazziConstants> => {
  if (!(Number.isFinite(c.q) && c.q >= 0 && c.q < 1))
    return domain(`grazzi2020: the contraction constant q must lie in [0, 1), got ${c.q}`)
  for (const key of ['nu1', 'nu2', 'mu1', 'mu2', 'gradUpperNormStar', 'LPhi', 'D'] as const) {
    const x = c[key]
    if (!(Number.isFinite(x) && x >= 0)) return domain(`grazzi2020: ${key} must be a finite number ≥ 0, got ${x}`)
  }
  if (c.kappa !== undefined && !(Number.isFinite(c.kappa) && c.kappa >= 1))
    return domain(`grazzi2020: the condition number κ must be finite and ≥ 1, got ${c.kappa}`)
  return E.right(c)
}

const checkCount = (name: string, n: number): E.Either<HypergradError, number> =>
  Number.isInteger(n) && n >= 0 ? E.right(n) : domain(`grazzi2020: ${name} must be a non-negative integer, got ${n}`)

const checkNonNeg = (name: string, x: number): E.Either<HypergradError, number> =>
  Number.isFinite(x) && x >= 0 ? E.right(x) : domain(`grazzi2020: ${name} must be a finite number ≥ 0, got ${x}`)

/** Run the checks in order; the first Left is the answer, else Right(compute()). */
const guarded = (checks: ReadonlyArray<E.Either<HypergradError, unknown>>, compute: () => number): E.Either<HypergradError, number> => {
  for (const check of checks) if (E.isLeft(check)) return check
  return E.right(compute())
}

/**
 * c₁ = μ₂ + (μ₁L_Φ + ν₂G*)/(1 − q) + ν₁G*L_Φ/(1 − q)² with G* = ‖∇₁E(w(λ))‖: the first-order
 * coefficient of ‖wₜ − w(λ)‖ in the deterministic AID error (docs/theory/deterministic.md
 * eq. (G5)). The shape of SID Thm 3.1's c_{1,λ} (`thm31C1` in ./sid.ts), but built from the
 * values at the fixed point, not from the global L_{E,λ}. Unchecked: pass validated constants.
 */
export const c1AtSolution = (c: GrazziConstants): number => {
  const s = 1 - c.q
  return c.mu2 + (c.mu1 * c.LPhi + c.nu2 * c.gradUpperNormStar) / s + (c.nu1 * c.gradUpperNormStar * c.LPhi) / (s * s)
}

/** ‖∇₁E(w', λ)‖ ≤ G* + μ₁‖w' − w(λ)‖ for every w' within `dist` of the fixed point (eq. (G2)). */
const gradUpperNear = (c: GrazziConstants, dist: number): number => c.gradUpperNormStar + c.mu1 * dist

/**
 * The lower-level error of t steps of fixed-point iteration wᵢ₊₁ = Φ(wᵢ, λ):
 * ‖wₜ − w(λ)‖ ≤ qᵗ D (Banach; docs eq. (G1)).
 */
export const fixedPointLowerError = (c: GrazziConstants, t: number): E.Either<HypergradError, number> =>
  guarded([checkGrazziConstants(c), checkCount('t', t)], () => c.q ** t * c.D)

/** The plain AID bound of eq. (G6): c₁Δ + ν₂μ₁Δ²/(1 − q) + (L_Φ + ν₂Δ)σ. */
const aidCore = (c: GrazziConstants, delta: number, sigma: number): number =>
  c1AtSolution(c) * delta + (c.nu2 * c.mu1 * delta * delta) / (1 - c.q) + (c.LPhi + c.nu2 * delta) * sigma

/**
 * The AID error bound for any pair of solvers (docs eq. (G6)): given Δ ≥ ‖wₜ − w(λ)‖ and
 * σ ≥ ‖vₖ − v(wₜ, λ)‖ (v(w, λ) the solution of SID eq. (5) at w),
 *   ‖∇̂f − ∇f‖ ≤ c₁Δ + ν₂μ₁Δ²/(1 − q) + (L_Φ + ν₂Δ)σ.
 * This is SID Thm 3.1(i) in the deterministic case, plus the second-order term ν₂μ₁Δ²/(1 − q)
 * that appears because G* bounds ‖∇₁E‖ at w(λ) only.
 */
export const aidBound = (
  c: GrazziConstants,
  errors: { readonly lowerError: number; readonly linearError: number },
): E.Either<HypergradError, number> =>
  guarded(
    [checkGrazziConstants(c), checkNonNeg('lowerError', errors.lowerError), checkNonNeg('linearError', errors.linearError)],
    () => aidCore(c, errors.lowerError, errors.linearError),
  )

/**
 * ‖vₖ − v(wₜ)‖ after k steps of the fixed-point linear solver vⱼ₊₁ = ∂₁Φ(wₜ)ᵀvⱼ + ∇₁E(wₜ) from v₀
 * with ‖v₀‖ ≤ v0Norm, given Δ ≥ ‖wₜ − w(λ)‖ (docs eq. (G7)):
 *   σ_FP(k) = qᵏ (‖v₀‖ + (G* + μ₁Δ)/(1 − q)).
 */
export const fixedPointLinearError = (c: GrazziConstants, k: number, lowerError: number, v0Norm = 0): E.Either<HypergradError, number> =>
  guarded(
    [checkGrazziConstants(c), checkCount('k', k), checkNonNeg('lowerError', lowerError), checkNonNeg('v0Norm', v0Norm)],
    () => c.q ** k * (v0Norm + gradUpperNear(c, lowerError) / (1 - c.q)),
  )

/** κ of I − ∂₁Φᵀ: the given one, else (1 + q)/(1 − q). */
const kappaOf = (c: GrazziConstants): number => c.kappa ?? (1 + c.q) / (1 - c.q)

/** ρ = (√κ − 1)/(√κ + 1): the conjugate-gradient rate for condition number κ ≥ 1 (unchecked). */
export const cgRate = (kappa: number): number => {
  const s = Math.sqrt(kappa)
  return (s - 1) / (s + 1)
}

/**
 * ‖vₖ − v(wₜ)‖ after k conjugate-gradient steps on (I − ∂₁Φ(wₜ)ᵀ)v = ∇₁E(wₜ) (symmetric ∂₁Φ)
 * from v₀ with ‖v₀‖ ≤ v0Norm, given Δ ≥ ‖wₜ − w(λ)‖ (docs eq. (G8)–(G9)). With ρ = cgRate(κ),
 * Ḡ = G* + μ₁Δ:
 *   σ_CG(k) = 2ρᵏ · min( √κ (‖v₀‖ + Ḡ/(1 − q)),  (Ḡ + (1 + q)‖v₀‖)/(1 − q) ),
 * the energy-norm bound ‖eₖ‖_M ≤ 2ρᵏ‖e₀‖_M translated to the 2-norm two ways (from v₀ = 0 the
 * second form has no √κ factor). Exact arithmetic: in floating point the true error stalls at
 * the rounding level while this bound keeps decreasing.
 */
export const cgLinearError = (c: GrazziConstants, k: number, lowerError: number, v0Norm = 0): E.Either<HypergradError, number> =>
  guarded(
    [checkGrazziConstants(c), checkCount('k', k), checkNonNeg('lowerError', lowerError), checkNonNeg('v0Norm', v0Norm)],
    () => {
      const kappa = kappaOf(c)
      const g = gradUpperNear(c, lowerError)
      const viaError = Math.sqrt(kappa) * (v0Norm + g / (1 - c.q))
      const viaResidual = (g + (1 + c.q) * v0Norm) / (1 - c.q)
      return 2 * cgRate(kappa) ** k * Math.min(viaError, viaResidual)
    },
  )

/** Options of the AID a priori bounds: an upper bound on ‖v₀‖ for the linear solver's start (default 0). */
export interface AidOptions {
  readonly v0Norm?: number
}

/**
 * AID-FP a priori bound (docs eq. (G10)): t fixed-point steps on the lower problem from w₀,
 * then k fixed-point steps on the linear system from v₀ (default v₀ = 0). With Δₜ = qᵗD:
 *   ‖∇̂f − ∇f‖ ≤ c₁Δₜ + ν₂μ₁Δₜ²/(1 − q) + (L_Φ + ν₂Δₜ) qᵏ (‖v₀‖ + (G* + μ₁Δₜ)/(1 − q)).
 * It is O(qᵗ + qᵏ) and tends to 0 as t, k → ∞.
 */
export const aidFixedPointBound = (c: GrazziConstants, t: number, k: number, opts: AidOptions = {}): E.Either<HypergradError, number> =>
  E.chain((delta: number) =>
    E.chain((sigma: number) => aidBound(c, { lowerError: delta, linearError: sigma }))(
      fixedPointLinearError(c, k, delta, opts.v0Norm ?? 0),
    ),
  )(fixedPointLowerError(c, t))

/**
 * AID-CG a priori bound (docs eq. (G11)): t fixed-point steps on the lower problem, then k
 * conjugate-gradient steps on (I − ∂₁Φ(wₜ)ᵀ)v = ∇₁E(wₜ), valid when ∂₁Φ is symmetric (Φ = w − α∇ℓ).
 * The same as AID-FP with the linear error σ_CG(k) of `cgLinearError` in place of σ_FP(k).
 */
export const aidConjugateGradientBound = (c: GrazziConstants, t: number, k: number, opts: AidOptions = {}): E.Either<HypergradError, number> =>
  E.chain((delta: number) =>
    E.chain((sigma: number) => aidBound(c, { lowerError: delta, linearError: sigma }))(cgLinearError(c, k, delta, opts.v0Norm ?? 0)),
  )(fixedPointLowerError(c, t))

/** Σ_{n=0}^{t−1} (1 − qⁿ) = t − (1 − qᵗ)/(1 − q), summed term by term for moderate t (no cancellation). */
const sumOneMinusPowers = (q: number, t: number): number => {
  if (t > 1_000_000) return t - (1 - q ** t) / (1 - q)
  let s = 0
  let qn = 1
  for (let n = 0; n < t; n++) {
    s += 1 - qn
    qn *= q
  }
  return s
}

/**
 * ITD (reverse mode) a priori bound (docs eq. (G12)): the exact derivative of E(wₜ(λ), λ) where
 * wᵢ₊₁ = Φ(wᵢ, λ), i = 0..t−1, and w₀ does not depend on λ. With Ḡ = G* + μ₁qᵗD:
 *   ‖∇̂f − ∇f‖ ≤ μ₂qᵗD + L_Φ G* qᵗ/(1 − q) + L_Φ μ₁ D qᵗ(1 − qᵗ)/(1 − q)
 *              + ν₂ D Ḡ t q^{t−1} + ν₁ L_Φ D Ḡ q^{t−1} (t − (1 − qᵗ)/(1 − q))/(1 − q),
 * the last two terms being 0 at t = 0. It is O(t qᵗ) and tends to 0 as t → ∞.
 */
export const itdReverseBound = (c: GrazziConstants, t: number): E.Either<HypergradError, number> =>
  guarded([checkGrazziConstants(c), checkCount('t', t)], () => {
    const { q, D, gradUpperNormStar: G, LPhi, mu1, mu2, nu1, nu2 } = c
    const s = 1 - q
    const qt = q ** t
    const gBar = G + mu1 * qt * D
    const base = mu2 * qt * D + (LPhi * G * qt) / s + (LPhi * mu1 * D * qt * (1 - qt)) / s
    if (t === 0) return base
    const qt1 = q ** (t - 1)
    return base + nu2 * D * gBar * t * qt1 + (nu1 * LPhi * D * gBar * qt1 * sumOneMinusPowers(q, t)) / s
  })
