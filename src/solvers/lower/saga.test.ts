import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../../errors.js'
import { distance } from '../../linalg/vector.js'
import { linearFixedPointProblem } from '../../problems/linearFixedPoint.js'
import { quadraticProblem } from '../../problems/quadratic.js'
import { seed } from '../../random/rng.js'
import { take, toArray } from '../../stream/stream.js'
import { saga } from './saga.js'
import { expectRelaxedSteps, expectReplaysAndDependsOnRng, iter, refusal } from '../testing.test-util.js'

const problem = orThrow(quadraticProblem({ dim: 5, hyperDim: 3, nSamples: 20, seed: 3 }))
const lambda = Float64Array.of(0.5, -0.2, 1)
const w0 = new Float64Array(5)
const exact = problem.solution(lambda)

describe('saga (variance-reduced stochastic fixed-point iteration with a table)', () => {
  it('converges linearly to the closed-form w(λ), to 1e-10 (observed ρ < 1 per step)', () => {
    const m = saga({ batchSize: 4 })
    const T = 600
    const errors = toArray(take(T + 1)(iter(m, problem, lambda, w0, seed(5)))).map((s) => distance(s.w, exact))
    expect(errors[T]!).toBeLessThan(1e-10)
    // Blocks of one pass (n/b = 5 steps): the error shrinks by a fixed factor per block.
    const block = 20
    const ratios: number[] = []
    for (let t = block; t <= T; t += block) if (errors[t - block]! > 1e-13) ratios.push(errors[t]! / errors[t - block]!)
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
