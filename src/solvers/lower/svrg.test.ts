import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../../errors.js'
import { linearFixedPointProblem } from '../../problems/linearFixedPoint.js'
import { seed } from '../../random/rng.js'
import { take, toArray } from '../../stream/stream.js'
import { svrg } from './svrg.js'
import { expectRelaxedSteps, expectReplaysAndDependsOnRng, iter, refusal } from '../testing.test-util.js'
import { blockRates, errorsBelow1e10, lambda, problem, w0 } from './varianceReduced.test-util.js'

describe('svrg (variance-reduced stochastic fixed-point iteration)', () => {
  it('converges linearly to the closed-form w(λ), to 1e-10 (observed ρ < 1 per step)', () => {
    const T = 600
    const errors = errorsBelow1e10(svrg({ batchSize: 2 }), T)
    const epoch = 2 * Math.ceil(20 / 2)
    const rates = blockRates(errors, epoch, 1e-13)
    expect(rates.length).toBeGreaterThan(3)
    // Error ≤ C·ρᵗ with ρ = max block ratio^(1/epoch): every block shrinks the error at least 4×.
    const rho = Math.max(...rates) ** (1 / epoch)
    expect(rho).toBeLessThan(0.94)
    for (let t = 0; t <= T; t += epoch) expect(errors[t]!).toBeLessThanOrEqual(errors[0]! * rho ** t * 1.0001 + 1e-14)
  })

  it('replays bit for bit and depends on the Rng', () => {
    expectReplaysAndDependsOnRng(svrg({ eta: 0.4, epochLength: 7, batchSize: 3 }), problem, lambda, w0)
  })

  it('with b = n every step is the deterministic relaxed step w + η(Φ(w) − w) (up to rounding)', () => {
    expectRelaxedSteps(svrg({ eta: 0.7, batchSize: 20, epochLength: 3 }), problem, lambda, w0, 0.7, 8)
  })

  it('counts 2b/n per step plus one full map per snapshot', () => {
    const m = svrg({ epochLength: 4, batchSize: 5 })
    const st = toArray(take(10)(iter(m, problem, lambda, w0, seed(0))))
    // Snapshots at t = 0, 4, 8 are taken before steps 1, 5, 9.
    const snaps = (t: number): number => (t === 0 ? 0 : Math.floor((t - 1) / 4) + 1)
    st.forEach((s, t) => expect(s.counts.phi).toBeCloseTo((2 * 5 * t) / 20 + snaps(t), 12))
  })

  it('rejects a deterministic problem, a batch larger than n, a non-positive step and a bad epoch length', () => {
    const det = orThrow(linearFixedPointProblem({ dim: 5, hyperDim: 3, q: 0.5, seed: 1 }))
    expect(refusal(svrg(), det, 5)).toBe('config')
    expect(refusal(svrg({ batchSize: 21 }), problem, 5)).toBe('domain')
    expect(refusal(svrg({ eta: 0 }), problem, 5)).toBe('domain')
    expect(refusal(svrg({ eta: -1 }), problem, 5)).toBe('domain')
    expect(refusal(svrg({ epochLength: 0 }), problem, 5)).toBe('domain')
    expect(refusal(svrg(), problem, 5)).toBeUndefined()
    expect(() => iter(svrg({ batchSize: 21 }), problem, lambda, w0, seed(0))).toThrow(/larger than the 20 samples/)
  })
})
