import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import type { Dataset } from '../data/dataset.js'
import { orThrow } from '../errors.js'
import { spectralNorm, symmetricEigenvalues } from '../linalg/matrix.js'
import { matrix, type RVec, type Vec } from '../linalg/types.js'
import * as R from '../random/rng.js'
import { dataCleaningObjective, dataCleaningProblem } from './dataCleaning.js'
import { dsigmoid, sigmoid } from './logistic.js'
import {
  axpby, callEveryMethod, cdNum, classificationData as makeData, denseHessian, denseImplicitHypergradient, dot, expectCrossTerms, expectIntoMatches,
  itChecksValueGradientAndHvp, expectUnbiasedOverSamplingSpaces, fdGrad, newtonSolution, norm, randVec as vecOf, relErr, relErrNum, snapshot,
} from './reference.test-util.js'

// ---------------------------------------------------------------------------------------------
// Helpers (independent references: plain per-sample loops, dense algebra, central differences)

/** Naive per-sample references from the formulas (log(1+e^{−u}) and 1/(1+e^{−t}) directly). */
const rowDot = (d: Dataset, i: number, v: RVec): number => {
  let s = 0
  for (let j = 0; j < d.X.cols; j++) s += d.X.data[i * d.X.cols + j]! * v[j]!
  return s
}
const sig = (t: number): number => 1 / (1 + Math.exp(-t))
const naiveValue = (d: Dataset, w: RVec, lam: RVec, rho: number): number => {
  let s = 0
  for (let i = 0; i < d.X.rows; i++) s += sig(lam[i]!) * Math.log1p(Math.exp(-d.y[i]! * rowDot(d, i, w)))
  return s + 0.5 * rho * dot(w, w)
}
/** ((∇²_wλ ℓ)ᵀ v)ᵢ = σ'(λᵢ) ψ'(yᵢzᵢ) yᵢ xᵢᵀv, written per sample with σ' = σ(1 − σ), ψ'(u) = −σ(−u). */
const naiveCrossVjp = (d: Dataset, w: RVec, lam: RVec, v: RVec): Vec =>
  Float64Array.from({ length: d.X.rows }, (_, i) => {
    // σ'(t) = e^{−|t|}/(1 + e^{−|t|})²: s(1 − s) would round to 0 for t ≳ 37.
    const e = Math.exp(-Math.abs(lam[i]!))
    return (e / ((1 + e) * (1 + e))) * -sig(-d.y[i]! * rowDot(d, i, w)) * d.y[i]! * rowDot(d, i, v)
  })

const caseArb = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  n: fc.integer({ min: 1, max: 14 }),
  p: fc.integer({ min: 1, max: 8 }),
  rho: fc.double({ min: 0.05, max: 5, noNaN: true }),
})
/** λ of mixed signs and sizes, a few large enough to saturate σ. */
const lambdaOf = (seed: number, n: number): Vec => Float64Array.from(vecOf(seed, n, 2), (v, i) => (i % 5 === 4 ? 40 * Math.sign(v) : v))
/** A case's data, objective, w (scale 0.7), λ and a with-replacement batch of 1 + (seed mod 7) samples. */
const drawCase = ({ seed, n, p, rho }: { seed: number; n: number; p: number; rho: number }) => {
  const d = makeData(seed, n, p)
  const batch = R.sampleWithReplacement(R.seed(seed + 3), n, 1 + (seed % 7))[0]
  return { d, obj: dataCleaningObjective(d, { rho }), w: vecOf(seed + 1, p, 0.7), lam: lambdaOf(seed + 2, n), batch }
}

// ---------------------------------------------------------------------------------------------

describe('sigmoid', () => {
  it('is finite and accurate at ±1e4, ±800, 0 and in the tails', () => {
    expect(sigmoid(0)).toBe(0.5)
    expect(dsigmoid(0)).toBe(0.25)
    expect(sigmoid(1e4)).toBe(1)
    expect(sigmoid(800)).toBe(1)
    expect(sigmoid(-800)).toBe(0)
    expect(sigmoid(-1e4)).toBe(0)
    for (const t of [1e4, 800, -800, -1e4]) expect(dsigmoid(t)).toBe(0)
    // σ(−t) = e^{−t}/(1 + e^{−t}) ≈ e^{−t}(1 − e^{−t}) with full relative precision in the far tail
    for (const t of [30, 100, 700]) {
      const e = Math.exp(-t)
      expect(relErrNum(sigmoid(-t), e * (1 - e))).toBeLessThan(4e-16)
      expect(relErrNum(dsigmoid(t), e * (1 - 2 * e))).toBeLessThan(4e-16)
    }
    fc.assert(
      fc.property(fc.double({ min: -700, max: 700, noNaN: true }), (t) => {
        expect(Math.abs(sigmoid(t) + sigmoid(-t) - 1)).toBeLessThanOrEqual(Number.EPSILON)
        expect(dsigmoid(t)).toBe(dsigmoid(-t))
        if (Math.abs(t) < 20) expect(Math.abs(cdNum((h) => sigmoid(t + h), 1e-5) - dsigmoid(t))).toBeLessThan(1e-10)
      }),
      { numRuns: 200 },
    )
  })
})

describe('dataCleaningObjective: derivatives', () => {
  // the value against the per-sample formula
  itChecksValueGradientAndHvp(caseArb, drawCase, (c, { d, obj, w, lam }) => {
    expect(obj.hyperDim).toBe(c.n)
    expect(obj.separable).toBe(false)
    expect(relErrNum(obj.value(w, lam), naiveValue(d, w, lam, c.rho))).toBeLessThan(1e-12)
  })

  it('cross terms = central differences of the gradient along λ, are adjoint, and match the per-sample formula', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { d, obj, w, lam, batch } = drawCase(c)
        const { seed, n, p } = c
        const v = vecOf(seed + 7, p), mu = vecOf(seed + 6, n)
        // entry by entry, up to rounding of the dot products (|σ'ψ'| ≤ 1/4: slack 1e-14·|yᵢ|‖xᵢ‖‖v‖)
        const got = obj.crossVjp(w, lam, v), ref = naiveCrossVjp(d, w, lam, v)
        for (let i = 0; i < n; i++) {
          const xi = d.X.data.subarray(i * p, i * p + p)
          expect(Math.abs(got[i]! - ref[i]!)).toBeLessThanOrEqual(1e-12 * Math.abs(ref[i]!) + 1e-14 * norm(xi) * norm(v))
        }
        for (const b of [undefined, batch]) {
          const vj = expectCrossTerms(obj, w, lam, mu, v, b, 1e-5, 1e-6)
          // each entry of crossVjp is the derivative of ⟨∇_wℓ, v⟩ along λᵢ
          const i = seed % n
          const ei = new Float64Array(n)
          ei[i] = 1
          const fdi = cdNum((t) => dot(obj.grad(w, axpby(t, ei, lam), b), v), 1e-5)
          expect(Math.abs(vj[i]! - fdi)).toBeLessThan(1e-6 * (1 + Math.abs(fdi)))
        }
      }),
      { numRuns: 20 },
    )
  })

  it('on a batch, crossVjp is non-zero only on the batch entries, scaled n/|B|, repeats accumulated', () => {
    const n = 9, p = 4
    const d = makeData(5, n, p)
    const obj = dataCleaningObjective(d)
    const w = vecOf(6, p), v = vecOf(7, p), lam = lambdaOf(8, n)
    const full = naiveCrossVjp(d, w, lam, v)
    const batch = Int32Array.of(2, 7, 2, 4, 0)
    const got = obj.crossVjp(w, lam, v, batch)
    const scale = n / batch.length
    for (let i = 0; i < n; i++) {
      const count = batch.filter((k) => k === i).length
      if (count === 0) expect(got[i]).toBe(0)
      else expect(relErrNum(got[i]!, count * scale * full[i]!)).toBeLessThan(1e-13)
    }
    // crossJvp with μ supported off the batch is exactly zero
    const mu = new Float64Array(n)
    mu[1] = 1
    mu[8] = -2
    expect(obj.crossJvp(w, lam, mu, batch)).toEqual(new Float64Array(p))
  })

  it('minibatch estimates averaged over ALL b-subsets (and all with-replacement tuples) equal the full sums', () => {
    const n = 6, p = 5
    const d = makeData(11, n, p)
    const obj = dataCleaningObjective(d, { rho: 0.7 })
    const w = vecOf(12, p), u = vecOf(13, p), v = vecOf(14, p)
    const lam = lambdaOf(15, n)
    const mu = vecOf(16, n)
    expectUnbiasedOverSamplingSpaces(obj, n, w, lam, u, v, mu)
  })
})

describe('dataCleaningObjective: kernels, curvature, λ', () => {
  it('gradInto / hvpInto are bit-identical to grad / hvp for any stale out and batch', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 1, max: 11 }), ({ seed, n, p, rho }, bsize) => {
        const obj = dataCleaningObjective(makeData(seed, n, p), { rho })
        const w = vecOf(seed + 1, p), u = vecOf(seed + 4, p), lam = lambdaOf(seed + 2, n)
        const batch = R.sampleWithReplacement(R.seed(seed + 3), n, bsize)[0]
        for (const b of [undefined, batch]) {
          expectIntoMatches(obj, w, lam, u, vecOf(seed + 9, p, 1e6), b)
          expect(obj.crossVjp(w, lam, u, b)).toEqual(obj.crossVjp(w, lam, u, b))
        }
      }),
      { numRuns: 20 },
    )
  })

  it('τ = ρ ≤ λ_min(∇²ℓ(w)) and λ_max(∇²ℓ(w)) ≤ L = ρ + σ_max²/4 for any λ (dense eigenvalues)', () => {
    fc.assert(
      fc.property(caseArb, ({ seed, n, p, rho }) => {
        const d = makeData(seed, n, p)
        const obj = dataCleaningObjective(d, { rho })
        for (const lam of [lambdaOf(seed + 2, n), new Float64Array(n).fill(50), new Float64Array(n).fill(-50)]) {
          const { tau, L } = obj.curvature(lam)
          expect(tau).toBe(rho)
          expect(relErrNum(L, rho + spectralNorm(d.X) ** 2 / 4)).toBeLessThan(1e-8)
          for (const scale of [0, 0.5, 3]) {
            const ev = symmetricEigenvalues(denseHessian(obj, vecOf(seed + 1, p, scale), lam))
            expect(tau).toBeLessThanOrEqual(ev[0]! * (1 + 1e-12))
            expect(ev[p - 1]!).toBeLessThanOrEqual(L)
          }
        }
      }),
      { numRuns: 20 },
    )
  })

  it('checkLambda: one finite entry per sample (any sign), naming the entry; ρ must be positive', () => {
    const d = makeData(61, 6, 3)
    const obj = dataCleaningObjective(d)
    const ok = Float64Array.of(-3, 0, 2, -100, 5, 1)
    const r = obj.checkLambda(ok)
    expect(E.isRight(r) && r.right).toEqual(ok)
    const left = (lam: RVec) => {
      const e = obj.checkLambda(lam)
      if (E.isRight(e)) throw new Error('expected Left')
      return e.left
    }
    expect(left(new Float64Array(5)).kind).toBe('dimension')
    const bad = Float64Array.of(0, 0, 0, 0, Number.NaN, 0)
    expect(left(bad).kind).toBe('domain')
    expect(left(bad).message).toContain('λ[4]')
    expect(left(Float64Array.of(Number.NEGATIVE_INFINITY, 0, 0, 0, 0, 0)).message).toContain('λ[0]')
    expect(() => dataCleaningObjective(d, { rho: 0 })).toThrow(RangeError)
    expect(() => dataCleaningObjective(d, { rho: Number.NaN })).toThrow(RangeError)
    expect(obj.rho).toBe(1)
    expect(() => obj.crossVjp(vecOf(1, 3), new Float64Array(5), vecOf(2, 3))).toThrow(RangeError)
    expect(() => obj.grad(vecOf(1, 3), ok, Int32Array.of(6))).toThrow(/outside/)
  })

  it('changes none of its inputs', () => {
    const d = makeData(41, 9, 6)
    const obj = dataCleaningObjective(d, { rho: 0.3 })
    const w = vecOf(42, 6), u = vecOf(43, 6), lam = lambdaOf(44, 9), mu = vecOf(45, 9)
    const batch = Int32Array.of(3, 1, 3, 8, 0)
    const before = snapshot(d.X.data, d.y, w, u, lam, mu)
    callEveryMethod(obj, w, u, lam, mu, batch)
    expect(snapshot(d.X.data, d.y, w, u, lam, mu)).toEqual(before)
    expect(batch).toEqual(Int32Array.of(3, 1, 3, 8, 0))
  })
})

describe('dataCleaningProblem', () => {
  it('default α = 2/(L+τ); the implicit hypergradient matches central differences of f(λ)', () => {
    const n = 10, p = 3
    const train = makeData(71, n, p), val = makeData(72, 8, p)
    const lam = lambdaOf(73, n).map((v) => Math.max(-3, Math.min(3, v)))
    const prob = orThrow(dataCleaningProblem(train, val, lam, { rho: 0.5 }))
    const { tau, L } = prob.lower.curvature(lam)
    expect(prob.alpha).toBe(2 / (L + tau))
    expect(prob.separable).toBe(false)
    expect(prob.hyperDim).toBe(n)
    const f = (l: RVec): number => prob.upper(newtonSolution(prob.lower, l), l)
    const hg = denseImplicitHypergradient(prob, newtonSolution(prob.lower, lam), lam)
    expect(relErr(hg, fdGrad(f, lam, 1e-5))).toBeLessThan(1e-6)
  })

  it('returns typed errors for bad ρ, data, λ and α', () => {
    const train = makeData(81, 8, 3), val = makeData(82, 5, 3)
    const lam = new Float64Array(8)
    const kind = (e: E.Either<{ kind: string }, unknown>) => (E.isLeft(e) ? e.left.kind : 'ok')
    expect(kind(dataCleaningProblem(train, val, lam))).toBe('ok')
    expect(kind(dataCleaningProblem(train, val, lam, { rho: -1 }))).toBe('domain')
    expect(kind(dataCleaningProblem(train, val, lam, { alpha: Number.NaN }))).toBe('domain')
    expect(kind(dataCleaningProblem(train, val, new Float64Array(7)))).toBe('dimension')
    expect(kind(dataCleaningProblem(train, makeData(83, 5, 2), lam))).toBe('dimension')
    const nanX = Float64Array.from(train.X.data)
    nanX[0] = Number.NaN
    expect(kind(dataCleaningProblem({ X: matrix(8, 3, nanX), y: train.y }, val, lam))).toBe('data')
    expect(orThrow(dataCleaningProblem(train, val, lam, { alpha: 0.01 })).alpha).toBe(0.01)
  })
})
