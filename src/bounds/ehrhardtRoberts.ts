/**
 * A posteriori and a priori bounds on the hypergradient error in the setting of Ehrhardt &
 * Roberts ("Analyzing Inexact Hypergradients for Bilevel Learning", IMA J. Appl. Math. 2024),
 * written in this library's notation:
 *
 *   w* = argmin_w ℓ(w, λ), ℓ(·, λ) τ-strongly convex and L-smooth,
 *   A(w) = ∇²_{ww}ℓ(w, λ) (d×d),  B(w) = ∇²_{wλ}ℓ(w, λ) (d×m),
 *   ∇f(λ) = ∇₂E(w*, λ) − B(w*)ᵀ A(w*)⁻¹ ∇₁E(w*, λ).
 *
 * Given an approximate lower solution ŵ and an approximate adjoint p (E&R call it q; here q is
 * the contraction constant, so the adjoint is p) with residual r = A(ŵ)p − ∇₁E(ŵ), the estimate
 * is ĥ = ∇₂E(ŵ) − B(ŵ)ᵀp. For AID on Φ = w − α∇ℓ: I − ∂₁Φᵀ = αA and ∂₂Φ = −αB, so p = αv, ĥ is
 * AID's estimate, and r is exactly AID's linear residual (I − ∂₁Φᵀ)v − ∇₁E (no rescaling).
 *
 * Derivations: docs/theory/deterministic.md §5–§7; checks: properties/deterministicBounds.test.ts.
 * Every export validates its inputs and returns `Either<HypergradError, number>`, a Left of kind
 * 'domain' when τ ≤ 0, L < τ, a constant is negative or non-finite, or a solver does not contract.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'

const domain = (message: string): E.Either<HypergradError, never> => E.left(hgError('domain', message))

const nonNeg = (name: string, x: number | undefined): E.Either<HypergradError, number> =>
  x === undefined ? E.right(0) : Number.isFinite(x) && x >= 0 ? E.right(x) : domain(`ehrhardtRoberts: ${name} must be a finite number ≥ 0, got ${x}`)

const count = (name: string, n: number): E.Either<HypergradError, number> =>
  Number.isInteger(n) && n >= 0 ? E.right(n) : domain(`ehrhardtRoberts: ${name} must be a non-negative integer, got ${n}`)

const positiveTau = (tau: number): E.Either<HypergradError, number> =>
  Number.isFinite(tau) && tau > 0 ? E.right(tau) : domain(`ehrhardtRoberts: the strong convexity τ must be positive and finite, got ${tau}`)

/** Run the checks in order; the first Left is the answer, else Right(compute()). */
const guarded = (checks: ReadonlyArray<E.Either<HypergradError, unknown>>, compute: () => number): E.Either<HypergradError, number> => {
  for (const check of checks) if (E.isLeft(check)) return check
  return E.right(compute())
}

/** Curvature of ℓ(·, λ): τ‖u‖² ≤ uᵀA(w)u ≤ L‖u‖² for every w (0 < τ ≤ L). */
export interface Curvature {
  readonly tau: number
  readonly L: number
}

const checkCurvature = (c: Curvature): E.Either<HypergradError, Curvature> =>
  E.chain(() =>
    Number.isFinite(c.L) && c.L >= c.tau ? E.right(c) : domain(`ehrhardtRoberts: the smoothness L must be finite and ≥ τ = ${c.tau}, got ${c.L}`),
  )(positiveTau(c.tau))

/**
 * The Lipschitz constants (in w, at the fixed λ) that both bounds use:
 *   LB  of w ↦ B(w) = ∇²_{wλ}ℓ (spectral norm),  Lf of w ↦ ∇₁E(w, λ) (E&R's L_f),
 *   LH  of w ↦ A(w) = ∇²_{ww}ℓ (0 for quadratic ℓ),  mu2 of w ↦ ∇₂E(w, λ) (0 when E does not
 *   depend on λ, as in E&R). Missing LH, mu2 mean 0.
 */
export interface Lipschitz {
  readonly LB: number
  readonly Lf: number
  readonly LH?: number
  readonly mu2?: number
}

/** `nonNeg` of each named field of x (a missing optional field passes). */
const nonNegFields = <T extends object>(x: T, keys: ReadonlyArray<keyof T & string>): ReadonlyArray<E.Either<HypergradError, number>> =>
  keys.map((k) => nonNeg(k, x[k] as number | undefined))

const LIPSCHITZ_KEYS = ['LB', 'Lf', 'LH', 'mu2'] as const

/**
 * The bound shared by both forms (docs eq. (R4)), with ε ≥ ‖ŵ − w*‖, δ ≥ ‖p − A(ŵ)⁻¹∇₁E(ŵ)‖,
 * β ≥ ‖B(ŵ)‖, G ≥ ‖∇₁E(ŵ)‖:
 *   μ₂ε + βδ + βL_f ε/τ + βL_H G ε/τ² + L_B G ε/τ + L_B L_f ε²/τ.
 */
const core = (tau: number, l: Lipschitz, eps: number, delta: number, beta: number, g: number): number => {
  const LH = l.LH ?? 0
  const mu2 = l.mu2 ?? 0
  return mu2 * eps + beta * delta + (beta * l.Lf * eps) / tau + (beta * LH * g * eps) / (tau * tau) + (l.LB * g * eps) / tau + (l.LB * l.Lf * eps * eps) / tau
}

/** A posteriori lower-level error (strong convexity): ‖ŵ − w*‖ ≤ ‖∇₁ℓ(ŵ, λ)‖/τ (docs eq. (R1)). */
export const lowerErrorAPosteriori = (gradLowerNorm: number, tau: number): E.Either<HypergradError, number> =>
  guarded([nonNeg('gradLowerNorm', gradLowerNorm), positiveTau(tau)], () => gradLowerNorm / tau)

/** What the a posteriori bound reads at the computed ŵ, p (all computable), plus τ and the Lipschitz constants. */
export interface APosterioriInputs extends Lipschitz {
  /** ‖∇₁ℓ(ŵ, λ)‖ (for Φ = w − α∇ℓ: ‖Φ(ŵ) − ŵ‖/α). */
  readonly gradLowerNorm: number
  /** ‖A(ŵ)p − ∇₁E(ŵ)‖ (for AID: its linear residual ‖(I − ∂₁Φᵀ)v − ∇₁E‖, unscaled). */
  readonly residualNorm: number
  /** ‖B(ŵ)‖ = ‖∇²_{wλ}ℓ(ŵ, λ)‖ (for Φ = w − α∇ℓ: ‖∂₂Φ(ŵ)‖/α). */
  readonly BNorm: number
  /** ‖∇₁E(ŵ, λ)‖. */
  readonly gradUpperNorm: number
  readonly tau: number
}

/**
 * The a posteriori bound (docs eq. (R5); E&R's a posteriori theorem with the L_H and ∇₂E terms
 * derived for this library): with g = ‖∇₁ℓ(ŵ)‖, β = ‖B(ŵ)‖, G = ‖∇₁E(ŵ)‖,
 *   ‖ĥ − ∇f‖ ≤ β‖r‖/τ + G L_B g/τ² + β L_f g/τ² + L_B L_f g²/τ³ + β L_H G g/τ³ + μ₂ g/τ.
 */
export const aPosterioriBound = (x: APosterioriInputs): E.Either<HypergradError, number> =>
  guarded(
    [positiveTau(x.tau), ...nonNegFields(x, ['gradLowerNorm', 'residualNorm', 'BNorm', 'gradUpperNorm', ...LIPSCHITZ_KEYS])],
    () => core(x.tau, x, x.gradLowerNorm / x.tau, x.residualNorm / x.tau, x.BNorm, x.gradUpperNorm),
  )

/** What the a priori bound needs: bounds on the two solvers' errors and on the exact-solution quantities. */
export interface APrioriInputs extends Lipschitz {
  /** ε ≥ ‖ŵ − w*‖, from the lower solver's rate (see gdBound, heavyBallBound). */
  readonly lowerError: number
  /** ≥ ‖A(ŵ)p − ∇₁E(ŵ)‖, from the linear solver's rate (see gdBound, heavyBallBound, cgResidualBound). */
  readonly residualBound: number
  /** Optional ≥ ‖p − A(ŵ)⁻¹∇₁E(ŵ)‖ when the solver's rate gives it directly (cgAdjointErrorBound); the bound uses min(this, residualBound/τ). */
  readonly adjointError?: number
  /** ≥ ‖B(w*)‖ at the exact solution. */
  readonly BNormStar: number
  /** ≥ ‖∇₁E(w*, λ)‖ at the exact solution. */
  readonly gradUpperNormStar: number
  readonly tau: number
}

/**
 * The a priori bound (docs eq. (R6)): the shared bound (R4) with ε = lowerError,
 * δ = min(residualBound/τ, adjointError), β = ‖B(w*)‖ + L_B ε, G = ‖∇₁E(w*)‖ + L_f ε.
 */
export const aPrioriBound = (x: APrioriInputs): E.Either<HypergradError, number> =>
  guarded(
    [
      positiveTau(x.tau),
      ...nonNegFields(x, ['lowerError', 'residualBound', 'adjointError', 'BNormStar', 'gradUpperNormStar', ...LIPSCHITZ_KEYS]),
    ],
    () => {
      const eps = x.lowerError
      const delta = Math.min(x.residualBound / x.tau, x.adjointError ?? Infinity)
      return core(x.tau, x, eps, delta, x.BNormStar + x.LB * eps, x.gradUpperNormStar + x.Lf * eps)
    },
  )

// ── Solver rates ─────────────────────────────────────────────────────────────────────────────

/**
 * The contraction factor of gradient descent x ← x − s∇ℓ(x) with step s (default the optimal
 * 2/(L+τ)): q_GD = max(|1 − sτ|, |1 − sL|), = (L − τ)/(L + τ) at the optimal step (docs eq. (R7)).
 * Left when q_GD ≥ 1 (s ≥ 2/L or s ≤ 0).
 */
export const gdRate = (c: Curvature, step?: number): E.Either<HypergradError, number> => {
  const cc = checkCurvature(c)
  if (E.isLeft(cc)) return cc
  const s = step ?? 2 / (c.L + c.tau)
  const q = Math.max(Math.abs(1 - s * c.tau), Math.abs(1 - s * c.L))
  return Number.isFinite(s) && s > 0 && q < 1 ? E.right(q) : domain(`ehrhardtRoberts: gradient descent with step ${s} does not contract (q = ${q}); need 0 < s < 2/L = ${2 / c.L}`)
}

/**
 * k steps of gradient descent with step s (default 2/(L+τ)) on a τ-strongly convex L-smooth
 * function, or on the quadratic A p = g of the linear system (docs eq. (R7)–(R8)):
 *   ‖xₖ − x*‖ ≤ q_GDᵏ‖x₀ − x*‖,  and for the linear system also ‖rₖ‖ ≤ q_GDᵏ‖r₀‖
 * (the residual map I − sA commutes with A). `initial` is ‖x₀ − x*‖ or ‖r₀‖.
 * E&R state the residual form as (L/τ)q_GDᵏ‖r₀‖, which this implies.
 */
export const gdBound = (c: Curvature, k: number, initial: number, step?: number): E.Either<HypergradError, number> =>
  E.chain((q: number) => guarded([count('k', k), nonNeg('initial', initial)], () => q ** k * initial))(gdRate(c, step))

/** Heavy-ball parameters: a step s and a momentum β. */
export interface HeavyBallParams {
  readonly step: number
  readonly momentum: number
}

/**
 * The classical heavy-ball tuning for curvature [τ, L]: s = 4/(√L + √τ)², β = q_HB²,
 * q_HB = (√L − √τ)/(√L + √τ) (docs §6).
 */
export const heavyBallParams = (c: Curvature): HeavyBallParams => {
  const sl = Math.sqrt(c.L)
  const st = Math.sqrt(c.tau)
  const qhb = (sl - st) / (sl + st)
  return { step: 4 / ((sl + st) * (sl + st)), momentum: qhb * qhb }
}

/** Spectral radius of the heavy-ball 2×2 iteration matrix [[1 + β − sλ, −β], [1, 0]]. */
const hbRadius = (s: number, beta: number, lambda: number): number => {
  const a = 1 + beta - s * lambda
  const disc = a * a - 4 * beta
  return disc <= 0 ? Math.sqrt(beta) : (Math.abs(a) + Math.sqrt(disc)) / 2
}

/**
 * The heavy-ball rate ρ = max over λ ∈ [τ, L] of the spectral radius of [[1 + β − sλ, −β], [1, 0]]
 * (attained at λ = τ or λ = L); ρ = q_HB for `heavyBallParams` (docs eq. (R9)). Left when ρ ≥ 1.
 */
export const heavyBallRate = (c: Curvature, params?: HeavyBallParams): E.Either<HypergradError, number> => {
  const cc = checkCurvature(c)
  if (E.isLeft(cc)) return cc
  const { step, momentum } = params ?? heavyBallParams(c)
  if (!(Number.isFinite(step) && step > 0 && Number.isFinite(momentum) && momentum >= 0 && momentum < 1))
    return domain(`ehrhardtRoberts: heavy ball needs a step > 0 and a momentum in [0, 1), got step ${step}, momentum ${momentum}`)
  const rho = Math.max(hbRadius(step, momentum, c.tau), hbRadius(step, momentum, c.L))
  return rho < 1 ? E.right(rho) : domain(`ehrhardtRoberts: heavy ball with step ${step}, momentum ${momentum} does not converge (ρ = ${rho})`)
}

/**
 * k steps of heavy ball xⱼ₊₁ = xⱼ − s∇ℓ(xⱼ) + β(xⱼ − xⱼ₋₁) with x₋₁ = x₀ (the first step plain
 * gradient descent) on a QUADRATIC with curvature in [τ, L] — the linear system A p = g, or a
 * quadratic lower objective (for non-quadratic ℓ heavy ball has no such global guarantee).
 * With ρ = heavyBallRate(c, params) (docs eq. (R10)):
 *   ‖xₖ − x*‖ ≤ (1 + (1 + ρ)k) ρᵏ ‖x₀ − x*‖,  and likewise ‖rₖ‖ ≤ (1 + (1 + ρ)k) ρᵏ ‖r₀‖.
 * The constant is not 1: the factor 1 + (1 + ρ)k is attained at λ = L with the classical tuning.
 * The library's `heavyBall({ beta, eta })` / `heavyBallLinear({ beta, eta })` on Φ = w − α∇ℓ are
 * this iteration with step ηα and momentum β.
 */
export const heavyBallBound = (c: Curvature, k: number, initial: number, params?: HeavyBallParams): E.Either<HypergradError, number> =>
  E.chain((rho: number) => guarded([count('k', k), nonNeg('initial', initial)], () => (1 + (1 + rho) * k) * rho ** k * initial))(
    heavyBallRate(c, params),
  )

/** ρ_CG = (√κ − 1)/(√κ + 1) with κ = L/τ (= q_HB). */
const cgRho = (c: Curvature): number => {
  const s = Math.sqrt(c.L / c.tau)
  return (s - 1) / (s + 1)
}

/**
 * Residual after k conjugate-gradient steps on A p = g, τI ⪯ A ⪯ LI (docs eq. (R11)):
 *   ‖rₖ‖ ≤ 2√κ ρ_CGᵏ ‖r₀‖,  κ = L/τ, ρ_CG = (√L − √τ)/(√L + √τ) = q_HB.
 * E&R state 2κ^{3/2} q_HBᵏ‖r₀‖, which this implies. Exact arithmetic.
 */
export const cgResidualBound = (c: Curvature, k: number, r0: number): E.Either<HypergradError, number> =>
  E.chain(() => guarded([count('k', k), nonNeg('r0', r0)], () => 2 * Math.sqrt(c.L / c.tau) * cgRho(c) ** k * r0))(checkCurvature(c))

/**
 * Error after k conjugate-gradient steps on A p = g (docs eq. (R12)):
 *   ‖pₖ − p̂‖ ≤ 2 ρ_CGᵏ ‖r₀‖/τ   (√κ better than ‖rₖ‖/τ from cgResidualBound).
 */
export const cgAdjointErrorBound = (c: Curvature, k: number, r0: number): E.Either<HypergradError, number> =>
  E.chain(() => guarded([count('k', k), nonNeg('r0', r0)], () => (2 * cgRho(c) ** k * r0) / c.tau))(checkCurvature(c))

/**
 * k steps of the library's `fista({ restart: false })` with step s ≤ 1/L on a τ-strongly
 * convex, L-smooth ℓ (docs eq. (R14)): Beck & Teboulle's estimate-sequence argument with the
 * library's momentum sequence (s₀ = 1, the first extrapolation at the second step) gives
 * ℓ(xₖ) − ℓ* ≤ 10‖x₀ − x*‖²/(s(k + 2)²), and (τ/2)‖xₖ − x*‖² ≤ ℓ(xₖ) − ℓ*, so
 *   ‖xₖ − x*‖ ≤ 2√5 ‖x₀ − x*‖/((k + 2)√(sτ)).
 * A rate O(1/k), not linear: FISTA's momentum sequence does not use τ. Default s = 1/(L + τ),
 * the step of `fista()` (η = ½ on Φ = w − α∇ℓ with α = 2/(L + τ)). Left when s > 1/L or s ≤ 0.
 */
export const fistaBound = (c: Curvature, k: number, initial: number, step?: number): E.Either<HypergradError, number> => {
  const cc = checkCurvature(c)
  if (E.isLeft(cc)) return cc
  const s = step ?? 1 / (c.L + c.tau)
  if (!(Number.isFinite(s) && s > 0 && s <= 1 / c.L)) return domain(`ehrhardtRoberts: FISTA's bound needs a step in (0, 1/L] = (0, ${1 / c.L}], got ${s}`)
  return guarded([count('k', k), nonNeg('initial', initial)], () => (2 * Math.sqrt(5) * initial) / ((k + 2) * Math.sqrt(s * c.tau)))
}

// ── A priori bound as a function of t and k ────────────────────────────────────────────────

/**
 * The lower-level solver of an a priori bound. Heavy ball requires a quadratic ℓ (see
 * `ErConstants.quadraticLower`); FISTA (without restarts) takes its step s ≤ 1/L.
 */
export type LowerSolverSpec =
  | { readonly kind: 'gd'; readonly step?: number }
  | { readonly kind: 'heavyBall'; readonly params?: HeavyBallParams }
  | { readonly kind: 'fista'; readonly step?: number }

/** The linear-system solver of an a priori bound, on A p = ∇₁E(ŵ) (GD with step s is AID-FP when s = α). */
export type LinearSolverSpec =
  | { readonly kind: 'gd'; readonly step?: number }
  | { readonly kind: 'heavyBall'; readonly params?: HeavyBallParams }
  | { readonly kind: 'cg' }

/** Everything the a priori bound after (t, k) steps needs to know about the problem at λ. */
export interface ErConstants extends Curvature, Lipschitz {
  /** ≥ ‖B(w*)‖. */
  readonly BNormStar: number
  /** ≥ ‖∇₁E(w*, λ)‖. */
  readonly gradUpperNormStar: number
  /** True when ℓ(·, λ) is quadratic (then heavy ball's lower-level bound applies). */
  readonly quadraticLower?: boolean
}

/** The run an a priori bound describes. */
export interface ErRun {
  readonly t: number
  readonly k: number
  readonly lower: LowerSolverSpec
  readonly linear: LinearSolverSpec
  /** ≥ ‖w₀ − w*‖. */
  readonly dist0: number
  /** ≥ ‖p₀‖ of the linear solver's start (default 0). For AID started at v₀: ‖p₀‖ = α‖v₀‖. */
  readonly p0Norm?: number
}

/** ε ≥ ‖wₜ − w*‖ after t steps of the given lower solver from ‖w₀ − w*‖ ≤ dist0. */
export const lowerErrorAPriori = (c: ErConstants, lower: LowerSolverSpec, t: number, dist0: number): E.Either<HypergradError, number> => {
  if (lower.kind === 'gd') return gdBound(c, t, dist0, lower.step)
  if (lower.kind === 'fista') return fistaBound(c, t, dist0, lower.step)
  if (c.quadraticLower !== true)
    return domain('ehrhardtRoberts: the heavy-ball lower-level bound holds for quadratic ℓ only (set quadraticLower when it is)')
  return heavyBallBound(c, t, dist0, lower.params)
}

/**
 * The a priori bound after t lower steps and k linear steps (docs eq. (R13)): ε from the lower
 * solver's rate, ‖r₀‖ ≤ L‖p₀‖ + ‖∇₁E(w*)‖ + L_f ε, the residual (and for CG the adjoint error)
 * from the linear solver's rate, then `aPrioriBound`.
 */
export const aPrioriBoundAfter = (c: ErConstants, run: ErRun): E.Either<HypergradError, number> => {
  const eps = lowerErrorAPriori(c, run.lower, run.t, run.dist0)
  if (E.isLeft(eps)) return eps
  const p0 = nonNeg('p0Norm', run.p0Norm)
  if (E.isLeft(p0)) return p0
  const r0 = c.L * p0.right + c.gradUpperNormStar + c.Lf * eps.right
  const lin = run.linear
  const residual =
    lin.kind === 'gd' ? gdBound(c, run.k, r0, lin.step) : lin.kind === 'heavyBall' ? heavyBallBound(c, run.k, r0, lin.params) : cgResidualBound(c, run.k, r0)
  if (E.isLeft(residual)) return residual
  const adjoint = lin.kind === 'cg' ? cgAdjointErrorBound(c, run.k, r0) : E.right(residual.right / c.tau)
  if (E.isLeft(adjoint)) return adjoint
  return aPrioriBound({ ...c, lowerError: eps.right, residualBound: residual.right, adjointError: adjoint.right })
}
