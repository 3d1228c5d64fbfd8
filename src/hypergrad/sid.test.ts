import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow, type HypergradError } from '../errors.js'
import { distance, isFiniteVec, norm } from '../linalg/vector.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import { linearFixedPointProblem } from '../problems/linearFixedPoint.js'
import { quadraticProblem } from '../problems/quadratic.js'
import { constantOrThrow, custom, decreasingOrThrow } from '../schedule/schedule.js'
import { last, take } from '../stream/stream.js'
import { fixedPointLinear } from '../solvers/linear/fixedPoint.js'
import { stochasticFixedPoint } from '../solvers/linear/stochasticFixedPoint.js'
import { svrgLinear } from '../solvers/linear/svrgLinear.js'
import { linearSystemAt } from '../solvers/linearSystem.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { sgd } from '../solvers/lower/sgd.js'
import { svrg } from '../solvers/lower/svrg.js'
import { sid, sidStreams, type SidOptions } from './sid.js'
import type { HypergradResult } from './types.js'
import { iter } from '../solvers/testing.test-util.js'
import { divergenceOf, estimateOf } from './fixtures.test-util.js'
import { aid } from './aid.js'

const problem = orThrow(quadraticProblem({ dim: 4, hyperDim: 2, nSamples: 12, seed: 5 }))
const separable = orThrow(quadraticProblem({ dim: 4, hyperDim: 2, nSamples: 12, seed: 5, separable: true }))
const lambda = Float64Array.of(0.3, -0.6)
const q = problem.contraction(lambda)

const stoch = (eta: number, b = 3): Pick<SidOptions, 'lower' | 'linear'> => ({
  lower: sgd({ schedule: constantOrThrow(eta), batchSize: b }),
  linear: stochasticFixedPoint({ schedule: constantOrThrow(eta), batchSize: b }),
})
const right = (e: E.Either<HypergradError, HypergradResult>): HypergradResult => orThrow(e)
const leftOf = (e: E.Either<HypergradError, HypergradResult>): HypergradError => {
  if (E.isRight(e)) throw new Error('expected a Left')
  return e.left
}
const bits = (x: Float64Array): string => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('hex')

describe('sid (SID Algorithm 1)', () => {
  it('is deterministic in its seed: same seed, bit-identical estimate; another seed, another estimate', () => {
    const o: SidOptions = { ...stoch(0.8), t: 50, k: 40, seed: 17 }
    const a = estimateOf(sid(problem, lambda, o))
    const b = estimateOf(sid(problem, lambda, o))
    expect(bits(a.gradient)).toBe(bits(b.gradient))
    expect(bits(a.w)).toBe(bits(b.w))
    expect(bits(a.v)).toBe(bits(b.v))
    const c = estimateOf(sid(problem, lambda, { ...o, seed: 18 }))
    expect(bits(c.gradient)).not.toBe(bits(a.gradient))
  })

  it('uses three independent streams: the linear solver and the final draw do not change wₜ, and each stage replays alone', () => {
    const o: SidOptions = { ...stoch(0.8), t: 30, k: 30, seed: 4 }
    const a = estimateOf(sid(problem, lambda, o))
    const b = estimateOf(sid(problem, lambda, { ...o, linear: stochasticFixedPoint({ schedule: constantOrThrow(0.5), batchSize: 5 }), k: 7 }))
    expect(bits(b.w)).toBe(bits(a.w))
    const c = estimateOf(sid(problem, lambda, { ...o, finalSamples: { draws: 5 }, batchSize: 2 }))
    expect(bits(c.w)).toBe(bits(a.w))
    expect(bits(c.v)).toBe(bits(a.v))
    // Stage by stage on sidStreams(seed): [lower, linear, final].
    const [rl, rv] = sidStreams(4)
    const w = last(take(31)(iter(o.lower, problem, lambda, new Float64Array(4), rl)))!.w
    expect(bits(w)).toBe(bits(a.w))
    const v = last(take(31)(iter(o.linear, linearSystemAt(problem, lambda, w), new Float64Array(4), rv)))!.v
    expect(bits(v)).toBe(bits(a.v))
  })

  it('the final draw is unbiased given (wₜ, vₖ): E[∇̂f] = ∇₂E + ∂₂Φᵀv (Monte Carlo, 3000 seeds, 5 SE); J draws divide the variance by J', () => {
    const w0 = Float64Array.of(0.5, -1, 0.2, 0.3)
    const v0 = Float64Array.of(1, 2, -1, 0.5)
    const want = problem.gradUpperLambda(w0, lambda)
    const jt = problem.vjpLambda(w0, lambda, v0)
    for (let i = 0; i < 2; i++) want[i] = want[i]! + jt[i]!
    const stats = (finalSamples: SidOptions['finalSamples']): { mean: Float64Array; variance: number; se: Float64Array } => {
      const S = 3000
      const xs: Float64Array[] = []
      for (let s = 0; s < S; s++) xs.push(estimateOf(sid(problem, lambda, { ...stoch(1, 1), t: 0, k: 0, seed: s, w0, v0, finalSamples })).gradient)
      const mean = new Float64Array(2)
      for (const x of xs) for (let i = 0; i < 2; i++) mean[i] = mean[i]! + x[i]! / S
      const vars = new Float64Array(2)
      for (const x of xs) for (let i = 0; i < 2; i++) vars[i] = vars[i]! + (x[i]! - mean[i]!) ** 2 / (S - 1)
      return { mean, variance: vars[0]! + vars[1]!, se: vars.map((x) => Math.sqrt(x / S)) }
    }
    const one = stats('one')
    for (let i = 0; i < 2; i++) expect(Math.abs(one.mean[i]! - want[i]!)).toBeLessThanOrEqual(5 * one.se[i]!)
    expect(one.variance).toBeGreaterThan(1e-3) // the problem is not separable: m₂ > 0
    const four = stats({ draws: 4 })
    for (let i = 0; i < 2; i++) expect(Math.abs(four.mean[i]! - want[i]!)).toBeLessThanOrEqual(5 * four.se[i]!)
    expect(four.variance / one.variance).toBeGreaterThan(0.2)
    expect(four.variance / one.variance).toBeLessThan(0.32)
    // 'exact' is the formula itself.
    const ex = estimateOf(sid(problem, lambda, { ...stoch(1, 1), t: 0, k: 0, seed: 0, w0, v0, finalSamples: 'exact' }))
    expect(distance(ex.gradient, want)).toBeLessThan(1e-14)
  })

  it('with deterministic solvers (Batch) reaches the closed-form hypergradient, on stochastic and deterministic problems', () => {
    const o = { lower: fixedPointIteration(), linear: fixedPointLinear(), t: 200, k: 200, seed: 0 }
    const truth = problem.hypergradient(lambda)
    const a = estimateOf(sid(problem, lambda, o))
    expect(distance(a.gradient, truth)).toBeLessThan(1e-9 * norm(truth))
    expect(a.lowerResiduals.length).toBe(201)
    expect(a.linearResiduals.length).toBe(201)
    expect(a.status).toBe('maxIter')
    const lin = orThrow(linearFixedPointProblem({ dim: 4, hyperDim: 2, q: 0.6, seed: 2 }))
    const b = estimateOf(sid(lin, lambda, o))
    const t2 = lin.hypergradient(lambda)
    expect(distance(b.gradient, t2)).toBeLessThan(1e-9 * norm(t2))
  })

  it('Stoch dec: the MSE goes to 0 on a separable problem (48 seeds; means ± 3 SE, ≈ 99.7% normal confidence each)', () => {
    const truth = separable.hypergradient(lambda)
    const beta = 2 / (1 - q * q)
    const o = {
      lower: sgd({ schedule: decreasingOrThrow(beta, beta), batchSize: 1 }),
      linear: stochasticFixedPoint({ schedule: decreasingOrThrow(beta, beta), batchSize: 1 }),
    }
    const mse = (t: number): { mean: number; se: number } => {
      const e: number[] = []
      for (let s = 0; s < 48; s++) e.push(distance(estimateOf(sid(separable, lambda, { ...o, t, k: t, seed: 100 + s })).gradient, truth) ** 2)
      const mean = e.reduce((a, x) => a + x, 0) / e.length
      const sd = Math.sqrt(e.reduce((a, x) => a + (x - mean) ** 2, 0) / (e.length - 1))
      return { mean, se: sd / Math.sqrt(e.length) }
    }
    const early = mse(150)
    const late = mse(2400)
    // Remark 5.1: O(1/(γ+t)) predicts a ratio near (γ+2400)/(γ+150) ≈ 13; demand 2 with margins
    // (squared errors are heavy-tailed: the normal approximation of the mean needs the slack).
    expect(late.mean + 3 * late.se).toBeLessThan((early.mean - 3 * early.se) / 2)
  })

  it("'exact' removes the variance floor of eq. 14: with linearly convergent solvers the error reaches 1e-8, a single draw does not", () => {
    const truth = problem.hypergradient(lambda)
    const o = { lower: svrg({ batchSize: 2 }), linear: svrgLinear({ batchSize: 2 }), t: 500, k: 500, seed: 3 }
    const ex = estimateOf(sid(problem, lambda, { ...o, finalSamples: 'exact' }))
    expect(distance(ex.gradient, truth)).toBeLessThan(1e-8 * norm(truth))
    let worst = 0
    for (let s = 0; s < 5; s++) worst = Math.max(worst, distance(estimateOf(sid(problem, lambda, { ...o, seed: s, batchSize: 1 })).gradient, truth))
    expect(worst).toBeGreaterThan(1e-3 * norm(truth))
  })

  it('counts work in full-map units and leaves its inputs alone', () => {
    const lam = Float64Array.from(lambda)
    const w0 = Float64Array.of(1, 1, 1, 1)
    const v0 = Float64Array.of(2, 2, 2, 2)
    const r = estimateOf(sid(problem, lam, { ...stoch(0.5, 3), t: 40, k: 20, seed: 1, w0, v0 }))
    expect(r.counts.phi).toBeCloseTo(10, 12)
    expect(r.counts.jacW).toBeCloseTo(5, 12)
    expect(r.counts.jacLambda).toBeCloseTo(0.25, 12)
    expect([r.t, r.k]).toEqual([40, 20])
    expect(r.lowerResiduals.length).toBe(0)
    expect(r.method).toMatch(/^sid\(sgd/)
    // value is E(wₜ, λ), read lazily from private copies: changing the returned w does not move it.
    const e = problem.upper(r.w, lambda)
    r.w.fill(100)
    expect(r.value).toBe(e)
    expect(Array.from(lam)).toEqual(Array.from(lambda))
    expect(Array.from(w0)).toEqual([1, 1, 1, 1])
    expect(Array.from(v0)).toEqual([2, 2, 2, 2])
    const ex = estimateOf(sid(problem, lam, { ...stoch(0.5, 3), t: 1, k: 1, seed: 1, finalSamples: 'exact' }))
    expect(ex.counts.jacLambda).toBe(1)
  })

  it("reports divergence as status 'diverged', with the stage, the step and no number that looks like an estimate", () => {
    const low = divergenceOf(sid(problem, lambda, { lower: sgd({ schedule: constantOrThrow(30), batchSize: 12 }), linear: stoch(1).linear, t: 2000, k: 5, seed: 0 }))
    expect(low.divergedAt.stage).toBe('lower')
    expect(low.divergedAt.iter).toBeGreaterThan(1)
    expect(low.reason).toMatch(/blow-up bound|non-finite/)
    expect([low.gradient, low.value]).toEqual([null, null])
    expect(isFiniteVec(low.w) && isFiniteVec(low.v)).toBe(true)
    const lin = divergenceOf(sid(problem, lambda, { lower: stoch(1).lower, linear: stochasticFixedPoint({ schedule: constantOrThrow(30), batchSize: 12 }), t: 5, k: 2000, seed: 0 }))
    expect(lin.divergedAt.stage).toBe('linear')
    expect(lin.gradient).toBeNull()
    expect(isFiniteVec(lin.v)).toBe(true)
  })

  it('applies the same blow-up test as aid: a huge but finite iterate is a divergence, not an estimate', () => {
    // Step 3: the iteration grows geometrically but stays finite for thousands of steps.
    const r = divergenceOf(sid(problem, lambda, { lower: sgd({ schedule: constantOrThrow(3), batchSize: 12 }), linear: stoch(1).linear, t: 3000, k: 5, seed: 0 }))
    expect(r.reason).toMatch(/blow-up bound/)
    const a = divergenceOf(aid(problem, lambda, { lower: sgd({ schedule: constantOrThrow(3), batchSize: 12 }), linear: stoch(1).linear, t: 3000, k: 5, seed: 0 }))
    expect(a.divergedAt).toEqual(r.divergedAt)
  })

  it('rejects bad input with typed errors', () => {
    const ok: SidOptions = { ...stoch(0.5, 3), t: 5, k: 5, seed: 1 }
    expect(leftOf(sid(problem, lambda, { ...ok, lower: sgd({ schedule: constantOrThrow(0.5), batchSize: 13 }) })).message).toMatch(/larger than the 12 samples/)
    expect(leftOf(sid(problem, lambda, { ...ok, linear: stochasticFixedPoint({ schedule: constantOrThrow(0.5), batchSize: 13 }) })).kind).toBe('domain')
    expect(leftOf(sid(problem, lambda, { ...ok, batchSize: 13 })).message).toMatch(/final draw/)
    expect(leftOf(sid(problem, lambda, { ...ok, lower: sgd({ schedule: custom(() => 0), batchSize: 2 }) })).kind).toBe('domain')
    expect(leftOf(sid(problem, lambda, { ...ok, linear: stochasticFixedPoint({ schedule: custom(() => -1), batchSize: 2 }) })).kind).toBe('domain')
    const det = orThrow(linearFixedPointProblem({ dim: 4, hyperDim: 2, q: 0.5, seed: 1 }))
    expect(leftOf(sid(det, lambda, ok)).kind).toBe('config')
    expect(leftOf(sid(det, lambda, { ...ok, lower: fixedPointIteration() })).kind).toBe('config')
    expect(leftOf(sid(problem, lambda, { ...ok, t: -1 })).kind).toBe('domain')
    expect(leftOf(sid(problem, lambda, { ...ok, k: 1.5 })).kind).toBe('domain')
    expect(leftOf(sid(problem, lambda, { ...ok, seed: 0.5 })).kind).toBe('domain')
    expect(leftOf(sid(problem, Float64Array.of(1), ok)).kind).toBe('dimension')
    expect(leftOf(sid(problem, Float64Array.of(1, Number.NaN), ok)).kind).toBe('domain')
    expect(leftOf(sid(problem, lambda, { ...ok, w0: new Float64Array(3) })).kind).toBe('dimension')
    expect(leftOf(sid(problem, lambda, { ...ok, v0: Float64Array.of(0, 0, Infinity, 0) })).kind).toBe('data')
    expect(leftOf(sid(problem, lambda, { ...ok, finalSamples: { draws: 0 } })).kind).toBe('domain')
    const notContracting: BilevelProblem = Object.assign(Object.create(problem) as BilevelProblem, { contraction: () => 1 })
    expect(leftOf(sid(notContracting, lambda, ok)).message).toMatch(/contraction/)
  })
})
