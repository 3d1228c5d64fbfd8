/**
 * The Monte Carlo and exact experiments behind the SID bound properties: each runs the
 * library's solvers (sgd, stochasticFixedPoint, sid) on a test bed whose constants are known,
 * and returns, per checkpoint, the observed error (exact, or a Monte Carlo mean with its
 * one-sided upper confidence limit) next to the theorem's bound. properties/sidBounds.test.ts
 * asserts on them; properties/sidTightness.ts prints the bound/observed ratios.
 *
 * Confidence: every Monte Carlo limit is the normal-approximation (CLT) limit at the nominal
 * level CONFIDENCE = 1 − 1e-6 (see docs/theory/sid.md for why and for what it does not cover).
 */
import {
  cor41Bound,
  remark42Sigma1p,
  thm31Bias,
  thm34MseBound,
  thm41MseBound,
  thm42MseBound,
  thm43Sigmas,
  thm51Rates,
} from '../src/bounds/sid.js'
import { m2At, meanConfidenceInterval, sigma1Exact } from '../src/bounds/variance.js'
import { orThrow } from '../src/errors.js'
import { sid } from '../src/hypergrad/sid.js'
import type { RVec, Vec } from '../src/linalg/types.js'
import type { StochasticBilevelProblem } from '../src/problem/bilevel.js'
import { quadraticProblem, type QuadraticProblem } from '../src/problems/quadratic.js'
import { split, type Rng } from '../src/random/rng.js'
import { constantOrThrow, decreasingOrThrow, type Schedule } from '../src/schedule/schedule.js'
import { stochasticFixedPoint } from '../src/solvers/linear/stochasticFixedPoint.js'
import { sgd } from '../src/solvers/lower/sgd.js'
import {
  enumerateBatches,
  euclideanNorm,
  exactAffineMse,
  finiteSumQuadratic,
  fixtureRng,
  lowerAffineMaps,
  smallLogistic,
  squaredDistance,
  type Fixture,
  type LogisticFixture,
  type SidConstants,
} from './sidFixtures.js'
import { unfold } from '../src/solvers/solver.js'

/** The nominal confidence level of every Monte Carlo assertion. */
export const CONFIDENCE = 1 - 1e-6

/** Upper confidence limit (one-sided, level `CONFIDENCE`) of the mean of xs. */
export const upperMean = (xs: ArrayLike<number>): number => orThrow(meanConfidenceInterval(xs, { confidence: CONFIDENCE, sides: 'upper' })).upper
/** Lower confidence limit (one-sided, level `CONFIDENCE`) of the mean of xs. */
export const lowerMean = (xs: ArrayLike<number>): number => orThrow(meanConfidenceInterval(xs, { confidence: CONFIDENCE, sides: 'lower' })).lower
/** Two-sided interval (level `CONFIDENCE`) of the mean of xs. */
export const twoSidedMean = (xs: ArrayLike<number>) => orThrow(meanConfidenceInterval(xs, { confidence: CONFIDENCE, sides: 'two' }))

const mean = (xs: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < xs.length; i++) s += xs[i]!
  return s / xs.length
}

/**
 * An upper confidence limit for the bias ‖E[ĝ] − g*‖ from N draws ĝ: per coordinate j a
 * two-sided interval at level 1 − δ/m (Bonferroni over the m coordinates, δ = 1 − CONFIDENCE);
 * on the event that every interval holds (probability ≥ 1 − δ, nominally), |E ĝⱼ − g*ⱼ| is at
 * most the larger distance from g*ⱼ to an end of its interval, hence the norm of those distances.
 */
export const biasUpper = (grads: ReadonlyArray<RVec>, truth: RVec): number => {
  const m = truth.length
  const delta = 1 - CONFIDENCE
  let s = 0
  for (let j = 0; j < m; j++) {
    const ci = orThrow(meanConfidenceInterval(grads.map((g) => g[j]!), { confidence: 1 - delta / m, sides: 'two' }))
    const dev = Math.max(Math.abs(ci.upper - truth[j]!), Math.abs(ci.lower - truth[j]!))
    s += dev * dev
  }
  return Math.sqrt(s)
}

/** The plain bias estimate ‖mean ĝ − g*‖ (for reporting). */
export const biasEstimate = (grads: ReadonlyArray<RVec>, truth: RVec): number => {
  let s = 0
  for (let j = 0; j < truth.length; j++) s += (mean(grads.map((g) => g[j]!)) - truth[j]!) ** 2
  return Math.sqrt(s)
}

// ─── test beds ───────────────────────────────────────────────────────────────────────────────

/** The library's quadratic test bed used for the lower-level iteration: q = 0.5 (τ = 1, L = 3). */
export const libraryQuadratic = (separable = false): QuadraticProblem =>
  orThrow(quadraticProblem({ dim: 3, hyperDim: 2, nSamples: 6, seed: 1, tau: 1, L: 3, separable }))
export const LQ_LAMBDA = Float64Array.of(0.2, -0.1)

/** The finite-sum quadratic with a Lipschitz upper objective (SID needs L_E < ∞), q ≈ 0.45. */
export const sidQuadratic = (separable: boolean): Fixture => finiteSumQuadratic({ dim: 3, hyperDim: 2, nSamples: 6, seed: 2, separable })
export const SQ_LAMBDA = Float64Array.of(0.3, -0.2)

/** The small ridge logistic regression (SID eq. 26), λ = 0.3. */
export const LOGISTIC_LAMBDA = Float64Array.of(0.3)
export const sidLogistic = (): LogisticFixture => smallLogistic({ nTrain: 12, features: 3, seed: 3 }, LOGISTIC_LAMBDA[0]!)

// ─── the lower-level iteration (17)/(28): Thm 4.1, 4.2, Cor 4.1 ─────────────────────────────

/** One row of a comparison: at iteration t, what was observed and what the theorem allows. */
export interface Row {
  readonly t: number
  /** The exact value, or the Monte Carlo mean. */
  readonly observed: number
  /** The upper confidence limit of the Monte Carlo mean (= observed when exact). */
  readonly upper: number
  /** The lower confidence limit (= observed when exact). */
  readonly lower: number
  readonly bound: number
}

/** Monte Carlo ‖wₜ − w*‖² of the library's sgd at the checkpoints, over N independent runs. */
export const sgdSquaredErrors = (
  P: StochasticBilevelProblem,
  lambda: RVec,
  wStar: RVec,
  schedule: Schedule,
  b: number,
  replace: boolean,
  checkpoints: ReadonlyArray<number>,
  N: number,
  rng: Rng,
): Float64Array[] => {
  const method = sgd({ schedule, batchSize: b, replace })
  const out = checkpoints.map(() => new Float64Array(N))
  const streams = split(rng, N)
  const T = checkpoints[checkpoints.length - 1]!
  for (let i = 0; i < N; i++) {
    let c = 0
    for (const s of unfold(method, { problem: P, lambda }, new Float64Array(P.dim), streams[i]!)) {
      while (c < checkpoints.length && checkpoints[c] === s.iter) out[c++]![i] = squaredDistance(s.w, wStar)
      if (s.iter >= T) break
    }
  }
  return out
}

/** What a lower-level experiment reports. */
export interface LowerExperiment {
  readonly name: string
  readonly theorem: string
  readonly rows: ReadonlyArray<Row>
  /** The exact E‖wₜ − w*‖² where the map is affine (so that the Monte Carlo can be checked against it). */
  readonly exact?: ReadonlyArray<number>
  readonly constants: Record<string, number>
}

const mcRows = (errs: ReadonlyArray<Float64Array>, checkpoints: ReadonlyArray<number>, bound: (t: number) => number): Row[] =>
  checkpoints.map((t, c) => ({ t, observed: mean(errs[c]!), upper: upperMean(errs[c]!), lower: lowerMean(errs[c]!), bound: bound(t) }))

/**
 * Thm 4.1 and 4.2 on the library's quadratic: σ₁ = 2V[Φ̂(w*)] exactly, σ₂ from Thm 4.3 with the
 * exact L_Φ̂; steps η = 1/(1+σ₂) (the largest allowed) and β/(γ+t) with β = 2/(1−q²),
 * γ = β(1+σ₂) (the paper's recommendation). Exact MSE by second moments, and Monte Carlo.
 */
export const lowerQuadratic = (kind: 'constant' | 'decreasing', N = 400): LowerExperiment => {
  const P = libraryQuadratic()
  const lambda = LQ_LAMBDA
  const b = 2
  const replace = false
  const wStar = P.solution(lambda)
  const c = P.constants(lambda)
  const s1 = orThrow(sigma1Exact(P, lambda, wStar, b, replace))
  const { sigma1, sigma2 } = orThrow(thm43Sigmas({ varianceAtFixedPoint: s1 / 2, LThat: c.LPhiHat, q: c.q }))
  const mse0 = squaredDistance(new Float64Array(P.dim), wStar)
  const eta = 1 / (1 + sigma2)
  const beta = 2 / (1 - c.q * c.q)
  const gamma = beta * (1 + sigma2)
  const schedule = kind === 'constant' ? constantOrThrow(eta) : decreasingOrThrow(beta, gamma)
  const checkpoints = [0, 5, 20, 60, 150, 400]
  const bound = (t: number) =>
    kind === 'constant'
      ? orThrow(thm41MseBound({ q: c.q, sigma1, sigma2, eta, mse0, t }))
      : orThrow(thm42MseBound({ q: c.q, sigma1, sigma2, beta, gamma, mse0, t }))
  const fx = { problem: P } as unknown as Fixture
  const maps = lowerAffineMaps(fx, lambda, enumerateBatches(P.nSamples, b, replace))
  const exactCurve = exactAffineMse(maps, wStar, new Float64Array(P.dim), (t) => schedule.at(t), checkpoints[checkpoints.length - 1]!)
  const errs = sgdSquaredErrors(P, lambda, wStar, schedule, b, replace, checkpoints, N, fixtureRng(kind === 'constant' ? 41 : 42))
  return {
    name: `library quadratic (d=3, n=6, b=2, q=${c.q.toFixed(2)})`,
    theorem: kind === 'constant' ? 'Thm 4.1' : 'Thm 4.2',
    rows: mcRows(errs, checkpoints, bound),
    exact: checkpoints.map((t) => exactCurve[t]!),
    constants: { q: c.q, sigma1, sigma2, eta, beta, gamma, mse0 },
  }
}

/**
 * The lower iteration on the logistic regression (Monte Carlo only: Φ̂ is not affine):
 * 'thm41': Thm 4.3's σ₁, σ₂ (exact σ₁, L_Φ̂ = maxᵢ max|eig(I − α∇²ℓ̂ᵢ)|), η = 1/(1+σ₂);
 * 'thm42': the same constants, β = 2/(1−q²), γ = β(1+σ₂);
 * 'cor41': Cor 4.1 with α = 2/(L+τ) and Remark 4.2's σ₁′ (σ₂′ = 0), η = 1 — plain SGD with
 * the optimal step, which Thm 4.3's σ₂ would not allow.
 */
export const lowerLogistic = (kind: 'thm41' | 'thm42' | 'cor41', N = 400): LowerExperiment => {
  const fx = sidLogistic()
  const P = fx.problem
  const lambda = LOGISTIC_LAMBDA
  const b = 3
  const replace = false
  const wStar = fx.solution(lambda)
  const c = fx.constants(lambda)
  const mse0 = squaredDistance(new Float64Array(P.dim), wStar)
  const s1 = orThrow(sigma1Exact(P, lambda, wStar, b, replace))
  const { sigma1, sigma2 } = orThrow(thm43Sigmas({ varianceAtFixedPoint: s1 / 2, LThat: c.LPhiHat, q: c.q }))
  const checkpoints = [0, 3, 10, 30, 100, 300]
  let schedule: Schedule
  let bound: (t: number) => number
  let constants: Record<string, number> = { q: c.q, sigma1, sigma2, mse0 }
  if (kind === 'cor41') {
    let msq = 0 // (1/n) Σᵢ ‖xᵢ‖²
    for (let i = 0; i < fx.X.data.length; i++) msq += fx.X.data[i]! ** 2 / fx.X.rows
    const { sigma1p } = orThrow(remark42Sigma1p({ lipPsi: 1, meanSquaredNorm: msq, loss: 'mean', n: P.nSamples, batch: { b, replace } }))
    schedule = constantOrThrow(1)
    bound = (t) => orThrow(cor41Bound({ alphaChoice: '2/(L+tau)', tau: c.tau, L: c.L, sigma1p, sigma2p: 0, eta: 1, mse0, t })).bound
    constants = { ...constants, sigma1p, eta: 1 }
  } else if (kind === 'thm41') {
    const eta = 1 / (1 + sigma2)
    schedule = constantOrThrow(eta)
    bound = (t) => orThrow(thm41MseBound({ q: c.q, sigma1, sigma2, eta, mse0, t }))
    constants = { ...constants, eta }
  } else {
    const beta = 2 / (1 - c.q * c.q)
    const gamma = beta * (1 + sigma2)
    schedule = decreasingOrThrow(beta, gamma)
    bound = (t) => orThrow(thm42MseBound({ q: c.q, sigma1, sigma2, beta, gamma, mse0, t }))
    constants = { ...constants, beta, gamma }
  }
  const errs = sgdSquaredErrors(P, lambda, wStar, schedule, b, replace, checkpoints, N, fixtureRng(kind === 'thm41' ? 51 : kind === 'thm42' ? 52 : 53))
  return {
    name: `ridge logistic (p=3, n=12, b=3, q=${c.q.toFixed(2)})`,
    theorem: kind === 'cor41' ? 'Cor 4.1 + Remark 4.2' : kind === 'thm41' ? 'Thm 4.1' : 'Thm 4.2',
    rows: mcRows(errs, checkpoints, bound),
    constants,
  }
}

// ─── SID (Algorithm 1): Thm 3.1, 3.4 with the rates of Thm 5.1 ───────────────────────────────

/** What a SID experiment reports at one (t, k). */
export interface SidRow {
  readonly t: number
  readonly k: number
  readonly bias: number
  readonly biasUpper: number
  readonly biasBound: number
  readonly mse: number
  readonly mseUpper: number
  readonly mseLower: number
  readonly mseBound: number
}

export interface SidExperiment {
  readonly name: string
  readonly rows: ReadonlyArray<SidRow>
  readonly constants: Record<string, number>
  /** The estimates themselves, per (t, k) (for the cross-checks). */
  readonly grads: ReadonlyArray<ReadonlyArray<Vec>>
}

/** The SID constants of a fixture at λ: Thm 4.3's σ's, exact σ₁ and m₂ (Frobenius), and the fixture's SidConstants. */
export const sidConstants = (fx: Fixture, lambda: RVec, b: number): SidConstants & { sigma1: number; sigma2: number; m2: number; wNorm: number } => {
  const P = fx.problem
  const c = fx.constants(lambda)
  const wStar = fx.solution(lambda)
  const s1 = orThrow(sigma1Exact(P, lambda, wStar, b, false))
  const { sigma1, sigma2 } = orThrow(thm43Sigmas({ varianceAtFixedPoint: s1 / 2, LThat: c.LPhiHat, q: c.q }))
  // ∂₂Φ̂ does not depend on w for the quadratic (m₂ exact); for the logistic it is −αw on every
  // batch, so its variance is 0 at every w (separable, eq. 15).
  const m2 = orThrow(m2At(P, wStar, lambda, b, false))
  return { ...c, sigma1, sigma2, m2, wNorm: euclideanNorm(wStar) }
}

export interface SidRunOptions {
  readonly schedule: 'decreasing' | 'constant'
  readonly checkpoints: ReadonlyArray<number>
  readonly N: number
  readonly b?: number
  readonly seedBase?: number
  /** ρ(t) to use in the bounds instead of Thm 5.1's (e.g. the exact lower MSE). */
  readonly rho?: (t: number) => number
}

/**
 * Run the library's `sid` N times (seeds seedBase..seedBase+N−1) with sgd and
 * stochasticFixedPoint (t = k at each checkpoint, w₀ = v₀ = 0, one final draw of size b without
 * replacement) and compare with Thm 3.1(ii) and Thm 3.4, where ρ, σ are Thm 5.1's (σ uniform in
 * w through ‖∇₁E‖ ≤ L_E) unless `rho` is given. Steps: β/(γ+i), β = 2/(1−q²), γ = β(1+σ₂) for
 * both solvers (Thm 5.1), or the constant 1/(1+σ₂) (no bound is asserted then: Thm 5.1 is for
 * decreasing steps).
 */
export const sidExperiment = (name: string, fx: Fixture, lambda: RVec, o: SidRunOptions): SidExperiment => {
  const b = o.b ?? 2
  const k = sidConstants(fx, lambda, b)
  const beta = 2 / (1 - k.q * k.q)
  const gamma = beta * (1 + k.sigma2)
  const schedule = o.schedule === 'decreasing' ? decreasingOrThrow(beta, gamma) : constantOrThrow(1 / (1 + k.sigma2))
  const rates = orThrow(thm51Rates({ q: k.q, LPhiHat: k.LPhiHat, beta, gamma, wNorm: k.wNorm, sigma1: k.sigma1, gradUpperNorm: k.LE }))
  const truth = fx.hypergradient(lambda)
  const lower = sgd({ schedule, batchSize: b })
  const linear = stochasticFixedPoint({ schedule, batchSize: b })
  const rows: SidRow[] = []
  const allGrads: Vec[][] = []
  for (const t of o.checkpoints) {
    const grads: Vec[] = []
    const errs = new Float64Array(o.N)
    for (let i = 0; i < o.N; i++) {
      const r = orThrow(sid(fx.problem, lambda, { lower, linear, t, k: t, seed: (o.seedBase ?? 1000) + i, finalSamples: 'one', batchSize: b }))
      if (r.status === 'diverged') throw new Error(`sid diverged at t = ${t}, run ${i}`)
      grads.push(r.gradient)
      errs[i] = squaredDistance(r.gradient, truth)
    }
    allGrads.push(grads)
    const rho = o.rho === undefined ? rates.rho(t) : o.rho(t)
    const sigma = rates.sigma(t)
    const common = { LPhi: k.LPhi, nu2: k.nu2, rho, sigma }
    const biasB = orThrow(thm31Bias({ ...common, mu1: k.mu1, mu2: k.mu2, nu1: k.nu1, LE: k.LE, q: k.q })).bias
    const mseB = orThrow(thm34MseBound({ ...common, m2: k.m2, LE: k.LE, q: k.q, mu1: k.mu1, mu2: k.mu2, nu1: k.nu1 }))
    rows.push({
      t,
      k: t,
      bias: biasEstimate(grads, truth),
      biasUpper: biasUpper(grads, truth),
      biasBound: biasB,
      mse: mean(errs),
      mseUpper: upperMean(errs),
      mseLower: lowerMean(errs),
      mseBound: mseB,
    })
  }
  return { name, rows, grads: allGrads, constants: { q: k.q, sigma1: k.sigma1, sigma2: k.sigma2, m2: k.m2, LE: k.LE, LPhi: k.LPhi, LPhiHat: k.LPhiHat, beta, gamma } }
}

/** The exact E‖wₜ − w(λ)‖² of the library's sgd on an affine fixture (for ρ(t) = the truth). */
export const exactLowerCurve = (fx: Fixture, lambda: RVec, schedule: Schedule, b: number, T: number): Float64Array => {
  const maps = lowerAffineMaps(fx, lambda, enumerateBatches(fx.problem.nSamples, b, false))
  return exactAffineMse(maps, fx.solution(lambda), new Float64Array(fx.problem.dim), (t) => schedule.at(t), T)
}

/** The decreasing schedule Thm 5.1 prescribes for a fixture (β = 2/(1−q²), γ = β(1+σ₂)). */
export const thm51Schedule = (fx: Fixture, lambda: RVec, b: number): Schedule => {
  const k = sidConstants(fx, lambda, b)
  const beta = 2 / (1 - k.q * k.q)
  return decreasingOrThrow(beta, beta * (1 + k.sigma2))
}
