import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { HypergradException, orThrow } from '../../errors.js'
import { distance, normSq } from '../../linalg/vector.js'
import { linearFixedPointProblem } from '../../problems/linearFixedPoint.js'
import { quadraticProblem } from '../../problems/quadratic.js'
import { minibatch, permutation, seed } from '../../random/rng.js'
import { constantOrThrow, custom, decreasingOrThrow } from '../../schedule/schedule.js'
import { take, toArray } from '../../stream/stream.js'
import { sgd } from './sgd.js'
import { bits, iter, refusal, refusalMessage } from '../testing.test-util.js'

const problem = orThrow(quadraticProblem({ dim: 4, hyperDim: 2, nSamples: 12, seed: 7 }))
const lambda = Float64Array.of(0.4, -0.3)
const w0 = Float64Array.of(1, -1, 0.5, 2)

describe('sgd (SID eq. 17 / 28)', () => {
  it('replays bit for bit, depends on the Rng, and leaves its inputs alone', () => {
    const m = sgd({ schedule: constantOrThrow(0.7), batchSize: 3 })
    const lam = Float64Array.from(lambda)
    const start = Float64Array.from(w0)
    const s = take(40)(iter(m, problem, lam, start, seed(1)))
    const a = toArray(s).map((x) => x.w)
    const b = toArray(s).map((x) => x.w)
    expect(bits(a)).toEqual(bits(b))
    const c = toArray(take(40)(iter(m, problem, lam, start, seed(2)))).map((x) => x.w)
    expect(bits(c)).not.toEqual(bits(a))
    expect(Array.from(lam)).toEqual(Array.from(lambda))
    expect(Array.from(start)).toEqual(Array.from(w0))
    // The states are distinct arrays: consuming later states does not change earlier ones.
    expect(new Set(a).size).toBe(a.length)
  })

  it('with η = 1 takes exactly wₜ₊₁ = Φ̂(wₜ, ζₜ), ζₜ drawn in turn from the given Rng', () => {
    const m = sgd({ schedule: constantOrThrow(1), batchSize: 5 })
    const states = toArray(take(4)(iter(m, problem, lambda, w0, seed(11))))
    let r = seed(11)
    let w: Float64Array = Float64Array.from(w0)
    for (let t = 1; t < 4; t++) {
      const [batch, next] = minibatch(r, problem.nSamples, 5)
      r = next
      w = problem.phiHat(w, lambda, batch)
      expect(bits([states[t]!.w])).toEqual(bits([w]))
    }
  })

  it('one step is unbiased: E[w₁] = w₀ + η(Φ(w₀) − w₀) (Monte Carlo over 3000 Rngs, 5 standard errors)', () => {
    const eta = 0.6
    const m = sgd({ schedule: constantOrThrow(eta), batchSize: 2 })
    const S = 3000
    const d = problem.dim
    const sum = new Float64Array(d)
    const sq = new Float64Array(d)
    for (let s = 0; s < S; s++) {
      const w1 = toArray(take(2)(iter(m, problem, lambda, w0, seed(1000 + s))))[1]!.w
      for (let i = 0; i < d; i++) {
        sum[i] = sum[i]! + w1[i]!
        sq[i] = sq[i]! + w1[i]! * w1[i]!
      }
    }
    const phi = problem.phi(w0, lambda)
    for (let i = 0; i < d; i++) {
      const mean = sum[i]! / S
      const se = Math.sqrt((sq[i]! / S - mean * mean) / S)
      const exact = w0[i]! + eta * (phi[i]! - w0[i]!)
      expect(Math.abs(mean - exact)).toBeLessThanOrEqual(5 * se + 1e-12)
    }
  })

  it('converges in mean square with ηₜ = β/(γ+t) (SID Thm 4.2): MSE falls by 4× from t = 250 to t = 4000', () => {
    const q = problem.contraction(lambda)
    const beta = 2 / (1 - q * q)
    const m = sgd({ schedule: decreasingOrThrow(beta, beta), batchSize: 1 })
    const ws = problem.solution(lambda)
    const mse = (t: number): number => {
      let acc = 0
      for (let s = 0; s < 24; s++) {
        const w = toArray(take(t + 1)(iter(m, problem, lambda, w0, seed(s))))[t]!.w
        acc += distance(w, ws) ** 2
      }
      return acc / 24
    }
    const early = mse(250)
    const late = mse(4000)
    // O(1/(γ+t)) predicts a ratio (γ+4000)/(γ+250) ≈ 10; ask for 4.
    expect(late).toBeLessThan(early / 4)
  })

  it('counts minibatch evaluations in full-map units (t·b/n)', () => {
    const m = sgd({ schedule: constantOrThrow(0.5), batchSize: 3 })
    const st = toArray(take(9)(iter(m, problem, lambda, w0, seed(0))))
    st.forEach((s, t) => expect(s.counts.phi).toBeCloseTo((t * 3) / 12, 14))
    expect(st.every((s) => s.residual === undefined)).toBe(true)
  })

  it('rejects a deterministic problem, a batch larger than n, and non-positive steps', () => {
    const det = orThrow(linearFixedPointProblem({ dim: 4, hyperDim: 2, q: 0.5, seed: 1 }))
    const m = sgd({ schedule: constantOrThrow(0.5), batchSize: 3 })
    expect(refusal(m, det, 10)).toBe('config')
    expect(() => iter(m, det, lambda, w0, seed(0))).toThrow(HypergradException)

    const big = sgd({ schedule: constantOrThrow(0.5), batchSize: 13 })
    expect(refusalMessage(big, problem, 10)).toMatch(/batch size 13 is larger than the 12 samples/)
    // With replacement a batch may be larger than n.
    expect(refusal(sgd({ schedule: constantOrThrow(0.5), batchSize: 13, replace: true }), problem, 10)).toBeUndefined()

    const zeroStep = sgd({ schedule: custom(() => 0), batchSize: 2 })
    expect(refusal(zeroStep, problem, 1)).toBe('domain')
    // A step that turns negative at t = 5 is caught when 6 steps are planned, not when 5 are.
    const late = sgd({ schedule: custom((t) => (t < 5 ? 0.5 : -1)), batchSize: 2 })
    expect(refusal(late, problem, 5)).toBeUndefined()
    expect(refusal(late, problem, 6)).toBe('domain')
    // … and by the stream itself if it is run that far: it ends there, flagged, with the last good iterate.
    const st = toArray(take(8)(iter(late, problem, lambda, w0, seed(0))))
    expect(st.length).toBe(7)
    expect(st[6]!.stop).toBe('diverged')
    expect(st[6]!.reason).toMatch(/η_5/)
    expect(Array.from(st[6]!.w)).toEqual(Array.from(st[5]!.w))
  })

  it('a constant step beyond the stable range (η = 30 > 2/(1+q)) blows up geometrically until overflow', () => {
    const m = sgd({ schedule: constantOrThrow(30), batchSize: 12 })
    const st = toArray(take(400)(iter(m, problem, lambda, w0, seed(0))))
    // With η = 30 and b = n the step is deterministic: ‖wₜ − w*‖ grows geometrically.
    const ws = problem.solution(lambda)
    expect(distance(st[20]!.w, ws)).toBeGreaterThan(1e6 * distance(w0, ws))
    expect(st.some((s) => !Number.isFinite(normSq(s.w)))).toBe(true)
  })

  it("with sampling 'reshuffle' draws ⌊n/b⌋ disjoint batches per epoch, a fresh permutation each epoch, replayably", () => {
    const b = 5 // n = 12: two batches per epoch, two samples left out of each
    const m = sgd({ schedule: constantOrThrow(1), batchSize: b, sampling: 'reshuffle' })
    const st = toArray(take(7)(iter(m, problem, lambda, w0, seed(4))))
    let r = seed(4)
    let w: Float64Array = Float64Array.from(w0)
    const perms: Int32Array[] = []
    for (let t = 1; t < 7; t++) {
      if ((t - 1) % 2 === 0) {
        const [p, next] = permutation(r, problem.nSamples)
        r = next
        perms.push(p)
      }
      const p = perms[perms.length - 1]!
      const batch = p.subarray(((t - 1) % 2) * b, ((t - 1) % 2) * b + b)
      w = problem.phiHat(w, lambda, batch)
      expect(bits([st[t]!.w])).toEqual(bits([w]))
    }
    expect(new Set(perms.map((p) => Array.from(p).join())).size).toBe(3)
    expect(refusal(sgd({ schedule: constantOrThrow(1), batchSize: b, sampling: 'reshuffle', replace: true }), problem)).toBe('config')
    expect(refusal(sgd({ schedule: constantOrThrow(1), batchSize: b, sampling: 'sometimes' as never }), problem)).toBe('config')
  })
})
