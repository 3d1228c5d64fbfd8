/**
 * The theorems of the SID paper (Grazzi, Pontil, Salzo, "Convergence Properties of Stochastic
 * Hypergradients", AISTATS 2021) as pure functions of their constants.
 *
 * Every function validates its constants and the theorem's hypotheses and returns
 * `Either<HypergradError, …>`: a constant outside its domain (negative variance, q ∉ [0, 1), a
 * non-integer iteration count) is a `domain` error; a step size that breaks the theorem's
 * conditions (η ≤ 1/(1+σ₂), β > 1/(1−q²), γ ≥ β(1+σ₂), Cor. 4.1's (23)) is a `schedule` error.
 * Each message names the theorem and the violated condition.
 *
 * Notation (paper → code): q_λ → q, σ₁, σ₂ (Assumption D(iii)) → sigma1, sigma2, σ₁′, σ₂′
 * (Assumption F(ii)) → sigma1p, sigma2p, L_{Φ,λ} = ‖∂₂Φ(w(λ), λ)‖ → LPhi, L_{Φ̂,λ} (Assumption
 * B(iii)) → LPhiHat, L_{E,λ} → LE, ν₁, ν₂, μ₁, μ₂ → nu1, nu2, mu1, mu2, m_{2,λ} → m2,
 * ρ_λ(t), σ_λ(k) (Assumption C) → rho, sigma, MSE_{w₀} = E‖w₀ − w*‖² → mse0.
 * See docs/theory/sid.md for the full map and how each constant is computed per problem.
 *
 * `LE` is always the paper's GLOBAL constant L_{E,λ} ≥ sup_w ‖∇₁E(w, λ)‖ (Assumption A(iv):
 * E(·, λ) is L_{E,λ}-Lipschitz): the stochastic iterates are not confined near w(λ), so the
 * value at the fixed point does not do. The deterministic bounds of ./grazzi2020.ts use the
 * value ‖∇₁E(w(λ), λ)‖ instead, under the different name `gradUpperNormStar`. `LPhi` is a value
 * at the fixed point in both (L_{Φ,λ} = ‖∂₂Φ(w(λ), λ)‖, Thm 3.1).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type ErrorKind, type HypergradError } from '../errors.js'
import { batchVarianceFactor } from './variance.js'

// ─── validation ──────────────────────────────────────────────────────────────────────────────

type Check = HypergradError | undefined

const bad = (kind: ErrorKind, where: string, msg: string): HypergradError => hgError(kind, `${where}: ${msg}`)

const nonNegative = (where: string, name: string, x: number): Check =>
  Number.isFinite(x) && x >= 0 ? undefined : bad('domain', where, `${name} must be a finite number ≥ 0, got ${x}`)

/** `nonNegative` for each [name, value] pair, in order. */
const nonNegatives = (where: string, values: ReadonlyArray<readonly [string, number]>): Check[] =>
  values.map(([name, x]) => nonNegative(where, name, x))

const positive = (where: string, name: string, x: number): Check =>
  Number.isFinite(x) && x > 0 ? undefined : bad('domain', where, `${name} must be a finite number > 0, got ${x}`)

const contractionConstant = (where: string, q: number): Check =>
  Number.isFinite(q) && q >= 0 && q < 1 ? undefined : bad('domain', where, `contraction constant q must lie in [0, 1), got ${q}`)

const iterationCount = (where: string, name: string, t: number): Check =>
  Number.isInteger(t) && t >= 0 ? undefined : bad('domain', where, `${name} must be an integer ≥ 0, got ${t}`)

/** Relative slack when comparing with a computed cap, so that η = 1/(1+σ₂) itself passes. */
const SLACK = 1e-12

const stepCap = (where: string, eta: number, sigma2: number, sigmaName = 'σ₂'): Check =>
  eta <= (1 / (1 + sigma2)) * (1 + SLACK)
    ? undefined
    : bad('schedule', where, `step η = ${eta} exceeds 1/(1+${sigmaName}) = ${1 / (1 + sigma2)} (condition η ≤ 1/(1+${sigmaName}))`)

const betaGamma = (where: string, beta: number, gamma: number, q: number, sigma2: number): Check => {
  const betaMin = 1 / (1 - q * q)
  if (!(beta > betaMin)) return bad('schedule', where, `β = ${beta} must exceed 1/(1−q²) = ${betaMin} (condition β > 1/(1−q²))`)
  if (!(gamma >= beta * (1 + sigma2) * (1 - SLACK)))
    return bad('schedule', where, `γ = ${gamma} must be ≥ β(1+σ₂) = ${beta * (1 + sigma2)} (condition γ ≥ β(1+σ₂))`)
  return undefined
}

const validated = <A>(checks: ReadonlyArray<Check>, compute: () => A): E.Either<HypergradError, A> => {
  for (const c of checks) if (c !== undefined) return E.left(c)
  return E.right(compute())
}

/**
 * (1−x)ᵗ(m₀ − r) + r, computed as (1−x)ᵗm₀ + (1 − (1−x)ᵗ)r: both terms are ≥ 0 for x ∈ (0, 1],
 * so nothing cancels when r ≫ m₀ or x is tiny.
 */
const geometricApproach = (x: number, t: number, m0: number, r: number): number => {
  if (t === 0) return m0
  const logDecay = t * Math.log1p(-x) // −∞ when x = 1: decay 0, the bound is r
  return Math.exp(logDecay) * m0 - Math.expm1(logDecay) * r
}

// ─── §4: stochastic fixed-point iterations (17) ──────────────────────────────────────────────

/** Assumption D(i)–(iii) of a stochastic map T̂: T contracts with q, V[T̂(w)] ≤ σ₁ + σ₂‖T(w) − w‖². */
export interface AssumptionD {
  readonly q: number
  readonly sigma1: number
  readonly sigma2: number
}

const assumptionD = (where: string, p: AssumptionD): Check[] => [
  contractionConstant(where, p.q),
  nonNegative(where, 'σ₁', p.sigma1),
  nonNegative(where, 'σ₂', p.sigma2),
]

/** The start and the iteration: MSE_{w₀} = E‖w₀ − w*‖² and t. */
interface Run {
  readonly mse0: number
  readonly t: number
}

const run = (where: string, p: Run): Check[] => [nonNegative(where, 'MSE₀', p.mse0), iterationCount(where, 't', p.t)]

/** Constants of Thm 4.1: Assumption D with (q, σ₁, σ₂), constant step η, MSE_{w₀}, iteration t. */
export interface Thm41Params extends AssumptionD, Run {
  readonly eta: number
}

const constantStep = (where: string, p: AssumptionD & { readonly eta: number }): Check[] => [
  ...assumptionD(where, p),
  positive(where, 'η', p.eta),
  stepCap(where, p.eta, p.sigma2),
]

/**
 * SID Thm 4.1, eq. (18): for iteration (17) with constant step η ≤ 1/(1+σ₂),
 *   E‖wₜ − w*‖² ≤ (1 − η(1−q²))ᵗ (MSE_{w₀} − ησ₁/(1−q²)) + ησ₁/(1−q²).
 * Left when η > 1/(1+σ₂) (`schedule`) or a constant is out of its domain.
 */
export const thm41MseBound = (p: Thm41Params): E.Either<HypergradError, number> => {
  const where = 'SID Thm 4.1'
  return validated([...constantStep(where, p), ...run(where, p)], () => {
    const oneMinusQ2 = 1 - p.q * p.q
    return geometricApproach(p.eta * oneMinusQ2, p.t, p.mse0, (p.eta * p.sigma1) / oneMinusQ2)
  })
}

/** SID Thm 4.1, its limit: lim sup E‖wₜ − w*‖² ≤ ησ₁/(1−q²) (the plateau of a constant step). */
export const thm41Plateau = (p: AssumptionD & { readonly eta: number }): E.Either<HypergradError, number> =>
  validated(constantStep('SID Thm 4.1 (limit)', p), () => (p.eta * p.sigma1) / (1 - p.q * p.q))

/** Constants of Thm 4.2: Assumption D with (q, σ₁, σ₂), steps ηₜ = β/(γ+t), MSE_{w₀}, iteration t. */
export interface Thm42Params extends AssumptionD, Run {
  readonly beta: number
  readonly gamma: number
}

/**
 * SID Thm 4.2, eq. (20): for iteration (17) with ηₜ = β/(γ+t), β > 1/(1−q²), γ ≥ β(1+σ₂),
 *   E‖wₜ − w*‖² ≤ c/(γ+t),  c = max{γ·MSE_{w₀}, β²σ₁/(β(1−q²) − 1)}.
 * Left (`schedule`) naming the violated condition on β or γ.
 */
export const thm42MseBound = (p: Thm42Params): E.Either<HypergradError, number> => {
  const where = 'SID Thm 4.2'
  return validated(
    [
      ...assumptionD(where, p),
      positive(where, 'β', p.beta),
      positive(where, 'γ', p.gamma),
      ...run(where, p),
      betaGamma(where, p.beta, p.gamma, p.q, p.sigma2),
    ],
    () => thm42Constant(p) / (p.gamma + p.t),
  )
}

/** c of Thm 4.2 (unvalidated; callers validate). */
const thm42Constant = (p: Omit<Thm42Params, 't'>): number =>
  Math.max(p.gamma * p.mse0, (p.beta * p.beta * p.sigma1) / (p.beta * (1 - p.q * p.q) - 1))

/** The two choices of α in Φ̂ = w − α∇ℓ̂ that Cor. 4.1 covers. */
export type AlphaChoice = '1/L' | '2/(L+tau)'

interface Cor41Base {
  readonly alphaChoice: AlphaChoice
  /** Strong convexity τ > 0 of ℓ (Assumption F(i)). */
  readonly tau: number
  /** Smoothness L ≥ τ of ℓ (Assumption F(i)). */
  readonly L: number
  /** σ₁′, σ₂′ of Assumption F(ii): V[∇ℓ̂(w, ζ)] ≤ σ₁′ + σ₂′‖∇ℓ(w)‖². */
  readonly sigma1p: number
  readonly sigma2p: number
  readonly mse0: number
  readonly t: number
}

/** Constants of Cor. 4.1: a constant step `eta`, or the decreasing step β/(γ+t) given by `beta`, `gamma`. */
export type Cor41Params = Cor41Base & ({ readonly eta: number } | { readonly beta: number; readonly gamma: number })

/** What Cor. 4.1 gives: the bound, the implied Assumption D constants, and the paper's r₁, r₂ (constant step) or r₃ (decreasing). */
export type Cor41Result = {
  readonly bound: number
  /** α, and the contraction q and Assumption D constants σ₁ = α²σ₁′, σ₂ = σ₂′ of Φ̂ = w − α∇ℓ̂. */
  readonly alpha: number
  readonly q: number
  readonly sigma1: number
  readonly sigma2: number
} & ({ readonly kind: 'constant'; readonly r1: number; readonly r2: number } | { readonly kind: 'decreasing'; readonly r3: number })

/**
 * SID Cor. 4.1, eqs. (22)–(24): SGD (21) on ℓ τ-strongly convex and L-smooth with α = 1/L or
 * α = 2/(L+τ). Constant step η ≤ 1/(1+σ₂′): E‖wₜ − w*‖² ≤ r₁ᵗ(MSE₀ − r₂) + r₂ (22); decreasing
 * step β/(γ+t) with β above the threshold (23) and γ ≥ β(1+σ₂′): ≤ max{γ MSE₀, r₃}/(γ+t) (24).
 * r₁, r₂, r₃ are computed from the paper's closed forms (not through Thm 4.1/4.2).
 * τ, L, σ₁′ and σ₂′ must describe one and the same ℓ: for a sum loss (`LossForm` 'sum', the
 * library's problems) all are those of the sum, n times (σ₁′: n² times) the mean form's.
 */
export const cor41Bound = (p: Cor41Params): E.Either<HypergradError, Cor41Result> => {
  const where = 'SID Cor 4.1'
  const { tau, L, sigma1p, sigma2p, mse0, t } = p
  const base: Check[] = [
    positive(where, 'τ', tau),
    positive(where, 'L', L),
    tau <= L ? undefined : bad('domain', where, `strong convexity τ = ${tau} exceeds smoothness L = ${L}`),
    nonNegative(where, "σ₁'", sigma1p),
    nonNegative(where, "σ₂'", sigma2p),
    nonNegative(where, 'MSE₀', mse0),
    iterationCount(where, 't', t),
    p.alphaChoice === '1/L' || p.alphaChoice === '2/(L+tau)' ? undefined : bad('domain', where, `alphaChoice must be '1/L' or '2/(L+tau)', got ${String(p.alphaChoice)}`),
  ]
  const oneOverL = p.alphaChoice === '1/L'
  const alpha = oneOverL ? 1 / L : 2 / (L + tau)
  const q = oneOverL ? 1 - tau / L : (L - tau) / (L + tau)
  const common = { alpha, q, sigma1: alpha * alpha * sigma1p, sigma2: sigma2p }
  if ('eta' in p) {
    const eta = p.eta
    return validated([...base, positive(where, 'η', eta), stepCap(where, eta, sigma2p, "σ₂'")], () => {
      const r1 = oneOverL ? 1 - ((eta * tau) / L) * (2 - tau / L) : 1 - (4 * eta * tau * L) / ((L + tau) * (L + tau))
      const r2 = oneOverL ? (eta * sigma1p) / (tau * (2 * L - tau)) : (eta * sigma1p) / (tau * L)
      return { ...common, kind: 'constant' as const, r1, r2, bound: geometricApproach(1 - r1, t, mse0, r2) }
    })
  }
  const { beta, gamma } = p
  const betaMin = oneOverL ? (L * L) / (tau * (2 * L - tau)) : ((L + tau) * (L + tau)) / (4 * tau * L)
  return validated(
    [
      ...base,
      positive(where, 'β', beta),
      positive(where, 'γ', gamma),
      beta > betaMin ? undefined : bad('schedule', where, `β = ${beta} must exceed ${betaMin} (condition (23) for α = ${p.alphaChoice})`),
      gamma >= beta * (1 + sigma2p) * (1 - SLACK) ? undefined : bad('schedule', where, `γ = ${gamma} must be ≥ β(1+σ₂') = ${beta * (1 + sigma2p)}`),
    ],
    () => {
      const r3 = oneOverL
        ? (beta * beta * sigma1p) / (beta * tau * (2 * L - tau) - L * L)
        : (4 * beta * beta * sigma1p) / (4 * beta * tau * L - (L + tau) * (L + tau))
      return { ...common, kind: 'decreasing' as const, r3, bound: Math.max(gamma * mse0, r3) / (gamma + t) }
    },
  )
}

/**
 * How a lower objective ℓ(w, λ) = Σ-or-mean over samples + R(w, λ) weighs its n samples:
 *  - 'mean': ℓ = (1/n) Σᵢ ψ(yᵢxᵢᵀw) + R(w, λ), the SID paper's form (eq. 26), whose one-sample
 *    estimate is ℓ̂(w, i) = ψ(yᵢxᵢᵀw) + R(w, λ);
 *  - 'sum': ℓ = Σᵢ ψ(yᵢxᵢᵀw) + R(w, λ), the form of the library's problems (logistic
 *    regression, data cleaning), whose batch estimate is (n/b) Σ_{i∈B} ψ(yᵢxᵢᵀw) + R(w, λ):
 *    every per-sample gradient, hence every variance, is n (resp. n²) times the mean form's.
 * τ, L and σ₁′ given to `cor41Bound` must all be those of one form.
 */
export type LossForm = 'mean' | 'sum'

/**
 * SID Remark 4.2, eq. (27), for a loss of either form (`LossForm`) with labels of any size:
 * when ψ is Lipschitz, the per-sample gradient of the data term is s·ψ'(yᵢxᵢᵀw)yᵢxᵢ (s = 1 for
 * 'mean', s = n for 'sum'; the regularizer's gradient is the same on every sample and adds no
 * variance), so
 *   V[∇ℓ̂(w, i)] ≤ E‖s ψ'(yᵢxᵢᵀw) yᵢxᵢ‖² ≤ s² Lip(ψ)² (1/n)Σᵢ yᵢ²‖xᵢ‖²  for every w,
 * and Assumption F(ii) holds with σ₂′ = 0 and σ₁′ this value. The paper states it for the mean
 * form with |yᵢ| = 1: σ₁′ = Lip(ψ)² E‖x‖². A per-sample weight in [0, 1] (data cleaning's σ(λᵢ))
 * keeps the bound. For a minibatch of b samples the variance of the batch average is this times
 * the finite-population factor (1/b with replacement, (n−b)/(b(n−1)) without; default b = 1).
 */
export const remark42Sigma1p = (p: {
  readonly lipPsi: number
  /** (1/n) Σᵢ yᵢ²‖xᵢ‖² (= E‖x‖² for labels ±1). */
  readonly meanSquaredNorm: number
  readonly loss: LossForm
  /** The number of samples n. */
  readonly n: number
  /** The minibatch: b samples, with or without replacement (default one sample). */
  readonly batch?: { readonly b: number; readonly replace: boolean }
}): E.Either<HypergradError, { readonly sigma1p: number; readonly sigma2p: 0 }> => {
  const where = 'SID Remark 4.2'
  const b = p.batch?.b ?? 1
  const replace = p.batch?.replace ?? true
  return validated(
    [
      nonNegative(where, 'Lip(ψ)', p.lipPsi),
      nonNegative(where, 'E[y²‖x‖²]', p.meanSquaredNorm),
      p.loss === 'mean' || p.loss === 'sum' ? undefined : bad('domain', where, `loss must be 'mean' or 'sum', got ${String(p.loss)}`),
      Number.isInteger(p.n) && p.n >= 1 ? undefined : bad('domain', where, `the number of samples n must be an integer ≥ 1, got ${p.n}`),
      Number.isInteger(b) && b >= 1 && (replace || b <= p.n) ? undefined : bad('domain', where, `invalid minibatch: b = ${b} from n = ${p.n} (replace: ${replace})`),
    ],
    () => {
      const s = p.loss === 'sum' ? p.n : 1
      return { sigma1p: s * s * p.lipPsi * p.lipPsi * p.meanSquaredNorm * batchVarianceFactor(p.n, b, replace), sigma2p: 0 as const }
    },
  )
}

/**
 * SID Thm 4.3: under Assumption E (T̂(·, z) is L_T̂-Lipschitz for every z) and D(i)(ii),
 * V[T̂(w, ζ)] ≤ σ₁ + σ₂‖T(w) − w‖² with σ₁ = 2V[T̂(w*, ζ)] and σ₂ = 2(L_T̂² + q²)/(1−q)².
 */
export const thm43Sigmas = (p: {
  /** V[T̂(w*, ζ)] = E‖T̂(w*, ζ) − w*‖² (see `varianceOfMap` in ./variance.ts). */
  readonly varianceAtFixedPoint: number
  /** L_T̂ of Assumption E (for Φ̂: L_{Φ̂,λ}). */
  readonly LThat: number
  readonly q: number
}): E.Either<HypergradError, { readonly sigma1: number; readonly sigma2: number }> => {
  const where = 'SID Thm 4.3'
  return validated(
    [nonNegative(where, 'V[T̂(w*)]', p.varianceAtFixedPoint), nonNegative(where, 'L_T̂', p.LThat), contractionConstant(where, p.q)],
    () => ({ sigma1: 2 * p.varianceAtFixedPoint, sigma2: sigma2Of(p.LThat, p.q) }),
  )
}

const sigma2Of = (LHat: number, q: number): number => (2 * (LHat * LHat + q * q)) / ((1 - q) * (1 - q))

// ─── §5: the two subproblems of SID with decreasing steps ────────────────────────────────────

/** Constants of Thm 5.1 (steps η_i = β/(γ+i) on both (28) and (29), starts w₀ = v₀ = 0). */
export interface Thm51Params {
  readonly q: number
  /** L_{Φ̂,λ}: ‖∂₁Φ̂(w, λ, z)‖ ≤ L_{Φ̂,λ} for all w, z (Assumption B(iii)). */
  readonly LPhiHat: number
  readonly beta: number
  readonly gamma: number
  /** ‖w(λ)‖ = ‖w₀ − w(λ)‖ with the start w₀ = 0 of (28). */
  readonly wNorm: number
  /** σ_{λ,1} = 2V[Φ̂(w(λ), λ, ζ)] (already doubled, as in Thm 4.3). */
  readonly sigma1: number
  /**
   * ‖∇₁E(w, λ)‖ at the w where the linear system is solved. For Assumption C, σ_λ(k) must hold
   * for every w: pass L_{E,λ} ≥ sup_w ‖∇₁E(w, λ)‖ to get that uniform rate.
   */
  readonly gradUpperNorm: number
}

/** The rates of Thm 5.1: ρ(t) = d_w/(γ+t) (30) and σ(k) = d_v/(γ+k) (31). */
export interface Thm51Rates {
  readonly sigma2: number
  readonly dw: number
  readonly dv: number
  readonly rho: (t: number) => number
  readonly sigma: (k: number) => number
}

/**
 * SID Thm 5.1, eqs. (30)–(31): with σ_{λ,2} = 2(L_{Φ̂,λ}² + q²)/(1−q)², β > 1/(1−q²) and
 * γ ≥ β(1+σ_{λ,2}):
 *   E‖wₜ − w(λ)‖² ≤ d_w/(γ+t),  d_w = max{γ‖w(λ)‖², β²σ_{λ,1}/(β(1−q²)−1)},
 *   E‖v_k − v(w, λ)‖² ≤ d_v/(γ+k),  d_v = ‖∇₁E(w, λ)‖²/(1−q)² · max{γ, 2β²L_{Φ̂}²/(β(1−q²)−1)}.
 */
export const thm51Rates = (p: Thm51Params): E.Either<HypergradError, Thm51Rates> => {
  const where = 'SID Thm 5.1'
  const sigma2 = Number.isFinite(p.LPhiHat) && Number.isFinite(p.q) && p.q < 1 ? sigma2Of(p.LPhiHat, p.q) : NaN
  return validated(
    [
      contractionConstant(where, p.q),
      nonNegative(where, 'L_Φ̂', p.LPhiHat),
      positive(where, 'β', p.beta),
      positive(where, 'γ', p.gamma),
      ...nonNegatives(where, [['‖w(λ)‖', p.wNorm], ['σ₁', p.sigma1], ['‖∇₁E‖', p.gradUpperNorm]]),
      betaGamma(where, p.beta, p.gamma, p.q, sigma2),
    ],
    () => {
      const { q, beta, gamma } = p
      const denom = beta * (1 - q * q) - 1
      const dw = Math.max(gamma * p.wNorm * p.wNorm, (beta * beta * p.sigma1) / denom)
      const r = p.gradUpperNorm / (1 - q)
      const dv = r * r * Math.max(gamma, (2 * beta * beta * p.LPhiHat * p.LPhiHat) / denom)
      return { sigma2, dw, dv, rho: (t: number) => dw / (gamma + t), sigma: (k: number) => dv / (gamma + k) }
    },
  )
}

// ─── §3: the mean square error of SID ────────────────────────────────────────────────────────

/** The constants that the theorems of §3 share. */
interface Section3Constants {
  /** L_{Φ,λ} = ‖∂₂Φ(w(λ), λ)‖. */
  readonly LPhi: number
  readonly nu2: number
  /** L_{E,λ} ≥ sup_w ‖∇₁E(w, λ)‖ (global, Assumption A(iv)). */
  readonly LE: number
  readonly q: number
}

/** The ingredients of c_{1,λ} in Thm 3.1. */
export interface C1Ingredients extends Section3Constants {
  readonly mu1: number
  readonly mu2: number
  readonly nu1: number
}

/**
 * c_{1,λ} of SID Thm 3.1, with the global L_{E,λ}:
 *   c₁ = μ₂ + (μ₁L_Φ + ν₂L_E)/(1−q) + ν₁L_E L_Φ/(1−q)².
 * (./grazzi2020.ts's `c1AtSolution` has the same shape with ‖∇₁E(w(λ))‖ in place of L_E.)
 */
export const thm31C1 = (p: C1Ingredients): E.Either<HypergradError, number> => {
  const where = 'SID Thm 3.1 (c₁)'
  return validated(
    [
      ...nonNegatives(where, [['μ₁', p.mu1], ['μ₂', p.mu2], ['ν₁', p.nu1], ['ν₂', p.nu2], ['L_Φ', p.LPhi], ['L_E', p.LE]]),
      contractionConstant(where, p.q),
    ],
    () => c1Of(p),
  )
}

const c1Of = (p: C1Ingredients): number =>
  p.mu2 + (p.mu1 * p.LPhi + p.nu2 * p.LE) / (1 - p.q) + (p.nu1 * p.LE * p.LPhi) / ((1 - p.q) * (1 - p.q))

/** c₁ given directly, or through its ingredients (L_Φ and ν₂ are then taken from the same object). */
export type C1Source = { readonly c1: number } | { readonly mu1: number; readonly mu2: number; readonly nu1: number; readonly LE: number; readonly q: number }

/** The rates of Assumption C at the (t, k) of interest: ρ = ρ_λ(t) ≥ E‖wₜ − w‖², σ = σ_λ(k) ≥ sup_w E‖v_k(w) − v(w)‖². */
export interface Rates {
  readonly rho: number
  readonly sigma: number
}

const ratesChecks = (where: string, p: Rates & { readonly LPhi: number; readonly nu2: number }): Check[] => [
  nonNegative(where, 'ρ(t)', p.rho),
  nonNegative(where, 'σ(k)', p.sigma),
  nonNegative(where, 'L_Φ', p.LPhi),
  nonNegative(where, 'ν₂', p.nu2),
]

const resolveC1 = (where: string, p: C1Source & { readonly LPhi: number; readonly nu2: number }): E.Either<HypergradError, number> => {
  if ('c1' in p) {
    const e = nonNegative(where, 'c₁', p.c1)
    return e === undefined ? E.right(p.c1) : E.left(e)
  }
  return E.mapLeft((err: HypergradError) => hgError(err.kind, `${where}: ${err.message}`))(thm31C1({ ...p, LPhi: p.LPhi, nu2: p.nu2 }))
}

/** Constants of Thm 3.1 (and 3.3): c₁ (or its ingredients), L_Φ, ν₂, and the rates ρ(t), σ(k). */
export type Thm31Params = C1Source & Rates & { readonly LPhi: number; readonly nu2: number }

/** The two bounds of Thm 3.1. */
export interface Thm31Bounds {
  /** (i): ‖E[∇̂f | wₜ] − ∇f‖ ≤ c₁Δ̂ + L_Φ√σ + ν₂Δ̂√σ, given Δ̂ = ‖wₜ − w(λ)‖. */
  readonly conditional: (deltaW: number) => number
  /** (ii): ‖E[∇̂f] − ∇f‖ ≤ c₁√ρ + L_Φ√σ + ν₂√ρ√σ (the bias; not squared). */
  readonly bias: number
  readonly c1: number
}

/** SID Thm 3.1 (i) and (ii): bounds on the conditional and unconditional bias of the SID estimate (8). */
export const thm31Bias = (p: Thm31Params): E.Either<HypergradError, Thm31Bounds> => {
  const where = 'SID Thm 3.1'
  return E.chain((cOne: number) =>
    validated(ratesChecks(where, p), () => {
      const sSig = Math.sqrt(p.sigma)
      return {
        c1: cOne,
        conditional: (deltaW: number) => cOne * deltaW + p.LPhi * sSig + p.nu2 * deltaW * sSig,
        bias: cOne * Math.sqrt(p.rho) + p.LPhi * sSig + p.nu2 * Math.sqrt(p.rho) * sSig,
      }
    }),
  )(resolveC1(where, p))
}

/** Constants of Thm 3.2: m₂, L_E, q, L_Φ, ν₂ and the rates. */
export interface Thm32Params extends Rates, Section3Constants {
  readonly m2: number
}

/** The checks of the floor 2m₂L_E²/(1−q)² (eq. 14), shared by Thm 3.2 and 3.4. */
const floorChecks = (where: string, p: { readonly m2: number; readonly LE: number; readonly q: number }): Check[] => [
  nonNegative(where, 'm₂', p.m2),
  nonNegative(where, 'L_E', p.LE),
  contractionConstant(where, p.q),
]

/**
 * SID Thm 3.2, eq. (12): the expected conditional variance
 *   E[V[∇̂f | wₜ]] ≤ 2m₂L_E²/(1−q)² + 2(L_Φ² + m₂)σ(k) + 2ν₂²ρ(t)σ(k).
 */
export const thm32 = (p: Thm32Params): E.Either<HypergradError, number> => {
  const where = 'SID Thm 3.2'
  return validated(
    [...ratesChecks(where, p), ...floorChecks(where, p)],
    () => floorOf(p) + 2 * (p.LPhi * p.LPhi + p.m2) * p.sigma + 2 * p.nu2 * p.nu2 * p.rho * p.sigma,
  )
}

/**
 * SID Thm 3.3: the variance of the conditional mean
 *   V[E[∇̂f | wₜ]] ≤ 3(c₁²ρ(t) + L_Φ²σ(k) + ν₂²ρ(t)σ(k)).
 */
export const thm33 = (p: Thm31Params): E.Either<HypergradError, number> => {
  const where = 'SID Thm 3.3'
  return E.chain((cOne: number) =>
    validated(ratesChecks(where, p), () => 3 * (cOne * cOne * p.rho + p.LPhi * p.LPhi * p.sigma + p.nu2 * p.nu2 * p.rho * p.sigma)),
  )(resolveC1(where, p))
}

/** Constants of Thm 3.4: those of Thm 3.2 plus c₁ (or its ingredients other than L_E, q, L_Φ, ν₂). */
export type Thm34Params = Thm32Params & ({ readonly c1: number } | { readonly mu1: number; readonly mu2: number; readonly nu1: number })

/**
 * SID Thm 3.4, eq. (13): the mean square error of SID
 *   E‖∇̂f − ∇f‖² ≤ 2m₂L_E²/(1−q)² + 6c₁²ρ(t) + 2(4L_Φ² + m₂)σ(k) + 8ν₂²ρ(t)σ(k).
 */
export const thm34MseBound = (p: Thm34Params): E.Either<HypergradError, number> => {
  const where = 'SID Thm 3.4'
  const source: C1Source = 'c1' in p ? { c1: p.c1 } : { mu1: p.mu1, mu2: p.mu2, nu1: p.nu1, LE: p.LE, q: p.q }
  return E.chain((cOne: number) =>
    validated(
      [...ratesChecks(where, p), ...floorChecks(where, p)],
      () =>
        floorOf(p) +
        6 * cOne * cOne * p.rho +
        2 * (4 * p.LPhi * p.LPhi + p.m2) * p.sigma +
        8 * p.nu2 * p.nu2 * p.rho * p.sigma,
    ),
  )(resolveC1(where, { ...source, LPhi: p.LPhi, nu2: p.nu2 }))
}

const floorOf = (p: { readonly m2: number; readonly LE: number; readonly q: number }): number =>
  (2 * p.m2 * p.LE * p.LE) / ((1 - p.q) * (1 - p.q))

/**
 * SID eq. (14): when ρ(t), σ(k) → 0, lim E‖∇̂f − ∇f‖² ≤ 2m₂L_E²/(1−q)². Zero when Φ̂ separates
 * as in eq. (15) (m₂ = 0).
 */
export const mseFloor = (p: { readonly m2: number; readonly LE: number; readonly q: number }): E.Either<HypergradError, number> => {
  const where = 'SID eq. (14)'
  return validated(floorChecks(where, p), () => floorOf(p))
}
