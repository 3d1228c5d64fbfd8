import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../../errors.js'
import { linearFixedPointProblem } from '../../problems/linearFixedPoint.js'
import { seed } from '../../random/rng.js'
import { take, toArray } from '../../stream/stream.js'
import { saga } from './saga.js'
import { expectRelaxedSteps, expectReplaysAndDependsOnRng, iter, refusal } from '../testing.test-util.js'
import { blockRates, errorsBelow1e10, lambda, problem, w0 } from './varianceReduced.test-util.js'

describe('saga (variance-reduced stochastic fixed-point iteration with a table)', () => {
  it('converges linearly to the closed-form w(λ), to 1e-10 (observed ρ < 1 per step)', () => {
    const T = 600
    const errors = errorsBelow1e10(saga({ batchSize: 4 }), T)
    // Blocks of 20 steps (four passes, n/b = 5 steps each): the error shrinks by a fixed factor per block.
    const block = 20
    const ratios = blockRates(errors, block, 1e-13)
    expect(ratios.length).toBeGreaterThan(5)
    // Geometric mean of the block ratios, per step, and the bound error ≤ C·ρᵗ it implies.
    const rho = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / (ratios.length * block))
    expect(rho).toBeLessThan(0.97)
    const C = Math.max(...errors.map((e, t) => (e > 1e-13 ? e / rho ** t : 0)))
    expect(C).toBeLessThan(100 * errors[0]!)
  })

  it('with b = n the table correction makes every step the deterministic relaxed step (up to rounding)', () => {
    expectRelaxedSteps(saga({ eta: 0.8, batchSize: 20 }), problem, lambda, w0, 0.8, 6)
  })

  it('replays bit for bit (the table is rebuilt per iteration) and depends on the Rng', () => {
    expectReplaysAndDependsOnRng(saga({ eta: 0.3, batchSize: 3 }), problem, lambda, w0)
  })

  it('counts one full map for the table and b/n per step', () => {
    const m = saga({ batchSize: 5 })
    const st = toArray(take(10)(iter(m, problem, lambda, w0, seed(0))))
    st.forEach((s, t) => expect(s.counts.phi).toBeCloseTo(1 + (5 * t) / 20, 12))
  })

  it('rejects a deterministic problem, a batch larger than n and a non-positive step', () => {
    const det = orThrow(linearFixedPointProblem({ dim: 5, hyperDim: 3, q: 0.5, seed: 1 }))
    expect(refusal(saga(), det, 5)).toBe('config')
    expect(refusal(saga({ batchSize: 21 }), problem, 5)).toBe('domain')
    expect(refusal(saga({ eta: 0 }), problem, 5)).toBe('domain')
    expect(refusal(saga({ eta: Number.NaN }), problem, 5)).toBe('domain')
    expect(refusal(saga(), problem, 5)).toBeUndefined()
  })
})
