import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../errors.js'
import { distance, norm } from '../linalg/vector.js'
import { linearFixedPointProblem } from '../problems/linearFixedPoint.js'
import { quadraticProblem } from '../problems/quadratic.js'
import { seed } from '../random/rng.js'
import { epochSteps, sidPreset, sidWithPreset } from './presets.js'
import type { SidOptions } from './sid.js'
import { iter } from '../solvers/testing.test-util.js'
import { estimateOf } from './fixtures.test-util.js'

const problem = orThrow(quadraticProblem({ dim: 3, hyperDim: 2, nSamples: 500, seed: 9, separable: true }))
const lambda = Float64Array.of(0.2, 0.1)
const q = problem.contraction(lambda)

/** The first steps of a preset's lower solver, against w + ηᵢ(Φ(w) − w) for the given ηᵢ (b = n makes a step a full one). */
const expectSteps = (o: SidOptions, etas: ReadonlyArray<number>): void => {
  const w0 = Float64Array.of(1, -1, 2)
  const it = iter(o.lower, problem, lambda, w0, seed(1))[Symbol.iterator]()
  let w: Float64Array = Float64Array.from(it.next().value!.w)
  for (const eta of etas) {
    const p = problem.phi(w, lambda)
    w = w.map((x, j) => x + eta * (p[j]! - x))
    expect(distance(it.next().value!.w, w)).toBeLessThan(1e-12 * (1 + norm(w)))
  }
}

describe('sidPreset (the SID §6 variants)', () => {
  it('turns epochs into steps: Batch t = k = E/2, Stoch t = k = E·s/2 with s = n/b (100 for n = 5000, b = 50)', () => {
    expect(epochSteps(10, 1)).toEqual({ t: 5, k: 5 })
    expect(epochSteps(3, 1)).toEqual({ t: 2, k: 1 })
    expect(epochSteps(2, 100)).toEqual({ t: 100, k: 100 })
    const batch = orThrow(sidPreset('batch', problem, lambda, { epochs: 60 }))
    expect([batch.t, batch.k, batch.lower.stochastic, batch.linear.stochastic, batch.finalSamples]).toEqual([30, 30, false, false, 'exact'])
    // n = 500 with b = 5 gives s = 100, the paper's ratio; the paper's own n = 5000, b = 50 as well.
    const sc = orThrow(sidPreset('stochConst', problem, lambda, { epochs: 60, batchSize: 5 }))
    expect([sc.t, sc.k, sc.lower.stochastic, sc.linear.stochastic, sc.batchSize]).toEqual([3000, 3000, true, true, 5])
    const paper = orThrow(quadraticProblem({ dim: 2, hyperDim: 1, nSamples: 5000, seed: 1, separable: true, L: 5 }))
    const pc = orThrow(sidPreset('stochDec', paper, Float64Array.of(0), { epochs: 60 }))
    expect([pc.t, pc.k, pc.batchSize]).toEqual([3000, 3000, 50])
  })

  it('uses η = 1 (stochConst) and ηₜ = β/(γ+t) with β = γ = 2/(1−q²) (stochDec), read off full-batch steps', () => {
    const full = { epochs: 1, batchSize: 500, stepsPerEpoch: 8, finalSamples: 'exact' as const }
    const beta = 2 / (1 - q * q)
    expectSteps(orThrow(sidPreset('stochConst', problem, lambda, full)), [1, 1, 1])
    expectSteps(orThrow(sidPreset('stochDec', problem, lambda, full)), [1, beta / (beta + 1), beta / (beta + 2)])
    // The linear solver gets the same schedule.
    const o = orThrow(sidPreset('stochDec', problem, lambda, full))
    expect(o.linear.name).toContain(`β=${beta}, γ=${beta}`)
  })

  it('twoPhase keeps η = 1/(1+σ₂) until the switch, then β/(γ + t − t₀) with β = 2/(1−q²), γ = β(1+σ₂)', () => {
    const o = orThrow(sidPreset('twoPhase', problem, lambda, { epochs: 2, batchSize: 500, stepsPerEpoch: 10, switchAt: 2, sigma2: 1, sigma2Linear: 1 }))
    const beta = 2 / (1 - q * q)
    const gamma = 2 * beta
    expectSteps(o, [0.5, 0.5, beta / gamma, beta / (gamma + 1)])
  })
  it("twoPhase takes the linear system's σ₂ separately and never assumes it is 0", () => {
    const none = sidPreset('twoPhase', problem, lambda, { epochs: 2, batchSize: 500, stepsPerEpoch: 10, switchAt: 2 })
    expect(E.isLeft(none) && none.left.message).toMatch(/sigma2Linear/)
    const o = orThrow(sidPreset('twoPhase', problem, lambda, { epochs: 2, batchSize: 500, stepsPerEpoch: 10, switchAt: 2, sigma2Linear: 3 }))
    expect(o.lower.name).toContain('η=1 for')
    expect(o.linear.name).toContain('η=0.25 for')
  })

  it('Batch reaches the closed form as epochs grow; a Stoch preset spends E full-map units in E epochs', () => {
    const truth = problem.hypergradient(lambda)
    const err = (epochs: number): number => distance(estimateOf(sidWithPreset('batch', problem, lambda, { epochs })).gradient, truth)
    expect(err(20)).toBeLessThan(err(4))
    expect(err(400)).toBeLessThan(1e-9 * norm(truth))
    const r = estimateOf(sidWithPreset('stochDec', problem, lambda, { epochs: 6, batchSize: 5, seed: 2 }))
    expect(r.counts.phi + r.counts.jacW).toBeCloseTo(6, 10)
    expect(r.status).toBe('maxIter')
  })

  it('rejects a stochastic preset on a deterministic problem, bad budgets and batch sizes', () => {
    const det = orThrow(linearFixedPointProblem({ dim: 3, hyperDim: 2, q: 0.5, seed: 1 }))
    const k = (e: E.Either<{ kind: string }, unknown>): string | undefined => (E.isLeft(e) ? e.left.kind : undefined)
    expect(k(sidPreset('stochConst', det, lambda, { epochs: 2 }))).toBe('config')
    expect(k(sidPreset('batch', det, lambda, { epochs: 2 }))).toBeUndefined()
    expect(k(sidPreset('batch', problem, lambda, { epochs: -2 }))).toBe('domain')
    expect(k(sidPreset('stochDec', problem, lambda, { epochs: 2.5 }))).toBe('domain')
    expect(k(sidPreset('stochDec', problem, lambda, { epochs: 2, batchSize: 0 }))).toBe('domain')
    expect(k(sidPreset('stochDec', problem, lambda, { epochs: 2, stepsPerEpoch: 0 }))).toBe('domain')
    expect(k(sidPreset('stochDec', problem, Float64Array.of(1), { epochs: 2 }))).toBe('dimension')
    // A batch larger than n passes the preset and is caught by sid.
    expect(k(sidPreset('stochConst', problem, lambda, { epochs: 2, batchSize: 501 }))).toBeUndefined()
    expect(k(sidWithPreset('stochConst', problem, lambda, { epochs: 2, batchSize: 501 }))).toBe('domain')
  })
})
