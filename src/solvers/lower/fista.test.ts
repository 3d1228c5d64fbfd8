import { describe, expect, it } from 'vitest'
import { orThrow } from '../../errors.js'
import { distance } from '../../linalg/vector.js'
import { quadraticProblem } from '../../problems/quadratic.js'
import { seed } from '../../random/rng.js'
import { runLower } from '../run.js'
import { refusal } from '../testing.test-util.js'
import { fixedPointIteration } from './fixedPoint.js'
import { fista } from './fista.js'

// An ill-conditioned quadratic (κ = L/τ = 400): acceleration pays.
const problem = orThrow(quadraticProblem({ dim: 12, hyperDim: 2, nSamples: 30, seed: 5, tau: 0.05, L: 20 }))
const lambda = Float64Array.of(0.3, -0.6)
const ws = problem.solution(lambda)
const w0 = new Float64Array(problem.dim)
const errAfter = (m: Parameters<typeof runLower>[0], t: number) => distance(orThrow(runLower(m, problem, lambda, w0, seed(0), { maxIter: t })).state.w, ws)

describe('fista', () => {
  it('reaches the fixed point, far faster than gradient descent on an ill-conditioned problem (restart gives a linear rate)', () => {
    const e0 = distance(w0, ws)
    expect(errAfter(fista(), 600)).toBeLessThan(1e-8 * e0)
    expect(errAfter(fista(), 200)).toBeLessThan(1e-3 * errAfter(fixedPointIteration(), 200))
    // Without restart: still accelerated, O(1/t²) in ℓ, so its error after 200 steps beats GD's too.
    expect(errAfter(fista({ restart: false }), 200)).toBeLessThan(errAfter(fixedPointIteration(), 200))
  })
  it('counts one Φ evaluation per step and refuses a bad η', () => {
    const r = orThrow(runLower(fista(), problem, lambda, w0, seed(0), { maxIter: 7 }))
    expect(r.counts.phi).toBe(7)
    expect(refusal(fista({ eta: 0 }), problem)).toBe('domain')
    expect(refusal(fista({ eta: Number.NaN }), problem)).toBe('domain')
  })
})
