import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { enumerateBatches, finiteSumQuadratic, fixtureRng, smallLogistic } from '../../properties/sidFixtures.js'
import { orThrow } from '../errors.js'
import { denseOf, matrix, spectralNorm, type RVec } from '../linalg/index.js'
import type { StochasticBilevelProblem } from '../problem/bilevel.js'
import { normals, split } from '../random/rng.js'
import { thm43Sigmas } from './sid.js'
import {
  batchMeanVariance,
  batchVarianceFactor,
  m2At,
  m2MonteCarlo,
  meanConfidenceInterval,
  monteCarloVariance,
  normalQuantile,
  perSampleJacobianNorm,
  sigma1Exact,
  sigma1MonteCarlo,
  sigma2Empirical,
  varianceOfJacobianTProduct,
  varianceOfMap,
  varianceOfMapMonteCarlo,
} from './variance.js'

/** E‖X_B − EX_B‖² by listing every equally likely batch B (the independent truth). */
const enumeratedVariance = (n: number, b: number, replace: boolean, x: (B: Int32Array) => RVec): number => {
  const batches = enumerateBatches(n, b, replace)
  const vals = batches.map(x)
  const d = vals[0]!.length
  const mean = new Float64Array(d)
  for (const v of vals) for (let j = 0; j < d; j++) mean[j] = mean[j]! + v[j]! / vals.length
  let s = 0
  for (const v of vals) for (let j = 0; j < d; j++) s += (v[j]! - mean[j]!) ** 2
  return s / vals.length
}

const batchAverage = (xs: ReadonlyArray<RVec>) => (B: Int32Array): RVec => {
  const d = xs[0]!.length
  const out = new Float64Array(d)
  for (const i of B) for (let j = 0; j < d; j++) out[j] = out[j]! + xs[i]![j]! / B.length
  return out
}

const smallSpec = fc
  .integer({ min: 1, max: 6 })
  .chain((n) => fc.record({ n: fc.constant(n), replace: fc.boolean(), b: fc.integer({ min: 1, max: n }) }))
  .filter(({ n, b, replace }) => (replace ? n ** b : 1) <= 1296)

describe('exact variance of a batch average', () => {
  it('(1/b)((n−b)/(n−1)) s² without replacement and s²/b with replacement, as enumeration of every batch gives', () => {
    fc.assert(
      fc.property(smallSpec, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1e6 }), ({ n, b, replace }, d, s) => {
        const [z] = normals(fixtureRng(s), n * d)
        const xs = Array.from({ length: n }, (_, i) => z.subarray(i * d, (i + 1) * d))
        const exact = enumeratedVariance(n, b, replace, batchAverage(xs))
        expect(batchMeanVariance(xs, b, replace)).toBeCloseTo(exact, 10)
      }),
    )
  })
  it('the factor is 0 for a full batch without replacement and 1/b with replacement', () => {
    expect(batchVarianceFactor(5, 5, false)).toBe(0)
    expect(batchVarianceFactor(1, 1, false)).toBe(0)
    expect(batchVarianceFactor(5, 2, true)).toBe(0.5)
    expect(() => batchVarianceFactor(3, 4, false)).toThrow(RangeError)
    expect(() => batchMeanVariance([Float64Array.of(1), Float64Array.of(1, 2)], 1, true)).toThrow(RangeError)
  })
})

/** Numbers spread evenly over [min, max] (fc.double would mostly draw values near 0 and denormals). */
const spread = (min: number, max: number) => fc.integer({ min: 0, max: 1 << 20 }).map((i) => min + ((max - min) * i) / (1 << 20))

const quad = finiteSumQuadratic({ dim: 3, hyperDim: 2, nSamples: 5, seed: 11 })
const logi = smallLogistic({ nTrain: 5, features: 3, seed: 12 }, 0.5)
const vecArb = (d: number) => fc.array(spread(-3, 3), { minLength: d, maxLength: d }).map((a) => Float64Array.from(a))
const specArb = (n: number) => fc.record({ b: fc.integer({ min: 1, max: 3 }), replace: fc.boolean() }).filter(({ b }) => b <= n)

describe('problem-level exact constants agree with enumeration over every batch', () => {
  const cases: Array<[string, StochasticBilevelProblem, RVec]> = [
    ['quadratic', quad.problem, Float64Array.of(0.4, -0.3)],
    ['logistic', logi.problem, Float64Array.of(0.5)],
  ]
  for (const [name, P, lambda] of cases) {
    const n = P.nSamples
    it(`${name}: varianceOfMap, varianceOfJacobianTProduct and m2At`, () => {
      fc.assert(
        fc.property(vecArb(P.dim), vecArb(P.dim), specArb(n), (w, v, { b, replace }) => {
          const vm = orThrow(varianceOfMap(P, w, lambda, b, replace))
          expect(vm).toBeCloseTo(enumeratedVariance(n, b, replace, (B) => P.phiHat(w, lambda, B)), 10)
          const vj = orThrow(varianceOfJacobianTProduct(P, w, lambda, v, b, replace))
          expect(vj).toBeCloseTo(enumeratedVariance(n, b, replace, (B) => P.vjpWHat(w, lambda, B, v)), 10)
          // m₂ in the Frobenius norm: the variance of the flattened matrix ∂₂Φ̂_B …
          const flat = (B: Int32Array) => {
            const rows = denseOf(P.dim, (e) => P.vjpLambdaHat(w, lambda, B, e), P.hyperDim)
            return rows.data
          }
          const m2 = orThrow(m2At(P, w, lambda, b, replace))
          expect(m2).toBeCloseTo(enumeratedVariance(n, b, replace, flat), 10)
          // … which bounds the paper's spectral-norm variance E‖X_B − EX‖₂² from above.
          const batches = enumerateBatches(n, b, replace)
          const mats = batches.map(flat)
          const mean = new Float64Array(mats[0]!.length)
          for (const x of mats) for (let j = 0; j < mean.length; j++) mean[j] = mean[j]! + x[j]! / mats.length
          const spec =
            mats.reduce((s, x) => s + spectralNorm(matrix(P.hyperDim, P.dim, Float64Array.from(x, (xi, j) => xi - mean[j]!))) ** 2, 0) / mats.length
          expect(spec).toBeLessThanOrEqual(m2 * (1 + 1e-10) + 1e-14)
        }),
        { numRuns: 15 },
      )
    })
    it(`${name}: perSampleJacobianNorm bounds ‖∂₁Φ̂_B(w)‖ for every batch`, () => {
      fc.assert(
        fc.property(vecArb(P.dim), specArb(n), (w, { b, replace }) => {
          const L = orThrow(perSampleJacobianNorm(P, w, lambda))
          let maxSingle = 0
          for (let i = 0; i < n; i++) maxSingle = Math.max(maxSingle, spectralNorm(denseOf(P.dim, (u) => P.jvpWHat(w, lambda, Int32Array.of(i), u))))
          expect(L).toBeCloseTo(maxSingle, 12)
          for (const B of enumerateBatches(n, b, replace))
            expect(spectralNorm(denseOf(P.dim, (u) => P.jvpWHat(w, lambda, B, u)))).toBeLessThanOrEqual(L * (1 + 1e-12))
        }),
        { numRuns: 8 },
      )
    })
  }
  it('quadratic: perSampleJacobianNorm equals maxᵢ‖I − αHᵢ‖ computed from the matrices', () => {
    const L = orThrow(perSampleJacobianNorm(quad.problem, new Float64Array(3), Float64Array.of(0, 0)))
    expect(L).toBeCloseTo(quad.constants(Float64Array.of(0, 0)).LPhiHat, 12)
  })
  it('sigma2Empirical: the σ₂ it returns makes Assumption D(iii) hold at its points, and is below Thm 4.3', () => {
    const lambda = Float64Array.of(0.4, -0.3)
    const wStar = quad.solution(lambda)
    const s1 = orThrow(sigma1Exact(quad.problem, lambda, wStar, 2, false))
    const [z] = normals(fixtureRng(5), 3 * 20)
    const ws = Array.from({ length: 20 }, (_, i) => Float64Array.from(z.subarray(3 * i, 3 * i + 3), (x, j) => wStar[j]! + 2 * x))
    const s2 = orThrow(sigma2Empirical(quad.problem, lambda, s1, ws, 2, false))
    for (const w of ws) {
      const V = orThrow(varianceOfMap(quad.problem, w, lambda, 2, false))
      const phi = quad.problem.phi(w, lambda)
      const r2 = phi.reduce((s, x, j) => s + (x - w[j]!) ** 2, 0)
      expect(V).toBeLessThanOrEqual((s1 + s2 * r2) * (1 + 1e-12))
    }
    const c = quad.constants(lambda)
    const thm = orThrow(thm43Sigmas({ varianceAtFixedPoint: s1 / 2, LThat: c.LPhiHat, q: c.q }))
    expect(s2).toBeLessThanOrEqual(thm.sigma2)
  })
  it('returns typed errors for bad input', () => {
    const lambda = Float64Array.of(0.4, -0.3)
    const e1 = varianceOfMap(quad.problem, new Float64Array(2), lambda, 1, true)
    expect(E.isLeft(e1) && e1.left.kind).toBe('dimension')
    const e2 = varianceOfMap(quad.problem, new Float64Array(3), lambda, 6, false)
    expect(E.isLeft(e2) && e2.left.kind).toBe('domain')
    const e3 = m2At(quad.problem, new Float64Array(3), Float64Array.of(1), 1, true)
    expect(E.isLeft(e3)).toBe(true)
    const e4 = varianceOfMap(quad.problem, Float64Array.of(NaN, 0, 0), lambda, 1, true)
    expect(E.isLeft(e4)).toBe(true)
  })
})

describe('normal quantile and confidence intervals', () => {
  it('matches tabulated standard normal quantiles and is odd', () => {
    // Tabulated values (e.g. any statistics handbook): z_{0.975}, z_{0.995}, z_{0.999}, z_{1−1e-6}.
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 10)
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489, 10)
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232306167814, 10)
    expect(normalQuantile(1 - 1e-6)).toBeCloseTo(4.753424308822899, 8)
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12)
    fc.assert(fc.property(fc.constantFrom(1e-9, 1e-6, 1e-3, 0.01, 0.1, 0.3, 0.49), (p) => {
        expect(normalQuantile(p)).toBeCloseTo(-normalQuantile(1 - p), 7)
      }),
    )
    expect(() => normalQuantile(1)).toThrow(RangeError)
  })
  it('Φ(z_p) = p, checked by Simpson integration of the density', () => {
    for (const p of [0.6, 0.8, 0.9, 0.97, 0.999]) {
      const z = normalQuantile(p)
      const N = 2000
      const h = z / N
      let s = 0
      for (let i = 0; i <= N; i++) s += (i === 0 || i === N ? 1 : i % 2 ? 4 : 2) * Math.exp(-0.5 * (i * h) ** 2)
      expect(0.5 + (s * h) / 3 / Math.sqrt(2 * Math.PI)).toBeCloseTo(p, 10)
    }
  })
  it('a 90% two-sided interval for the mean of 30 normal draws covers the true mean in about 90% of 2000 repetitions', () => {
    // Binomial sd of the coverage over 2000 repetitions is √(0.9·0.1/2000) ≈ 0.0067; the band
    // ±0.035 is ≈ 5 sd (and allows the z-vs-t undercoverage at N = 30, ≈ 0.893).
    let covered = 0
    const streams = split(fixtureRng(77), 2000)
    for (const r of streams) {
      const [x] = normals(r, 30)
      const ci = orThrow(meanConfidenceInterval(x, { confidence: 0.9 }))
      if (ci.lower <= 0 && 0 <= ci.upper) covered++
    }
    expect(covered / 2000).toBeGreaterThan(0.865)
    expect(covered / 2000).toBeLessThan(0.935)
  })
  it('one-sided intervals are open on the other side; too few or non-finite draws are errors', () => {
    const up = orThrow(meanConfidenceInterval([1, 2, 3], { sides: 'upper', confidence: 0.95 }))
    expect(up.lower).toBe(-Infinity)
    expect(up.upper).toBeCloseTo(2 + normalQuantile(0.95) * Math.sqrt(1 / 3), 12)
    expect(E.isLeft(meanConfidenceInterval([1]))).toBe(true)
    expect(E.isLeft(meanConfidenceInterval([1, NaN, 2]))).toBe(true)
  })
})

describe('Monte Carlo variance estimators cover the exact values', () => {
  // Two-sided intervals at nominal level 1 − 1e-6 (normal approximation over 1500 pairs).
  const opts = { pairs: 1500, confidence: 1 - 1e-6 }
  const lambda = Float64Array.of(0.4, -0.3)
  const w = Float64Array.of(0.3, -1, 0.5)
  for (const [b, replace] of [[1, true], [2, false], [3, true]] as const) {
    it(`V[Φ̂(w)], σ₁ and m₂ with b = ${b}, replace = ${replace}`, () => {
      const exactV = orThrow(varianceOfMap(quad.problem, w, lambda, b, replace))
      const mc = orThrow(varianceOfMapMonteCarlo(quad.problem, w, lambda, b, replace, fixtureRng(100 + b), opts))
      expect(mc.lower).toBeLessThanOrEqual(exactV)
      expect(mc.upper).toBeGreaterThanOrEqual(exactV)
      expect(mc.stdError).toBeLessThan(0.2 * exactV) // the interval is informative
      const s1 = orThrow(sigma1MonteCarlo(quad.problem, lambda, w, b, replace, fixtureRng(200 + b), opts))
      expect(s1.lower).toBeLessThanOrEqual(2 * exactV)
      expect(s1.upper).toBeGreaterThanOrEqual(2 * exactV)
      const m2 = orThrow(m2At(quad.problem, w, lambda, b, replace))
      const m2mc = orThrow(m2MonteCarlo(quad.problem, w, lambda, b, replace, fixtureRng(300 + b), opts))
      expect(m2mc.lower).toBeLessThanOrEqual(m2)
      expect(m2mc.upper).toBeGreaterThanOrEqual(m2)
    })
  }
  it('monteCarloVariance of a constant draw is exactly 0', () => {
    const ci = orThrow(monteCarloVariance((r) => [Float64Array.of(1, 2), r], fixtureRng(1), { pairs: 10 }))
    expect(ci.estimate).toBe(0)
    expect(ci.upper).toBe(0)
    expect(E.isLeft(monteCarloVariance((r) => [Float64Array.of(1), r], fixtureRng(1), { pairs: 1 }))).toBe(true)
  })
})

describe('the edges of sigma2Empirical and monteCarloVariance', () => {
  it('where Φ(w) = w exactly, D(iii) needs V[Φ̂(w)] ≤ σ₁: σ₁ = V holds with any σ₂ (0), a smaller σ₁ with none (∞)', () => {
    const lambda = Float64Array.of(0.4, -0.3)
    const w = Float64Array.of(0.3, -1, 0.5)
    // A map that fixes every point (the rounding of a computed w* would leave ‖Φ(w*) − w*‖ ≈ 1e-16).
    const fixesAll = Object.assign(Object.create(quad.problem) as object, { phi: (x: RVec) => Float64Array.from(x) }) as unknown as typeof quad.problem
    const V = orThrow(varianceOfMap(quad.problem, w, lambda, 2, false))
    expect(V).toBeGreaterThan(0)
    expect(orThrow(sigma2Empirical(fixesAll, lambda, V, [w], 2, false))).toBe(0)
    expect(orThrow(sigma2Empirical(fixesAll, lambda, 0.5 * V, [w], 2, false))).toBe(Infinity)
    // Away from a fixed point the answer is finite: V[Φ̂(w)]/‖Φ(w) − w‖² for σ₁ = 0 at one point.
    const gap2 = quad.problem.phi(w, lambda).reduce((acc, x, j) => acc + (x - w[j]!) ** 2, 0)
    const s2 = orThrow(sigma2Empirical(quad.problem, lambda, 0, [w], 2, false))
    expect(Number.isFinite(s2)).toBe(true)
    expect(s2 / (V / gap2)).toBeCloseTo(1, 12)
  })
  it('monteCarloVariance makes exactly 2P draws, and keeps a positive lower end', () => {
    let draws = 0
    const scalar = (r: ReturnType<typeof fixtureRng>) => {
      draws++
      const [z, next] = normals(r, 1)
      return [z, next] as const
    }
    orThrow(monteCarloVariance(scalar, fixtureRng(3), { pairs: 5 }))
    expect(draws).toBe(10)
    const tight = orThrow(monteCarloVariance(scalar, fixtureRng(4), { pairs: 400, confidence: 0.5 }))
    expect(tight.lower).toBeGreaterThan(0)
    expect(tight.lower).toBeCloseTo(tight.estimate - normalQuantile(0.75) * tight.stdError, 9)
  })
})
