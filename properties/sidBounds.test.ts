/**
 * The SID paper's theorems checked against the library's stochastic solvers on test beds whose
 * constants are known (properties/sidFixtures.ts, the library's quadratic), by exact second
 * moments where the map is affine and by Monte Carlo over independent seeds otherwise.
 *
 * Monte Carlo assertions compare a bound with the ONE-SIDED UPPER confidence limit of the
 * sample mean at nominal level 1 − 1e-6 (normal approximation, sample standard deviation):
 * passing means "the mean lies below the bound" is confirmed at that level. Two-sided limits at
 * the same level are used where the assertion is an equality (Monte Carlo against an exact
 * value) and lower limits where it is a strict separation. The seeds are fixed, so every run
 * is reproducible; docs/theory/sid.md explains the choice and its limits.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { mseFloor, remark42Sigma1p, thm31Bias, thm41MseBound, thm41Plateau, thm42MseBound, thm43Sigmas, thm51Rates } from '../src/bounds/sid.js'
import { batchMeanVariance, m2At, meanConfidenceInterval, normalQuantile, perSampleJacobianNorm, varianceOfMap } from '../src/bounds/variance.js'
import { orThrow } from '../src/errors.js'
import { sid } from '../src/hypergrad/sid.js'
import { choleskySolve, cholesky, denseOf, spectralNorm, type RVec, type Vec } from '../src/linalg/index.js'
import type { StochasticBilevelProblem } from '../src/problem/bilevel.js'
import { quadraticProblem } from '../src/problems/quadratic.js'
import { normals, split } from '../src/random/rng.js'
import { decreasingOrThrow } from '../src/schedule/schedule.js'
import { stochasticFixedPoint } from '../src/solvers/linear/stochasticFixedPoint.js'
import { sgd } from '../src/solvers/lower/sgd.js'
import {
  CONFIDENCE,
  LOGISTIC_LAMBDA,
  LQ_LAMBDA,
  SQ_LAMBDA,
  biasUpper,
  exactLowerCurve,
  libraryQuadratic,
  lowerLogistic,
  lowerQuadratic,
  sidConstants,
  sidExperiment,
  sidLogistic,
  sidQuadratic,
  thm51Schedule,
} from './sidExperiments.js'
import {
  enumerateBatches,
  exactAffineMse,
  finiteSumQuadratic,
  fixtureRng,
  inlineSid,
  lowerAffineMaps,
  squaredDistance,
  type Fixture,
} from './sidFixtures.js'
import { estimateOf } from '../src/hypergrad/fixtures.test-util.js'

/** Numbers spread evenly over [min, max] (fc.double would mostly draw values near 0 and denormals). */
const spread = (min: number, max: number) => fc.integer({ min: 0, max: 1 << 20 }).map((i) => min + ((max - min) * i) / (1 << 20))

/** Relative slack for comparing two computed numbers that may coincide (t = 0: bound = MSE₀). */
const TIGHT = 1 + 1e-12

const randomPoints = (seed: number, count: number, d: number, centre: RVec, scale: number): Vec[] => {
  const [z] = normals(fixtureRng(seed), count * d)
  return Array.from({ length: count }, (_, i) => Float64Array.from(z.subarray(i * d, (i + 1) * d), (x, j) => centre[j]! + scale * x))
}

const quadNonSep = sidQuadratic(false)
const quadSep = sidQuadratic(true)
const logistic = sidLogistic()
const libQuad = libraryQuadratic()

// ─── the test beds are what they claim ───────────────────────────────────────────────────────

describe('test beds: closed forms and constants', () => {
  const beds: Array<[string, Fixture, RVec]> = [
    ['quadratic (non-separable)', quadNonSep, SQ_LAMBDA],
    ['quadratic (separable)', quadSep, SQ_LAMBDA],
    ['logistic', logistic, LOGISTIC_LAMBDA],
  ]
  for (const [name, fx, lambda] of beds) {
    it(`${name}: w(λ) is the fixed point and ∇f(λ) matches central differences of f(λ) = E(w(λ), λ)`, () => {
      const P = fx.problem
      const w = fx.solution(lambda)
      expect(Math.sqrt(squaredDistance(P.phi(w, lambda), w))).toBeLessThan(1e-11)
      const g = fx.hypergradient(lambda)
      const h = 1e-5
      for (let j = 0; j < P.hyperDim; j++) {
        const lp = Float64Array.from(lambda)
        const lm = Float64Array.from(lambda)
        lp[j] = lp[j]! + h
        lm[j] = lm[j]! - h
        const fd = (P.upper(fx.solution(lp), lp) - P.upper(fx.solution(lm), lm)) / (2 * h)
        expect(g[j]!).toBeCloseTo(fd, 8)
      }
    })
    it(`${name}: q, L_Φ, L_Φ̂, ν₁, ν₂, μ₁, L_E hold at random points`, () => {
      const P = fx.problem
      const c = fx.constants(lambda)
      const wStar = fx.solution(lambda)
      const Jw = (w: RVec) => denseOf(P.dim, (u) => P.jvpW(w, lambda, u))
      const Jl = (w: RVec) => denseOf(P.hyperDim, (mu) => P.jvpLambda(w, lambda, mu), P.dim)
      expect(spectralNorm(Jl(wStar))).toBeCloseTo(c.LPhi, 10)
      const pts = randomPoints(7, 12, P.dim, wStar, 3)
      for (let i = 0; i < pts.length; i++) {
        const w1 = pts[i]!
        const w2 = pts[(i + 1) % pts.length]!
        const dw = Math.sqrt(squaredDistance(w1, w2))
        expect(spectralNorm(Jw(w1))).toBeLessThanOrEqual(c.q * TIGHT)
        expect(orThrow(perSampleJacobianNorm(P, w1, lambda))).toBeLessThanOrEqual(c.LPhiHat * TIGHT)
        const j1 = Jw(w1)
        const j2 = Jw(w2)
        expect(spectralNorm({ rows: P.dim, cols: P.dim, data: j1.data.map((x, k) => x - j2.data[k]!) })).toBeLessThanOrEqual(c.nu1 * dw * TIGHT + 1e-13)
        const l1 = Jl(w1)
        const l2 = Jl(w2)
        expect(spectralNorm({ rows: P.dim, cols: P.hyperDim, data: l1.data.map((x, k) => x - l2.data[k]!) })).toBeLessThanOrEqual(c.nu2 * dw * TIGHT + 1e-13)
        const g1 = P.gradUpperW(w1, lambda)
        const g2 = P.gradUpperW(w2, lambda)
        expect(Math.sqrt(squaredDistance(g1, g2))).toBeLessThanOrEqual(c.mu1 * dw * TIGHT)
        expect(Math.sqrt(squaredDistance(g1, new Float64Array(P.dim)))).toBeLessThanOrEqual(c.LE * TIGHT)
        // μ₂ = 0: ∇₂E does not depend on w.
        expect(Math.sqrt(squaredDistance(P.gradUpperLambda(w1, lambda), P.gradUpperLambda(w2, lambda)))).toBeLessThanOrEqual(c.mu2 * dw + 1e-15)
      }
    })
  }
})

// ─── Assumption B(i)–(ii): unbiasedness, exactly ─────────────────────────────────────────────

describe('unbiasedness by enumeration: E[Φ̂] = Φ, E[∂₁Φ̂] = ∂₁Φ, E[∂₂Φ̂] = ∂₂Φ over every batch', () => {
  const problems: Array<[string, StochasticBilevelProblem, RVec]> = [
    ['quadratic (non-separable)', quadNonSep.problem, SQ_LAMBDA],
    ['logistic', logistic.problem, LOGISTIC_LAMBDA],
    ['library quadratic', orThrow(quadraticProblem({ dim: 3, hyperDim: 2, nSamples: 5, seed: 9 })), LQ_LAMBDA],
  ]
  for (const [name, P, lambda] of problems) {
    it(name, () => {
      const vec = fc.array(spread(-3, 3), { minLength: P.dim, maxLength: P.dim }).map((a) => Float64Array.from(a))
      fc.assert(
        fc.property(vec, vec, vec, fc.integer({ min: 1, max: 3 }), fc.boolean(), (w, u, v, b, replace) => {
          const batches = enumerateBatches(P.nSamples, b, replace)
          const avg = (f: (B: Int32Array) => Vec): Vec => {
            const out = new Float64Array(f(batches[0]!).length)
            for (const B of batches) {
              const x = f(B)
              for (let j = 0; j < out.length; j++) out[j] = out[j]! + x[j]! / batches.length
            }
            return out
          }
          const close = (a: RVec, e: RVec) => {
            for (let j = 0; j < a.length; j++) expect(a[j]!).toBeCloseTo(e[j]!, 11)
          }
          close(avg((B) => P.phiHat(w, lambda, B)), P.phi(w, lambda))
          close(avg((B) => P.jvpWHat(w, lambda, B, u)), P.jvpW(w, lambda, u))
          close(avg((B) => P.vjpWHat(w, lambda, B, v)), P.vjpW(w, lambda, v))
          close(avg((B) => P.vjpLambdaHat(w, lambda, B, v)), P.vjpLambda(w, lambda, v))
        }),
        { numRuns: 8 },
      )
    })
  }
})

// ─── Assumption D(iii) through Thm 4.3, and Remark 4.2 ───────────────────────────────────────

describe('Thm 4.3: V[Φ̂(w)] ≤ σ₁ + σ₂‖Φ(w) − w‖² exactly, at random w', () => {
  const cases: Array<[string, StochasticBilevelProblem, RVec, RVec, number, number]> = (() => {
    const c = libQuad.constants(LQ_LAMBDA)
    const lc = logistic.constants(LOGISTIC_LAMBDA)
    return [
      ['library quadratic', libQuad, LQ_LAMBDA, libQuad.solution(LQ_LAMBDA), c.q, c.LPhiHat],
      ['logistic', logistic.problem, LOGISTIC_LAMBDA, logistic.solution(LOGISTIC_LAMBDA), lc.q, lc.LPhiHat],
    ]
  })()
  for (const [name, P, lambda, wStar, q, LHat] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), spread(0.01, 30), (s, b, replace, scale) => {
          const V0 = orThrow(varianceOfMap(P, wStar, lambda, b, replace))
          const { sigma1, sigma2 } = orThrow(thm43Sigmas({ varianceAtFixedPoint: V0, LThat: LHat, q }))
          for (const w of randomPoints(s, 4, P.dim, wStar, scale)) {
            const V = orThrow(varianceOfMap(P, w, lambda, b, replace))
            const r2 = squaredDistance(P.phi(w, lambda), w)
            expect(V).toBeLessThanOrEqual((sigma1 + sigma2 * r2) * TIGHT)
          }
        }),
        { numRuns: 10 },
      )
    })
  }
  it("Remark 4.2 (logistic): V[∇ℓ̂_B(w)] ≤ Lip(ψ)²E‖x‖² × batch factor at every w (σ₂' = 0)", () => {
    const P = logistic.problem
    const lower = P.lower
    const X = logistic.X
    let msq = 0
    for (let i = 0; i < X.rows * X.cols; i++) msq += X.data[i]! ** 2 / X.rows
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), spread(0.01, 100), (s, b, replace, scale) => {
        const { sigma1p } = orThrow(remark42Sigma1p({ lipPsi: 1, meanSquaredNorm: msq, loss: 'mean', n: P.nSamples, batch: { b, replace } }))
        for (const w of randomPoints(s, 3, P.dim, new Float64Array(P.dim), scale)) {
          const per = Array.from({ length: P.nSamples }, (_, i) => lower.grad(w, LOGISTIC_LAMBDA, Int32Array.of(i)))
          expect(batchMeanVariance(per, b, replace)).toBeLessThanOrEqual(sigma1p * TIGHT)
        }
      }),
      { numRuns: 10 },
    )
  })
})

// ─── Thm 4.1 and 4.2, exactly (affine maps: second moments over every batch) ─────────────────

describe('Thm 4.1 / 4.2 against the exact E‖wₜ − w*‖² of iteration (17) on the library quadratic', () => {
  it('for random problems, batch sizes, sampling modes and admissible steps, at every t ≤ 120', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        spread(0.05, 1),
        spread(1.05, 3),
        spread(1, 3),
        fc.boolean(),
        (s, b, replace, etaFrac, betaFactor, gammaFactor, separable) => {
          const P = orThrow(quadraticProblem({ dim: 2, hyperDim: 1, nSamples: 4, seed: s, tau: 1, L: 1 + 3 * etaFrac, separable }))
          const lambda = Float64Array.of(0.5)
          const wStar = P.solution(lambda)
          const c = P.constants(lambda)
          const V0 = orThrow(varianceOfMap(P, wStar, lambda, b, replace))
          const { sigma1, sigma2 } = orThrow(thm43Sigmas({ varianceAtFixedPoint: V0, LThat: c.LPhiHat, q: c.q }))
          const mse0 = squaredDistance(new Float64Array(2), wStar)
          const maps = lowerAffineMaps({ problem: P } as unknown as Fixture, lambda, enumerateBatches(4, b, replace))
          const T = 120
          const eta = etaFrac / (1 + sigma2)
          const constCurve = exactAffineMse(maps, wStar, new Float64Array(2), () => eta, T)
          const beta = betaFactor / (1 - c.q * c.q)
          const gamma = beta * (1 + sigma2) * gammaFactor
          const decCurve = exactAffineMse(maps, wStar, new Float64Array(2), (t) => beta / (gamma + t), T)
          for (let t = 0; t <= T; t++) {
            expect(constCurve[t]!).toBeLessThanOrEqual(orThrow(thm41MseBound({ q: c.q, sigma1, sigma2, eta, mse0, t })) * TIGHT)
            expect(decCurve[t]!).toBeLessThanOrEqual(orThrow(thm42MseBound({ q: c.q, sigma1, sigma2, beta, gamma, mse0, t })) * TIGHT)
          }
        },
      ),
      { numRuns: 20 },
    )
  })
})

// ─── Thm 4.1, 4.2, Cor 4.1 by Monte Carlo with the library's sgd ─────────────────────────────

describe('Thm 4.1 / 4.2 / Cor 4.1: Monte Carlo E‖wₜ − w*‖² of the library sgd lies below the bound', () => {
  for (const kind of ['constant', 'decreasing'] as const) {
    it(`library quadratic, ${kind} step: the Monte Carlo mean agrees with the exact MSE, and both lie below the bound`, () => {
      const e = lowerQuadratic(kind)
      e.rows.forEach((r, i) => {
        const exact = e.exact![i]!
        expect(exact).toBeLessThanOrEqual(r.bound * TIGHT)
        // Two-sided: the exact value lies in the interval at level 1 − 1e-6 (unless all draws coincide, t = 0).
        if (r.t > 0) {
          const half = (r.upper - r.observed) * (normalQuantile(1 - (1 - CONFIDENCE) / 2) / normalQuantile(CONFIDENCE))
          expect(Math.abs(r.observed - exact)).toBeLessThanOrEqual(half)
        } else expect(r.observed).toBeCloseTo(exact, 12)
        expect(r.upper).toBeLessThanOrEqual(r.bound * TIGHT)
      })
    })
  }
  for (const kind of ['thm41', 'thm42', 'cor41'] as const) {
    it(`logistic regression, ${kind}: the upper confidence limit of the mean lies below the bound at every checkpoint`, () => {
      const e = lowerLogistic(kind)
      for (const r of e.rows) expect(r.upper).toBeLessThanOrEqual(r.bound * TIGHT)
    })
  }
})

// ─── SID: Thm 3.1 (bias) and Thm 3.4 (MSE) with the rates of Thm 5.1 ─────────────────────────

describe('SID (Algorithm 1, the library sid): bias and MSE below Thm 3.1(ii) and Thm 3.4', () => {
  it('quadratic, non-separable (m₂ > 0), Thm 5.1 rates', () => {
    const e = sidExperiment('quadratic', quadNonSep, SQ_LAMBDA, { schedule: 'decreasing', checkpoints: [0, 10, 60, 200], N: 300 })
    expect(e.constants['m2']!).toBeGreaterThan(0)
    for (const r of e.rows) {
      expect(r.biasUpper).toBeLessThanOrEqual(r.biasBound)
      expect(r.mseUpper).toBeLessThanOrEqual(r.mseBound)
    }
  })
  it('quadratic, with ρ(t) the exact E‖wₜ − w*‖² (Assumption C holds with equality) and σ(k) from Thm 5.1', () => {
    const schedule = thm51Schedule(quadNonSep, SQ_LAMBDA, 2)
    const curve = exactLowerCurve(quadNonSep, SQ_LAMBDA, schedule, 2, 200)
    const e = sidExperiment('quadratic', quadNonSep, SQ_LAMBDA, { schedule: 'decreasing', checkpoints: [10, 60, 200], N: 300, rho: (t) => curve[t]!, seedBase: 5000 })
    for (const r of e.rows) {
      expect(r.biasUpper).toBeLessThanOrEqual(r.biasBound)
      expect(r.mseUpper).toBeLessThanOrEqual(r.mseBound)
    }
  })
  it('logistic regression (ν₁, ν₂ > 0; separable), Thm 5.1 rates', () => {
    const e = sidExperiment('logistic', logistic, LOGISTIC_LAMBDA, { schedule: 'decreasing', checkpoints: [0, 10, 60, 200], N: 300, b: 3 })
    for (const r of e.rows) {
      expect(r.biasUpper).toBeLessThanOrEqual(r.biasBound)
      expect(r.mseUpper).toBeLessThanOrEqual(r.mseBound)
    }
  })
  it('Thm 3.1(i): at fixed lower iterates w, ‖E[∇̂f | w] − ∇f‖ ≤ c₁Δ̂ + L_Φ√σ(k) + ν₂Δ̂√σ(k)', () => {
    for (const [fx, lambda, b] of [[quadNonSep, SQ_LAMBDA, 2], [logistic, LOGISTIC_LAMBDA, 3]] as const) {
      const k = sidConstants(fx, lambda, b)
      const beta = 2 / (1 - k.q * k.q)
      const gamma = beta * (1 + k.sigma2)
      const schedule = decreasingOrThrow(beta, gamma)
      const rates = orThrow(thm51Rates({ q: k.q, LPhiHat: k.LPhiHat, beta, gamma, wNorm: k.wNorm, sigma1: k.sigma1, gradUpperNorm: k.LE }))
      const truth = fx.hypergradient(lambda)
      const wStar = fx.solution(lambda)
      const linear = stochasticFixedPoint({ schedule, batchSize: b })
      const lower = sgd({ schedule, batchSize: b })
      for (const [w, K] of [[randomPoints(3, 1, fx.problem.dim, wStar, 0.3)[0]!, 30], [wStar, 100]] as const) {
        const grads: Vec[] = []
        for (let i = 0; i < 300; i++)
          grads.push(estimateOf(sid(fx.problem, lambda, { lower, linear, t: 0, k: K, w0: w, seed: 9000 + i, finalSamples: 'one', batchSize: b })).gradient)
        const bound = orThrow(thm31Bias({ LPhi: k.LPhi, nu2: k.nu2, rho: 0, sigma: rates.sigma(K), mu1: k.mu1, mu2: k.mu2, nu1: k.nu1, LE: k.LE, q: k.q }))
        expect(biasUpper(grads, truth)).toBeLessThanOrEqual(bound.conditional(Math.sqrt(squaredDistance(w, wStar))))
      }
    }
  })
  it('the library sid and an independent inline Algorithm 1 have the same mean and MSE (two-sample, level 1 − 1e-6)', () => {
    const k = sidConstants(quadNonSep, SQ_LAMBDA, 2)
    const beta = 2 / (1 - k.q * k.q)
    const gamma = beta * (1 + k.sigma2)
    const schedule = decreasingOrThrow(beta, gamma)
    const truth = quadNonSep.hypergradient(SQ_LAMBDA)
    const N = 300
    const t = 25
    const lib: Vec[] = []
    for (let i = 0; i < N; i++)
      lib.push(estimateOf(sid(quadNonSep.problem, SQ_LAMBDA, { lower: sgd({ schedule, batchSize: 2 }), linear: stochasticFixedPoint({ schedule, batchSize: 2 }), t, k: t, seed: 20000 + i, batchSize: 2 })).gradient)
    const streams = split(fixtureRng(31), N)
    const mine = streams.map((r) => inlineSid(quadNonSep, SQ_LAMBDA, { t, k: t, spec: { b: 2, replace: false }, lowerStep: (i) => schedule.at(i), linearStep: (i) => schedule.at(i) }, r).grad)
    const m = truth.length
    // m coordinates and the MSE: Bonferroni over m + 1 two-sided comparisons.
    const z = normalQuantile(1 - (1 - CONFIDENCE) / (2 * (m + 1)))
    const compare = (a: number[], b: number[]) => {
      const ca = orThrow(meanConfidenceInterval(a))
      const cb = orThrow(meanConfidenceInterval(b))
      expect(Math.abs(ca.estimate - cb.estimate)).toBeLessThanOrEqual(z * Math.hypot(ca.stdError, cb.stdError))
    }
    for (let j = 0; j < m; j++) compare(lib.map((g) => g[j]!), mine.map((g) => g[j]!))
    compare(lib.map((g) => squaredDistance(g, truth)), mine.map((g) => squaredDistance(g, truth)))
  })
})

// ─── separable vs not: vanishing MSE, plateaus, and the floor (14) ───────────────────────────

describe('plateaus and floors', () => {
  it('lower iterate, constant step: the exact MSE settles at a positive plateau ≤ ησ₁/(1−q²) (Thm 4.1), within the band derived for equal Hᵢ', () => {
    // With Hᵢ = H for all i, Φ̂ = Āw + c_ζ and the stationary MSE is Σₖ η² sₖ/(1 − bₖ²) with
    // bₖ = 1 − η(1 − aₖ) ∈ [1 − η(1+q), 1 − η(1−q)], aₖ the eigenvalues of Ā: so, for η ≤ 1/(1+q),
    // it is at least ηV/((1+q)(2 − η(1+q))), V = V[Φ̂(w*)] = σ₁/2.
    const fx = finiteSumQuadratic({ dim: 3, hyperDim: 2, nSamples: 6, seed: 4, heterogeneity: 0, separable: true })
    const lambda = SQ_LAMBDA
    const P = fx.problem
    const c = fx.constants(lambda)
    const wStar = fx.solution(lambda)
    const V = orThrow(varianceOfMap(P, wStar, lambda, 2, false))
    const { sigma1, sigma2 } = orThrow(thm43Sigmas({ varianceAtFixedPoint: V, LThat: c.LPhiHat, q: c.q }))
    const eta = 1 / (1 + sigma2)
    expect(eta).toBeLessThanOrEqual(1 / (1 + c.q))
    const curve = exactAffineMse(lowerAffineMaps(fx, lambda, enumerateBatches(6, 2, false)), wStar, new Float64Array(3), () => eta, 3000)
    const limit = curve[3000]!
    expect(Math.abs(curve[1500]! - limit)).toBeLessThan(1e-9 * limit) // settled
    const plateau = orThrow(thm41Plateau({ q: c.q, sigma1, sigma2, eta }))
    expect(limit).toBeLessThanOrEqual(plateau)
    expect(limit).toBeGreaterThanOrEqual(((eta * V) / ((1 + c.q) * (2 - eta * (1 + c.q)))) * (1 - 1e-9))
    // Decreasing steps (Thm 4.2) keep going down, below the constant-step plateau.
    const beta = 2 / (1 - c.q * c.q)
    const gamma = beta * (1 + sigma2)
    const dec = exactAffineMse(lowerAffineMaps(fx, lambda, enumerateBatches(6, 2, false)), wStar, new Float64Array(3), (t) => beta / (gamma + t), 3000)
    expect(dec[3000]!).toBeLessThan(dec[750]! / 2)
    expect(dec[3000]!).toBeLessThan(limit)
    expect(dec[3000]!).toBeLessThanOrEqual(orThrow(thm42MseBound({ q: c.q, sigma1, sigma2, beta, gamma, mse0: curve[0]!, t: 3000 })))
  })
  it('separable Φ̂ (eq. 15): m₂ = 0, the floor (14) is 0; decreasing steps drive the SID MSE down, constant steps stall above it', () => {
    const k = sidConstants(quadSep, SQ_LAMBDA, 2)
    expect(k.m2).toBeLessThan(1e-25)
    expect(orThrow(mseFloor({ m2: 0, LE: k.LE, q: k.q }))).toBe(0)
    const dec = sidExperiment('separable', quadSep, SQ_LAMBDA, { schedule: 'decreasing', checkpoints: [25, 200, 1600], N: 300, seedBase: 30000 })
    const cst = sidExperiment('separable', quadSep, SQ_LAMBDA, { schedule: 'constant', checkpoints: [25, 200, 1600], N: 300, seedBase: 40000 })
    type Row = (typeof dec.rows)[0]
    const [d25, d200, d1600] = dec.rows as [Row, Row, Row]
    const [, c200, c1600] = cst.rows as [Row, Row, Row]
    expect(d200.mseUpper).toBeLessThan(d25.mseLower / 10) // Stoch dec keeps converging …
    expect(c1600.mseLower).toBeGreaterThan(c200.mseLower / 4) // … Stoch const has reached its plateau …
    expect(c1600.mseLower).toBeGreaterThan(d1600.mseUpper) // … and stays above Stoch dec.
    expect(d200.mseUpper).toBeLessThanOrEqual(d200.mseBound)
    expect(d1600.mseUpper).toBeLessThanOrEqual(d1600.mseBound)
  })
  it('non-separable Φ̂: the MSE does not vanish; it tends to E‖(∂₂Φ̂_B − ∂₂Φ)ᵀv*‖², which lies below the floor 2m₂L_E²/(1−q)²', () => {
    const P = quadNonSep.problem
    const lambda = SQ_LAMBDA
    const k = sidConstants(quadNonSep, lambda, 2)
    const wStar = quadNonSep.solution(lambda)
    // v* = (I − ∂₁Φᵀ)⁻¹∇₁E(w*) by a dense solve (I − ∂₁Φᵀ = αH̄ is symmetric positive definite).
    const M = denseOf(P.dim, (v) => Float64Array.from(v, (x, j) => x - P.vjpW(wStar, lambda, v)[j]!))
    const vStar = choleskySolve(cholesky(M)!, P.gradUpperW(wStar, lambda))
    const full = P.vjpLambda(wStar, lambda, vStar)
    const batches = enumerateBatches(P.nSamples, 2, false)
    const limit = batches.reduce((s, B) => s + squaredDistance(P.vjpLambdaHat(wStar, lambda, B, vStar), full), 0) / batches.length
    expect(limit).toBeGreaterThan(0)
    expect(limit).toBeLessThanOrEqual(orThrow(m2At(P, wStar, lambda, 2, false)) * squaredDistance(vStar, new Float64Array(P.dim)) * TIGHT)
    expect(limit).toBeLessThanOrEqual(orThrow(mseFloor({ m2: k.m2, LE: k.LE, q: k.q })))
    const e = sidExperiment('non-separable', quadNonSep, lambda, { schedule: 'decreasing', checkpoints: [400], N: 300, seedBase: 50000 })
    const r = e.rows[0]!
    // At t = k = 400 the solver errors are small (Thm 5.1): the MSE is near the limit, far from 0.
    expect(r.mseLower).toBeGreaterThan(0.5 * limit)
    expect(r.mseUpper).toBeLessThan(2 * limit)
  })
})
