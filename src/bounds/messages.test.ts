/**
 * Every refusal of src/bounds is a one-line error that names the module, the value and the
 * condition it breaks (a Left of kind 'domain', 'schedule' or 'dimension'; a RangeError only from
 * the internal kernels), and every boundary of a condition falls on the documented side.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow, type HypergradError } from '../errors.js'
import { quadraticProblem } from '../problems/quadratic.js'
import { ermProblem, type LowerObjective } from '../problem/erm.js'
import { logisticProblem } from '../problems/logistic.js'
import { matrix } from '../linalg/types.js'
import {
  aPosterioriInputsAt,
  certifiedSolution,
  crossHessianNorm,
  dataCleaningCrossLipschitz,
  erConstantsFor,
  grazziConstantsFor,
  lipschitzConstants,
  logisticHessianLipschitz,
  meanSquaredLabelledNorm,
  remark42Sigma1pFor,
} from './constants.js'
import * as ER from './ehrhardtRoberts.js'
import * as G from './grazzi2020.js'
import * as S from './sid.js'
import * as V from './variance.js'
import * as R from '../random/rng.js'

const failure = <A>(e: E.Either<HypergradError, A>): HypergradError => (E.isLeft(e) ? e.left : expect.fail(`expected a Left, got ${JSON.stringify(e.right)}`))
/** The message, prefixed by the kind when it is not 'domain': `[schedule] SID Thm 4.1: …`. */
const message = <A>(e: E.Either<HypergradError, A>): string => {
  const f = failure(e)
  return f.kind === 'domain' ? f.message : `[${f.kind}] ${f.message}`
}
const kind = <A>(e: E.Either<HypergradError, A>): string => failure(e).kind

describe('grazzi2020: messages and boundaries', () => {
  const c: G.GrazziConstants = { q: 0.5, nu1: 1, nu2: 1, mu1: 1, mu2: 1, gradUpperNormStar: 1, LPhi: 1, D: 1 }
  it('names q, each constant, κ, the step counts and the errors', () => {
    expect(message(G.checkGrazziConstants({ ...c, q: 1 }))).toBe('grazzi2020: the contraction constant q must lie in [0, 1), got 1')
    expect(message(G.checkGrazziConstants({ ...c, q: -0.5 }))).toBe('grazzi2020: the contraction constant q must lie in [0, 1), got -0.5')
    expect(message(G.checkGrazziConstants({ ...c, q: Infinity }))).toBe('grazzi2020: the contraction constant q must lie in [0, 1), got Infinity')
    for (const key of ['nu1', 'nu2', 'mu1', 'mu2', 'gradUpperNormStar', 'LPhi', 'D'] as const) {
      expect(message(G.checkGrazziConstants({ ...c, [key]: -2 }))).toBe(`grazzi2020: ${key} must be a finite number ≥ 0, got -2`)
      expect(message(G.checkGrazziConstants({ ...c, [key]: Infinity }))).toBe(`grazzi2020: ${key} must be a finite number ≥ 0, got Infinity`)
    }
    expect(message(G.checkGrazziConstants({ ...c, kappa: 0.5 }))).toBe('grazzi2020: the condition number κ must be finite and ≥ 1, got 0.5')
    expect(message(G.checkGrazziConstants({ ...c, kappa: Infinity }))).toBe('grazzi2020: the condition number κ must be finite and ≥ 1, got Infinity')
    expect(message(G.itdReverseBound(c, 1.5))).toBe('grazzi2020: t must be a non-negative integer, got 1.5')
    expect(message(G.fixedPointLowerError(c, -1))).toBe('grazzi2020: t must be a non-negative integer, got -1')
    expect(message(G.fixedPointLinearError(c, 2.5, 0))).toBe('grazzi2020: k must be a non-negative integer, got 2.5')
    expect(message(G.cgLinearError(c, -2, 0))).toBe('grazzi2020: k must be a non-negative integer, got -2')
    expect(message(G.fixedPointLinearError(c, 2, -1))).toBe('grazzi2020: lowerError must be a finite number ≥ 0, got -1')
    expect(message(G.cgLinearError(c, 2, 0, Infinity))).toBe('grazzi2020: v0Norm must be a finite number ≥ 0, got Infinity')
    expect(message(G.aidBound(c, { lowerError: 0, linearError: -3 }))).toBe('grazzi2020: linearError must be a finite number ≥ 0, got -3')
    expect(message(G.aidFixedPointBound(c, 0, 0, { v0Norm: -1 }))).toBe('grazzi2020: v0Norm must be a finite number ≥ 0, got -1')
    expect(message(G.aidConjugateGradientBound(c, 0, 0.5))).toBe('grazzi2020: k must be a non-negative integer, got 0.5')
  })
  it('accepts the boundary values: q = 0, zero constants, κ = 1, t = k = 0', () => {
    const zero: G.GrazziConstants = { q: 0, nu1: 0, nu2: 0, mu1: 0, mu2: 0, gradUpperNormStar: 0, LPhi: 0, D: 0, kappa: 1 }
    expect(orThrow(G.checkGrazziConstants(zero))).toEqual(zero)
    expect(orThrow(G.itdReverseBound(zero, 0))).toBe(0)
    expect(orThrow(G.aidFixedPointBound(zero, 0, 0))).toBe(0)
    expect(orThrow(G.aidConjugateGradientBound(zero, 0, 0))).toBe(0)
    expect(orThrow(G.aidBound(zero, { lowerError: 0, linearError: 0 }))).toBe(0)
  })
})

describe('ehrhardtRoberts: messages and boundaries', () => {
  const post: ER.APosterioriInputs = { gradLowerNorm: 1, residualNorm: 1, BNorm: 1, gradUpperNorm: 1, tau: 1, LB: 1, Lf: 1 }
  const consts: ER.ErConstants = { tau: 1, L: 4, LB: 1, Lf: 1, BNormStar: 1, gradUpperNormStar: 1 }
  it('names τ, L, each input, the step counts, the step and the momentum', () => {
    expect(message(ER.aPosterioriBound({ ...post, tau: 0 }))).toBe('ehrhardtRoberts: the strong convexity τ must be positive and finite, got 0')
    expect(message(ER.aPosterioriBound({ ...post, tau: Infinity }))).toBe('ehrhardtRoberts: the strong convexity τ must be positive and finite, got Infinity')
    for (const key of ['gradLowerNorm', 'residualNorm', 'BNorm', 'gradUpperNorm', 'LB', 'Lf', 'LH', 'mu2'] as const)
      expect(message(ER.aPosterioriBound({ ...post, [key]: -1 }))).toBe(`ehrhardtRoberts: ${key} must be a finite number ≥ 0, got -1`)
    for (const key of ['lowerError', 'residualBound', 'adjointError', 'BNormStar', 'gradUpperNormStar'] as const)
      expect(message(ER.aPrioriBound({ ...consts, lowerError: 0, residualBound: 0, [key]: Infinity }))).toBe(`ehrhardtRoberts: ${key} must be a finite number ≥ 0, got Infinity`)
    expect(message(ER.gdRate({ tau: 2, L: 1 }))).toBe('ehrhardtRoberts: the smoothness L must be finite and ≥ τ = 2, got 1')
    expect(message(ER.gdRate({ tau: 1, L: Infinity }))).toBe('ehrhardtRoberts: the smoothness L must be finite and ≥ τ = 1, got Infinity')
    expect(message(ER.gdRate({ tau: 1, L: 2 }, 1))).toBe('ehrhardtRoberts: gradient descent with step 1 does not contract (q = 1); need 0 < s < 2/L = 1')
    expect(message(ER.gdRate({ tau: 1, L: 2 }, 0))).toBe('ehrhardtRoberts: gradient descent with step 0 does not contract (q = 1); need 0 < s < 2/L = 1')
    expect(message(ER.gdBound({ tau: 1, L: 2 }, 1.5, 1))).toBe('ehrhardtRoberts: k must be a non-negative integer, got 1.5')
    expect(message(ER.gdBound({ tau: 1, L: 2 }, 1, -1))).toBe('ehrhardtRoberts: initial must be a finite number ≥ 0, got -1')
    expect(message(ER.heavyBallRate({ tau: 1, L: 4 }, { step: 0, momentum: 0.5 }))).toBe('ehrhardtRoberts: heavy ball needs a step > 0 and a momentum in [0, 1), got step 0, momentum 0.5')
    expect(message(ER.heavyBallRate({ tau: 1, L: 4 }, { step: 0.1, momentum: 1 }))).toBe('ehrhardtRoberts: heavy ball needs a step > 0 and a momentum in [0, 1), got step 0.1, momentum 1')
    expect(message(ER.heavyBallRate({ tau: 1, L: 4 }, { step: 0.1, momentum: -0.5 }))).toBe('ehrhardtRoberts: heavy ball needs a step > 0 and a momentum in [0, 1), got step 0.1, momentum -0.5')
    expect(message(ER.heavyBallRate({ tau: 1, L: 4 }, { step: Infinity, momentum: 0 }))).toBe('ehrhardtRoberts: heavy ball needs a step > 0 and a momentum in [0, 1), got step Infinity, momentum 0')
    expect(message(ER.heavyBallRate({ tau: 1, L: 4 }, { step: 1, momentum: 0 }))).toBe('ehrhardtRoberts: heavy ball with step 1, momentum 0 does not converge (ρ = 3)')
    expect(message(ER.heavyBallBound({ tau: 1, L: 4 }, -1, 1))).toBe('ehrhardtRoberts: k must be a non-negative integer, got -1')
    expect(message(ER.cgResidualBound({ tau: 1, L: 4 }, 1, -2))).toBe('ehrhardtRoberts: r0 must be a finite number ≥ 0, got -2')
    expect(message(ER.cgAdjointErrorBound({ tau: 1, L: 0.5 }, 1, 1))).toBe('ehrhardtRoberts: the smoothness L must be finite and ≥ τ = 1, got 0.5')
    expect(message(ER.lowerErrorAPosteriori(-1, 1))).toBe('ehrhardtRoberts: gradLowerNorm must be a finite number ≥ 0, got -1')
    const run = { t: 1, k: 1, lower: { kind: 'heavyBall' } as const, linear: { kind: 'cg' } as const, dist0: 1 }
    expect(message(ER.aPrioriBoundAfter(consts, run))).toBe('ehrhardtRoberts: the heavy-ball lower-level bound holds for quadratic ℓ only (set quadraticLower when it is)')
    expect(message(ER.aPrioriBoundAfter(consts, { ...run, lower: { kind: 'gd' }, p0Norm: -1 }))).toBe('ehrhardtRoberts: p0Norm must be a finite number ≥ 0, got -1')
    expect(message(ER.aPrioriBoundAfter(consts, { ...run, lower: { kind: 'gd' }, linear: { kind: 'gd', step: 1 } }))).toMatch(/^ehrhardtRoberts: gradient descent with step 1 does not contract/)
    expect(message(ER.aPrioriBoundAfter(consts, { ...run, lower: { kind: 'gd' }, linear: { kind: 'heavyBall', params: { step: 1, momentum: 0 } } }))).toMatch(/^ehrhardtRoberts: heavy ball with step 1/)
    expect(message(ER.aPrioriBoundAfter({ ...consts, L: 0.5 }, { ...run, lower: { kind: 'gd' } }))).toMatch(/^ehrhardtRoberts: the smoothness L/)
  })
  it('accepts τ = L, zero errors, k = 0, and a missing L_H, μ₂ (= 0)', () => {
    expect(orThrow(ER.gdRate({ tau: 2, L: 2 }))).toBe(0)
    expect(orThrow(ER.gdBound({ tau: 2, L: 2 }, 0, 3))).toBe(3)
    expect(orThrow(ER.aPosterioriBound({ ...post, gradLowerNorm: 0, residualNorm: 0 }))).toBe(0)
    expect(orThrow(ER.aPosterioriBound(post))).toBe(orThrow(ER.aPosterioriBound({ ...post, LH: 0, mu2: 0 })))
    expect(orThrow(ER.heavyBallRate({ tau: 1, L: 4 }, { step: 0.1, momentum: 0 }))).toBeCloseTo(0.9, 14)
  })
})

describe('sid: messages and boundaries', () => {
  it('names the theorem, the constant and the violated condition', () => {
    const d = { q: 0.5, sigma1: 1, sigma2: 1, mse0: 1, t: 1 }
    expect(message(S.thm41MseBound({ ...d, eta: 0.5, q: 1 }))).toBe('SID Thm 4.1: contraction constant q must lie in [0, 1), got 1')
    expect(message(S.thm41MseBound({ ...d, eta: 0.5, sigma1: -1 }))).toBe('SID Thm 4.1: σ₁ must be a finite number ≥ 0, got -1')
    expect(message(S.thm41MseBound({ ...d, eta: 0.5, sigma2: Infinity }))).toBe('SID Thm 4.1: σ₂ must be a finite number ≥ 0, got Infinity')
    expect(message(S.thm41MseBound({ ...d, eta: 0 }))).toBe('SID Thm 4.1: η must be a finite number > 0, got 0')
    expect(message(S.thm41MseBound({ ...d, eta: 0.75 }))).toBe('[schedule] SID Thm 4.1: step η = 0.75 exceeds 1/(1+σ₂) = 0.5 (condition η ≤ 1/(1+σ₂))')
    expect(kind(S.thm41MseBound({ ...d, eta: 0.75 }))).toBe('schedule')
    expect(message(S.thm41MseBound({ ...d, eta: 0.5, mse0: -1 }))).toBe('SID Thm 4.1: MSE₀ must be a finite number ≥ 0, got -1')
    expect(message(S.thm41MseBound({ ...d, eta: 0.5, t: 0.5 }))).toBe('SID Thm 4.1: t must be an integer ≥ 0, got 0.5')
    expect(message(S.thm41Plateau({ q: 0.5, sigma1: 1, sigma2: 1, eta: 0.75 }))).toBe('[schedule] SID Thm 4.1 (limit): step η = 0.75 exceeds 1/(1+σ₂) = 0.5 (condition η ≤ 1/(1+σ₂))')
    const g = { ...d, beta: 2, gamma: 4 }
    expect(message(S.thm42MseBound({ ...g, beta: 1 }))).toBe('[schedule] SID Thm 4.2: β = 1 must exceed 1/(1−q²) = 1.3333333333333333 (condition β > 1/(1−q²))')
    expect(message(S.thm42MseBound({ ...g, gamma: 3 }))).toBe('[schedule] SID Thm 4.2: γ = 3 must be ≥ β(1+σ₂) = 4 (condition γ ≥ β(1+σ₂))')
    expect(message(S.thm42MseBound({ ...g, beta: -1 }))).toBe('SID Thm 4.2: β must be a finite number > 0, got -1')
    expect(message(S.thm42MseBound({ ...g, gamma: 0 }))).toBe('SID Thm 4.2: γ must be a finite number > 0, got 0')
    const cor = { alphaChoice: '1/L' as const, tau: 1, L: 2, sigma1p: 1, sigma2p: 0, mse0: 1, t: 1 }
    expect(message(S.cor41Bound({ ...cor, eta: 1, tau: 3 }))).toBe('SID Cor 4.1: strong convexity τ = 3 exceeds smoothness L = 2')
    expect(message(S.cor41Bound({ ...cor, eta: 1, tau: 0 }))).toBe('SID Cor 4.1: τ must be a finite number > 0, got 0')
    expect(message(S.cor41Bound({ ...cor, eta: 1, L: Infinity }))).toBe('SID Cor 4.1: L must be a finite number > 0, got Infinity')
    expect(message(S.cor41Bound({ ...cor, eta: 1, sigma1p: -1 }))).toBe("SID Cor 4.1: σ₁' must be a finite number ≥ 0, got -1")
    expect(message(S.cor41Bound({ ...cor, eta: 1, sigma2p: -1 }))).toBe("SID Cor 4.1: σ₂' must be a finite number ≥ 0, got -1")
    expect(message(S.cor41Bound({ ...cor, eta: 1, alphaChoice: '1/tau' as '1/L' }))).toBe("SID Cor 4.1: alphaChoice must be '1/L' or '2/(L+tau)', got 1/tau")
    expect(message(S.cor41Bound({ ...cor, eta: 0.75, sigma2p: 1 }))).toBe("[schedule] SID Cor 4.1: step η = 0.75 exceeds 1/(1+σ₂') = 0.5 (condition η ≤ 1/(1+σ₂'))")
    expect(message(S.cor41Bound({ ...cor, beta: 1, gamma: 2 }))).toBe('[schedule] SID Cor 4.1: β = 1 must exceed 1.3333333333333333 (condition (23) for α = 1/L)')
    expect(message(S.cor41Bound({ ...cor, beta: 2, gamma: 1 }))).toBe("[schedule] SID Cor 4.1: γ = 1 must be ≥ β(1+σ₂') = 2")
    expect(message(S.cor41Bound({ ...cor, sigma2p: 1, beta: 2, gamma: 3 }))).toBe("[schedule] SID Cor 4.1: γ = 3 must be ≥ β(1+σ₂') = 4")
    expect(message(S.cor41Bound({ ...cor, beta: 0, gamma: 1 }))).toBe('SID Cor 4.1: β must be a finite number > 0, got 0')
    expect(message(S.thm43Sigmas({ varianceAtFixedPoint: 1, LThat: -1, q: 0.5 }))).toBe('SID Thm 4.3: L_T̂ must be a finite number ≥ 0, got -1')
    expect(message(S.thm43Sigmas({ varianceAtFixedPoint: -1, LThat: 1, q: 0.5 }))).toBe('SID Thm 4.3: V[T̂(w*)] must be a finite number ≥ 0, got -1')
    const t51 = { q: 0.5, LPhiHat: 0.5, beta: 2, gamma: 100, wNorm: 1, sigma1: 1, gradUpperNorm: 1 }
    expect(message(S.thm51Rates({ ...t51, wNorm: -1 }))).toBe('SID Thm 5.1: ‖w(λ)‖ must be a finite number ≥ 0, got -1')
    expect(message(S.thm51Rates({ ...t51, gradUpperNorm: -1 }))).toBe('SID Thm 5.1: ‖∇₁E‖ must be a finite number ≥ 0, got -1')
    expect(message(S.thm51Rates({ ...t51, LPhiHat: Infinity }))).toBe('SID Thm 5.1: L_Φ̂ must be a finite number ≥ 0, got Infinity')
    expect(message(S.thm51Rates({ ...t51, q: 1 }))).toBe('SID Thm 5.1: contraction constant q must lie in [0, 1), got 1')
    expect(message(S.thm51Rates({ ...t51, gamma: 2 }))).toBe('[schedule] SID Thm 5.1: γ = 2 must be ≥ β(1+σ₂) = 10 (condition γ ≥ β(1+σ₂))')
    const c1 = { mu1: 1, mu2: 1, nu1: 1, nu2: 1, LPhi: 1, LE: 1, q: 0.5 }
    for (const [key, name] of [['mu1', 'μ₁'], ['mu2', 'μ₂'], ['nu1', 'ν₁'], ['nu2', 'ν₂'], ['LPhi', 'L_Φ'], ['LE', 'L_E']] as const)
      expect(message(S.thm31C1({ ...c1, [key]: -1 }))).toBe(`SID Thm 3.1 (c₁): ${name} must be a finite number ≥ 0, got -1`)
    const rates = { rho: 1, sigma: 1, LPhi: 1, nu2: 1 }
    expect(message(S.thm31Bias({ ...rates, ...c1, mu1: -1 }))).toBe('SID Thm 3.1: SID Thm 3.1 (c₁): μ₁ must be a finite number ≥ 0, got -1')
    expect(message(S.thm31Bias({ ...rates, c1: -1 }))).toBe('SID Thm 3.1: c₁ must be a finite number ≥ 0, got -1')
    expect(message(S.thm31Bias({ ...rates, c1: 1, rho: -1 }))).toBe('SID Thm 3.1: ρ(t) must be a finite number ≥ 0, got -1')
    expect(message(S.thm33({ ...rates, c1: 1, sigma: -1 }))).toBe('SID Thm 3.3: σ(k) must be a finite number ≥ 0, got -1')
    expect(message(S.thm32({ ...rates, m2: -1, LE: 1, q: 0.5 }))).toBe('SID Thm 3.2: m₂ must be a finite number ≥ 0, got -1')
    expect(message(S.thm34MseBound({ ...rates, m2: 1, LE: -1, q: 0.5, c1: 1 }))).toBe('SID Thm 3.4: L_E must be a finite number ≥ 0, got -1')
    expect(message(S.thm34MseBound({ ...rates, m2: 1, LE: 1, q: 0.5, mu1: 1, mu2: -1, nu1: 1 }))).toBe('SID Thm 3.4: SID Thm 3.1 (c₁): μ₂ must be a finite number ≥ 0, got -1')
    expect(message(S.mseFloor({ m2: 1, LE: 1, q: 1 }))).toBe('SID eq. (14): contraction constant q must lie in [0, 1), got 1')
    expect(message(S.thm32({ ...rates, LPhi: -1, m2: 1, LE: 1, q: 0.5 }))).toBe('SID Thm 3.2: L_Φ must be a finite number ≥ 0, got -1')
    expect(message(S.thm32({ ...rates, nu2: -1, m2: 1, LE: 1, q: 0.5 }))).toBe('SID Thm 3.2: ν₂ must be a finite number ≥ 0, got -1')
  })
  it('accepts the boundary cases: η = 1/(1+σ₂) computed in floating point, γ = β(1+σ₂), q = 0, t = 0', () => {
    for (const sigma2 of [0.1, 0.3, 1 / 3, 7]) {
      const eta = 1 / (1 + sigma2)
      expect(E.isRight(S.thm41MseBound({ q: 0, sigma1: 1, sigma2, eta, mse0: 1, t: 0 }))).toBe(true)
      expect(E.isRight(S.thm42MseBound({ q: 0, sigma1: 1, sigma2, beta: 1.5, gamma: 1.5 * (1 + sigma2), mse0: 1, t: 0 }))).toBe(true)
      expect(E.isRight(S.cor41Bound({ alphaChoice: '2/(L+tau)', tau: 1, L: 3, sigma1p: 1, sigma2p: sigma2, eta, mse0: 1, t: 0 }))).toBe(true)
    }
    // 1e-12 relative slack: just above the cap is refused.
    expect(kind(S.thm41MseBound({ q: 0, sigma1: 1, sigma2: 1, eta: 0.5 * (1 + 1e-9), mse0: 1, t: 0 }))).toBe('schedule')
    expect(kind(S.thm42MseBound({ q: 0, sigma1: 1, sigma2: 1, beta: 1.5, gamma: 3 * (1 - 1e-9), mse0: 1, t: 0 }))).toBe('schedule')
    expect(kind(S.thm42MseBound({ q: 0.5, sigma1: 1, sigma2: 0, beta: 4 / 3, gamma: 2, mse0: 1, t: 0 }))).toBe('schedule')
    expect(orThrow(S.thm41MseBound({ q: 0.5, sigma1: 1, sigma2: 0, eta: 1, mse0: 3, t: 0 }))).toBe(3)
  })
})

describe('variance: messages', () => {
  const P = orThrow(quadraticProblem({ dim: 2, hyperDim: 1, nSamples: 3, seed: 1, tau: 1, L: 2 }))
  const lam = Float64Array.of(0.5)
  const w = Float64Array.of(0.1, -0.2)
  const rng = R.seed(3)
  it('names the function, the size and the value', () => {
    expect(() => V.batchVarianceFactor(0, 1, true)).toThrow('batchVarianceFactor: n must be a positive integer, got 0')
    expect(() => V.batchVarianceFactor(2.5, 1, true)).toThrow('batchVarianceFactor: n must be a positive integer, got 2.5')
    expect(() => V.batchVarianceFactor(3, 0, true)).toThrow('batchVarianceFactor: b must be a positive integer, got 0')
    expect(() => V.batchVarianceFactor(3, 1.5, false)).toThrow('batchVarianceFactor: b must be a positive integer, got 1.5')
    expect(() => V.batchVarianceFactor(3, 4, false)).toThrow('batchVarianceFactor: batch size 4 exceeds the 3 samples (without replacement)')
    expect(V.batchVarianceFactor(3, 4, true)).toBe(0.25)
    expect(V.batchVarianceFactor(1, 1, false)).toBe(0)
    expect(() => V.batchMeanVariance([Float64Array.of(1, 2), Float64Array.of(1)], 1, true)).toThrow('batchMeanVariance: samples have lengths 2 and 1')
    expect(message(V.varianceOfMap(P, Float64Array.of(1), lam, 1, true))).toBe('[dimension] varianceOfMap: w has length 1, the problem has dim 2')
    expect(kind(V.varianceOfMap(P, Float64Array.of(1), lam, 1, true))).toBe('dimension')
    expect(message(V.varianceOfMap(P, w, lam, 4, false))).toBe('varianceOfMap: batch size 4 is invalid for 3 samples (replace: false)')
    expect(message(V.varianceOfMap(P, w, lam, 0, true))).toBe('varianceOfMap: batch size 0 is invalid for 3 samples (replace: true)')
    expect(message(V.m2At(P, Float64Array.of(0, Number.NaN), lam, 1, true))).toBe('m2At: w has a non-finite entry at 1')
    expect(message(V.varianceOfJacobianTProduct(P, w, lam, Float64Array.of(1), 1, true))).toBe('[dimension] varianceOfJacobianTProduct: v has length 1, the problem has dim 2')
    expect(message(V.varianceOfJacobianTProduct(P, w, lam, Float64Array.of(Number.NaN, 1), 1, true))).toBe('varianceOfJacobianTProduct: ∂₁Φ̂ᵀv of sample 0 is not finite')
    expect(message(V.m2Sup(P, lam, [], 1, true))).toBe('m2Sup: no points given')
    expect(message(V.m2Sup(P, lam, [w, Float64Array.of(1)], 1, true))).toBe('[dimension] m2At: w has length 1, the problem has dim 2')
    expect(message(V.perSampleJacobianNorm(P, Float64Array.of(Infinity, 0), lam))).toBe('perSampleJacobianNorm: w has a non-finite entry at 0')
    expect(message(V.sigma2Empirical(P, lam, -1, [w], 1, true))).toBe('sigma2Empirical: σ₁ must be ≥ 0, got -1')
    expect(message(V.sigma2Empirical(P, lam, 0, [Float64Array.of(1)], 1, true))).toBe('[dimension] varianceOfMap: w has length 1, the problem has dim 2')
    expect(() => V.normalQuantile(0)).toThrow('normalQuantile: p must lie in (0, 1), got 0')
    expect(() => V.normalQuantile(1)).toThrow('normalQuantile: p must lie in (0, 1), got 1')
    expect(message(V.meanConfidenceInterval([1, 2], { confidence: 1 }))).toBe('meanConfidenceInterval: confidence must lie in (0, 1), got 1')
    expect(message(V.meanConfidenceInterval([1, 2], { confidence: 0 }))).toBe('meanConfidenceInterval: confidence must lie in (0, 1), got 0')
    expect(message(V.meanConfidenceInterval([1]))).toBe('meanConfidenceInterval: needs at least 2 draws, got 1')
    expect(message(V.meanConfidenceInterval([1, Infinity]))).toBe('meanConfidenceInterval: draw 1 is not finite (Infinity)')
    expect(message(V.monteCarloVariance((r) => [Float64Array.of(1), r], rng, { pairs: 1 }))).toBe('monteCarloVariance: pairs must be an integer ≥ 2, got 1')
    expect(message(V.monteCarloVariance((r) => [Float64Array.of(1), r], rng, { pairs: 2.5 }))).toBe('monteCarloVariance: pairs must be an integer ≥ 2, got 2.5')
    let flip = false
    expect(() => V.monteCarloVariance((r) => ((flip = !flip), [flip ? Float64Array.of(1) : Float64Array.of(1, 2), r]), rng, { pairs: 2 })).toThrow(
      'monteCarloVariance: draws have lengths 1 and 2',
    )
    expect(message(V.varianceOfMapMonteCarlo(P, w, lam, 9, false, rng, { pairs: 2 }))).toBe('varianceOfMapMonteCarlo: batch size 9 is invalid for 3 samples (replace: false)')
    expect(message(V.m2MonteCarlo(P, Float64Array.of(1), lam, 1, true, rng, { pairs: 2 }))).toBe('[dimension] m2MonteCarlo: w has length 1, the problem has dim 2')
  })
})

describe('constants: messages', () => {
  it('names the problem', () => {
    const plain = { name: 'plain', dim: 1, hyperDim: 1, checkLambda: (l: Float64Array) => E.right(l) }
    expect(message(lipschitzConstants(plain as never, Float64Array.of(0)))).toBe('bounds/constants: no known Lipschitz constants for problem plain; supply them by hand')
    const diverging = {
      ...plain,
      name: 'explodes',
      checkLambda: (l: Float64Array) => E.right(l),
      contraction: () => 0.5,
      phi: (x: Float64Array) => x.map((v) => 2 * v + 1e300),
    }
    expect(message(certifiedSolution(diverging as never, Float64Array.of(0), { maxIter: 10 }))).toBe('[divergence] certifiedSolution(explodes): the iteration left the finite numbers')
    expect(kind(certifiedSolution(diverging as never, Float64Array.of(0), { maxIter: 10 }))).toBe('divergence')
  })
})

describe('the remaining refusals', () => {
  it('grazzi2020 and ehrhardtRoberts: the error and step arguments', () => {
    const c: G.GrazziConstants = { q: 0.5, nu1: 1, nu2: 1, mu1: 1, mu2: 1, gradUpperNormStar: 1, LPhi: 1, D: 1 }
    expect(message(G.aidBound(c, { lowerError: -1, linearError: 0 }))).toBe('grazzi2020: lowerError must be a finite number ≥ 0, got -1')
    expect(message(G.cgLinearError(c, 2, -1))).toBe('grazzi2020: lowerError must be a finite number ≥ 0, got -1')
    expect(message(G.fixedPointLinearError(c, 2, 0, -1))).toBe('grazzi2020: v0Norm must be a finite number ≥ 0, got -1')
    const curv = { tau: 1, L: 4 }
    expect(message(ER.heavyBallBound(curv, 2, -1))).toBe('ehrhardtRoberts: initial must be a finite number ≥ 0, got -1')
    expect(message(ER.cgResidualBound(curv, 0.5, 1))).toBe('ehrhardtRoberts: k must be a non-negative integer, got 0.5')
    expect(message(ER.cgAdjointErrorBound(curv, 0.5, 1))).toBe('ehrhardtRoberts: k must be a non-negative integer, got 0.5')
    expect(message(ER.cgAdjointErrorBound(curv, 1, -1))).toBe('ehrhardtRoberts: r0 must be a finite number ≥ 0, got -1')
    expect(message(ER.heavyBallRate({ tau: 0, L: 4 }))).toBe('ehrhardtRoberts: the strong convexity τ must be positive and finite, got 0')
    // ρ = 1 exactly (step 2/L, no momentum) does not converge.
    expect(message(ER.heavyBallRate(curv, { step: 0.5, momentum: 0 }))).toBe('ehrhardtRoberts: heavy ball with step 0.5, momentum 0 does not converge (ρ = 1)')
  })
  it('sid: the names of every constant, q and t out of range, one sample by default', () => {
    const d = { q: 0.5, sigma1: 1, sigma2: 0, eta: 0.5, mse0: 1, t: 1 }
    expect(message(S.thm41MseBound({ ...d, q: -0.5 }))).toBe('SID Thm 4.1: contraction constant q must lie in [0, 1), got -0.5')
    expect(message(S.thm41MseBound({ ...d, q: Infinity }))).toBe('SID Thm 4.1: contraction constant q must lie in [0, 1), got Infinity')
    expect(message(S.thm41MseBound({ ...d, t: -1 }))).toBe('SID Thm 4.1: t must be an integer ≥ 0, got -1')
    const cor = { alphaChoice: '1/L' as const, tau: 1, L: 2, sigma1p: 1, sigma2p: 0, mse0: 1, t: 1 }
    expect(message(S.cor41Bound({ ...cor, eta: 1, mse0: -1 }))).toBe('SID Cor 4.1: MSE₀ must be a finite number ≥ 0, got -1')
    expect(message(S.cor41Bound({ ...cor, eta: 1, t: 1.5 }))).toBe('SID Cor 4.1: t must be an integer ≥ 0, got 1.5')
    expect(message(S.cor41Bound({ ...cor, eta: -1 }))).toBe('SID Cor 4.1: η must be a finite number > 0, got -1')
    expect(message(S.cor41Bound({ ...cor, beta: 2, gamma: -1 }))).toBe('SID Cor 4.1: γ must be a finite number > 0, got -1')
    expect(message(S.cor41Bound({ ...cor, eta: 1, alphaChoice: 'x' as '1/L' }))).toBe("SID Cor 4.1: alphaChoice must be '1/L' or '2/(L+tau)', got x")
    const t51 = { q: 0.5, LPhiHat: 0.5, beta: 2, gamma: 100, wNorm: 1, sigma1: 1, gradUpperNorm: 1 }
    expect(message(S.thm51Rates({ ...t51, beta: 0 }))).toBe('SID Thm 5.1: β must be a finite number > 0, got 0')
    expect(message(S.thm51Rates({ ...t51, gamma: -1 }))).toBe('SID Thm 5.1: γ must be a finite number > 0, got -1')
    expect(message(S.thm51Rates({ ...t51, sigma1: -1 }))).toBe('SID Thm 5.1: σ₁ must be a finite number ≥ 0, got -1')
    // One sample (n = 1) and no batch: the single-sample estimate, drawn with replacement (factor 1).
    expect(orThrow(S.remark42Sigma1p({ lipPsi: 1, meanSquaredNorm: 2, loss: 'mean', n: 1 })).sigma1p).toBe(2)
    expect(message(S.remark42Sigma1p({ lipPsi: 1, meanSquaredNorm: 2, loss: 'x' as 'sum', n: 1 }))).toBe("SID Remark 4.2: loss must be 'mean' or 'sum', got x")
    expect(message(S.remark42Sigma1p({ lipPsi: 1, meanSquaredNorm: 2, loss: 'sum', n: 2, batch: { b: 3, replace: false } }))).toBe(
      'SID Remark 4.2: invalid minibatch: b = 3 from n = 2 (replace: false)',
    )
  })
  it('variance: a full batch without replacement is allowed; a non-finite per-sample value is named', () => {
    const P = orThrow(quadraticProblem({ dim: 2, hyperDim: 1, nSamples: 3, seed: 1, tau: 1, L: 2 }))
    expect(orThrow(V.varianceOfMap(P, Float64Array.of(0.1, 0.2), Float64Array.of(0.5), 3, false))).toBe(0)
    const broken = Object.assign(Object.create(P) as object, {
      phiHat: () => Float64Array.of(Number.NaN, 0),
      vjpLambdaHat: () => Float64Array.of(Number.NaN),
      jvpWHat: () => Float64Array.of(Number.NaN, 0),
      vjpWHat: () => Float64Array.of(Number.NaN, 0),
    }) as unknown as typeof P
    const w = Float64Array.of(0.1, 0.2)
    const lam = Float64Array.of(0.5)
    expect(message(V.varianceOfMap(broken, w, lam, 1, true))).toBe('varianceOfMap: Φ̂ of sample 0 is not finite')
    expect(message(V.m2At(broken, w, lam, 1, true))).toBe('m2At: ∂₂Φ̂ of sample 0 is not finite')
    expect(message(V.perSampleJacobianNorm(broken, w, lam))).toBe('perSampleJacobianNorm: ∂₁Φ̂ of sample 0 is not finite')
    const short = Object.assign(Object.create(P) as object, { vjpLambdaHat: () => Float64Array.of(1, 2) }) as unknown as typeof P
    expect(() => V.m2At(short, w, lam, 1, true)).toThrow('m2: vjpLambdaHat returned length 2, expected hyperDim 1')
  })
  it('constants: the shapes of the data, λ outside its domain, and an ERM problem of unknown kind', () => {
    const X = { rows: 2, cols: 2, data: Float64Array.of(1, 0, 0, 1) }
    expect(() => logisticHessianLipschitz(X, Float64Array.of(1))).toThrow('logisticHessianLipschitz: labels y against the rows of X')
    expect(() => logisticHessianLipschitz(X, Float64Array.of(1, 1), Float64Array.of(1))).toThrow('logisticHessianLipschitz: weights against the rows of X')
    expect(() => dataCleaningCrossLipschitz(X, Float64Array.of(1), Float64Array.of(0, 0))).toThrow('dataCleaningCrossLipschitz: labels y against the rows of X')
    expect(() => dataCleaningCrossLipschitz(X, Float64Array.of(1, 1), Float64Array.of(0))).toThrow('dataCleaningCrossLipschitz: λ against the rows of X')
    expect(() => meanSquaredLabelledNorm(X, Float64Array.of(1))).toThrow('meanSquaredLabelledNorm: labels y against the rows of X')
    const data = { X: matrix(4, 2, Float64Array.of(1, 0, 0, 1, 1, 1, -1, 1)), y: Float64Array.of(1, -1, 1, -1) }
    const logi = orThrow(logisticProblem(data, data, Float64Array.of(1), { regularization: 'scalar' }))
    const one = Float64Array.of(1)
    const bad = Float64Array.of(-1)
    expect(() => certifiedSolution(logi, one, { w0: Float64Array.of(1) })).toThrow('certifiedSolution: w₀')
    expect(() => crossHessianNorm(logi, one, Float64Array.of(1))).toThrow('crossHessianNorm: w')
    expect(() => grazziConstantsFor(logi, one, { w0: Float64Array.of(1) })).toThrow('grazziConstantsFor: w₀')
    expect(() => aPosterioriInputsAt(logi, one, Float64Array.of(1), Float64Array.of(1, 1))).toThrow('aPosterioriInputsAt: w')
    expect(() => aPosterioriInputsAt(logi, one, Float64Array.of(1, 1), Float64Array.of(1))).toThrow('aPosterioriInputsAt: v')
    const refused = 'logistic(scalar): λ[0] = -1 must be finite and > 0 (strong convexity)'
    expect(message(lipschitzConstants(logi, bad))).toBe(refused)
    expect(message(certifiedSolution(logi, bad))).toBe(refused)
    expect(message(grazziConstantsFor(logi, bad))).toBe(refused)
    expect(message(erConstantsFor(logi, bad))).toBe(refused)
    expect(message(aPosterioriInputsAt(logi, bad, Float64Array.of(1, 1), Float64Array.of(1, 1)))).toBe(refused)
    // An ERM map whose lower objective is neither logistic nor data cleaning.
    const L = logi.lower
    const lower: LowerObjective = {
      name: 'custom',
      dim: L.dim,
      hyperDim: L.hyperDim,
      nSamples: L.nSamples,
      separable: L.separable,
      checkLambda: (l) => L.checkLambda(l),
      value: (w, l, b) => L.value(w, l, b),
      grad: (w, l, b) => L.grad(w, l, b),
      hvp: (w, l, u, b) => L.hvp(w, l, u, b),
      crossJvp: (w, l, m, b) => L.crossJvp(w, l, m, b),
      crossVjp: (w, l, v, b) => L.crossVjp(w, l, v, b),
      curvature: (l) => L.curvature(l),
    }
    const custom = orThrow(ermProblem(lower, logi.upperObjective, { alpha: 0.1, name: 'custom' }))
    expect(message(lipschitzConstants(custom, one))).toBe('bounds/constants: no known Lipschitz constants for problem custom; supply them by hand')
    expect(message(remark42Sigma1pFor(custom, { b: 1, replace: true }))).toBe('bounds/constants: Remark 4.2 needs a logistic or data-cleaning lower objective, got custom')
    // Its solution is computable, its constants are not: the constants' refusal is the answer, not a throw.
    expect(message(grazziConstantsFor(custom, one))).toBe('bounds/constants: no known Lipschitz constants for problem custom; supply them by hand')
    expect(message(erConstantsFor(custom, one))).toBe('bounds/constants: no known Lipschitz constants for problem custom; supply them by hand')
  })
})

describe('fistaBound: messages and boundaries', () => {
  const c = { tau: 1, L: 4 }
  it('refuses a step outside (0, 1/L], a bad k or initial distance, and bad curvature; accepts s = 1/L', () => {
    expect(message(ER.fistaBound(c, 1, 1, 0))).toBe("ehrhardtRoberts: FISTA's bound needs a step in (0, 1/L] = (0, 0.25], got 0")
    expect(message(ER.fistaBound(c, 1, 1, 0.5))).toBe("ehrhardtRoberts: FISTA's bound needs a step in (0, 1/L] = (0, 0.25], got 0.5")
    expect(message(ER.fistaBound(c, 1.5, 1))).toBe('ehrhardtRoberts: k must be a non-negative integer, got 1.5')
    expect(message(ER.fistaBound(c, 1, -1))).toBe('ehrhardtRoberts: initial must be a finite number ≥ 0, got -1')
    expect(message(ER.fistaBound({ tau: 2, L: 1 }, 1, 1))).toBe('ehrhardtRoberts: the smoothness L must be finite and ≥ τ = 2, got 1')
    // s = 1/L: 2√5·‖x₀ − x*‖/((k + 2)√(τ/L)) = 2√5·2·2/3 at k = 1, ‖x₀ − x*‖ = 2.
    expect(orThrow(ER.fistaBound(c, 1, 2, 0.25))).toBeCloseTo((8 * Math.sqrt(5)) / 3, 12)
  })
})
