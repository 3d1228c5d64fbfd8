/**
 * A scalar bilevel problem (d = m = 1) whose every constant of the deterministic bounds is exact
 * and whose every sign can be chosen, built with the public `ermProblem` from a hand-written lower
 * and upper objective. It is the family on which the a priori and a posteriori bounds of
 * src/bounds are nearly attained (properties/boundTightness.test.ts, docs/theory/deterministic.md
 * §10). At the one hyperparameter λ₀ = 0, with e = w − w* (w* = 0):
 *
 *   Φ(w) = w − α∇ℓ(w) = w* + ∫₀ᵉ a(s) ds,   a(s) = ∂₁Φ = q − ν₁·min(|s|, R),  R = 2q/ν₁,
 *   ∂₂Φ(w) = b(w) = b* + β₂e                (−α∇²_{wλ}ℓ),
 *   ∇₁E(w) = g(w) = g* + γ₁e,  ∇₂E(w) = h(w) = η₂e.
 *
 * So ‖∂₁Φ‖ ≤ q with equality at w* (the kink), ν₁ = Lip(a), ν₂ = |β₂|, μ₁ = |γ₁|, μ₂ = |η₂|,
 * L_Φ = |b*|, ‖∇₁E(w*)‖ = |g*|, and ∇f = h(w*) + b*·g* / (1 − q) = b*·g* / (1 − q). For the Ehrhardt &
 * Roberts bounds: ∇²ℓ = A(w) = (1 − a(w))/α ∈ [τ, L] = [(1 − q)/α, (1 + q)/α], B(w) = −b(w)/α,
 * L_H = ν₁/α, L_B = ν₂/α, L_f = μ₁.
 *
 * The lower objective is ℓ(w, λ) = V(e)/α − λ(b*e + β₂e²/2)/α with V'' = 1 − a, and E(w, λ) =
 * g*e + γ₁e²/2 + λη₂e; only λ = λ₀ = 0 is accepted (the constants are those at λ₀).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, orThrow } from '../src/errors.js'
import type { RVec, Vec } from '../src/linalg/types.js'
import { ermProblem, type ErmProblem, type LowerObjective, type UpperObjective } from '../src/problem/erm.js'
import type { APosterioriInputs, ErConstants } from '../src/bounds/ehrhardtRoberts.js'
import type { GrazziConstants } from '../src/bounds/grazzi2020.js'

/** The signed parameters of the family (see the module comment). */
export interface ScalarSpec {
  /** ∂₁Φ(w*) = q ∈ (0, 1). */
  readonly q: number
  /** Lipschitz constant of ∂₁Φ (> 0: the kink at w*). */
  readonly nu1: number
  /** b* = ∂₂Φ(w*) and its slope β₂. */
  readonly b: number
  readonly beta2: number
  /** g* = ∇₁E(w*) and its slope γ₁. */
  readonly g: number
  readonly gamma1: number
  /** The slope η₂ of ∇₂E. */
  readonly eta2: number
  /** The step α of Φ = w − α∇ℓ (any α > 0: the map is given, ℓ scales with 1/α). */
  readonly alpha: number
}

/** ∫₀ᵘ a(s) ds for u ≥ 0 (a = q − ν₁ min(s, R)). */
const integralA = (s: ScalarSpec, u: number): number => {
  if (s.nu1 === 0) return s.q * u
  const R = (2 * s.q) / s.nu1
  const m = Math.min(u, R)
  return s.q * u - s.nu1 * (0.5 * m * m + R * Math.max(u - R, 0))
}

/** ∫₀ᵘ ∫₀ʳ a(s) ds dr for u ≥ 0. */
const doubleIntegralA = (s: ScalarSpec, u: number): number => {
  if (s.nu1 === 0) return 0.5 * s.q * u * u
  const R = (2 * s.q) / s.nu1
  const m = Math.min(u, R)
  const over = Math.max(u - R, 0)
  return 0.5 * s.q * u * u - s.nu1 * (m * m * m / 6 + 0.5 * R * R * over + 0.5 * R * over * over)
}

const one = (x: number): Vec => Float64Array.of(x)

/** a(w) = ∂₁Φ(w) at e = w − w*. */
export const jacobianAt = (s: ScalarSpec, e: number): number => (s.nu1 === 0 ? s.q : s.q - s.nu1 * Math.min(Math.abs(e), (2 * s.q) / s.nu1))

/** The problem of the family, as an `ErmProblem` (only λ = [0] is accepted). */
export const scalarProblem = (s: ScalarSpec): ErmProblem => {
  const checkLambda = (lambda: RVec) =>
    lambda.length === 1 && lambda[0] === 0 ? E.right(Float64Array.from(lambda)) : E.left(hgError('domain', `scalar bilevel: only λ = [0] is defined, got [${Array.from(lambda)}]`))
  const lower: LowerObjective = {
    name: 'scalar bilevel',
    dim: 1,
    hyperDim: 1,
    nSamples: 1,
    separable: true,
    checkLambda,
    value: (w, lambda) => {
      const e = w[0]!
      return (0.5 * e * e - doubleIntegralA(s, Math.abs(e))) / s.alpha - (lambda[0]! * (s.b * e + 0.5 * s.beta2 * e * e)) / s.alpha
    },
    grad: (w, lambda) => {
      const e = w[0]!
      return one((e - Math.sign(e) * integralA(s, Math.abs(e)) - lambda[0]! * (s.b + s.beta2 * e)) / s.alpha)
    },
    hvp: (w, lambda, u) => one(((1 - jacobianAt(s, w[0]!) - lambda[0]! * s.beta2) * u[0]!) / s.alpha),
    crossJvp: (w, _lambda, mu) => one((-(s.b + s.beta2 * w[0]!) * mu[0]!) / s.alpha),
    crossVjp: (w, _lambda, v) => one((-(s.b + s.beta2 * w[0]!) * v[0]!) / s.alpha),
    curvature: () => ({ tau: (1 - s.q) / s.alpha, L: (1 + s.q) / s.alpha }),
  }
  const upper: UpperObjective = {
    value: (w, lambda) => s.g * w[0]! + 0.5 * s.gamma1 * w[0]! * w[0]! + lambda[0]! * s.eta2 * w[0]!,
    gradW: (w, lambda) => one(s.g + s.gamma1 * w[0]! + lambda[0]! * s.eta2),
    gradLambda: (w) => one(s.eta2 * w[0]!),
  }
  return orThrow(ermProblem(lower, upper, { alpha: s.alpha, name: 'scalar bilevel' }))
}

/** ∇f(λ₀) = b*·g* / (1 − q). */
export const scalarHypergradient = (s: ScalarSpec): number => (s.b * s.g) / (1 - s.q)

/** v(w) = g(w)/(1 − a(w)), the solution of the linear system at w. */
export const scalarAdjoint = (s: ScalarSpec, w: number): number => (s.g + s.gamma1 * w) / (1 - jacobianAt(s, w))

/** The exact constants of the Grazzi et al. 2020 bounds, with D = |w₀ − w*| and κ = 1 (a 1 × 1 system). */
export const scalarGrazziConstants = (s: ScalarSpec, w0: number): GrazziConstants => ({
  q: s.q,
  nu1: s.nu1,
  nu2: Math.abs(s.beta2),
  mu1: Math.abs(s.gamma1),
  mu2: Math.abs(s.eta2),
  gradUpperNormStar: Math.abs(s.g),
  LPhi: Math.abs(s.b),
  D: Math.abs(w0),
  kappa: 1,
})

/** The exact constants of the Ehrhardt & Roberts bounds. */
export const scalarErConstants = (s: ScalarSpec): ErConstants => ({
  tau: (1 - s.q) / s.alpha,
  L: (1 + s.q) / s.alpha,
  LB: Math.abs(s.beta2) / s.alpha,
  Lf: Math.abs(s.gamma1),
  LH: s.nu1 / s.alpha,
  mu2: Math.abs(s.eta2),
  BNormStar: Math.abs(s.b) / s.alpha,
  gradUpperNormStar: Math.abs(s.g),
  quadraticLower: false,
})

/**
 * The inputs of the a posteriori bound at an AID output (w, v), read off the problem's own
 * products as `aPosterioriInputsAt` does, with the family's exact Lipschitz constants.
 */
export const scalarAPosterioriInputs = (s: ScalarSpec, problem: ErmProblem, w: RVec, v: RVec): APosterioriInputs => {
  const lambda = Float64Array.of(0)
  const g = problem.gradUpperW(w, lambda)[0]!
  const ec = scalarErConstants(s)
  return {
    gradLowerNorm: Math.abs(problem.lower.grad(w, lambda)[0]!),
    residualNorm: Math.abs(v[0]! - problem.vjpW(w, lambda, v)[0]! - g),
    BNorm: Math.abs(problem.lower.crossJvp(w, lambda, Float64Array.of(1))[0]!),
    gradUpperNorm: Math.abs(g),
    tau: ec.tau,
    LB: ec.LB,
    Lf: ec.Lf,
    LH: ec.LH!,
    mu2: ec.mu2!,
  }
}
