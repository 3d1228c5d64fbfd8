import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { exact } from '../hypergrad/exact.js'
import { logistic, ridge } from '../hypergrad/fixtures.test-util.js'
import type { HypergradResult } from '../hypergrad/types.js'
import type { Vec } from '../linalg/types.js'
import { distance } from '../linalg/vector.js'
import { conjugateGradient } from '../solvers/linear/conjugateGradient.js'
import { fixedPointLinear } from '../solvers/linear/fixedPoint.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { aidAdaptive } from './adaptive.js'

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

/** The gradient of a result that did not diverge (a diverged result fails the test). */
const gradientOf = (r: HypergradResult): Vec => {
  if (r.status === 'diverged') throw new Error(`diverged: ${JSON.stringify(r.divergedAt)}`)
  return r.gradient
}

describe('aidAdaptive', () => {
  const cases = [
    { name: 'logistic', ...logistic(3, 40, 5, 0.3) },
    { name: 'ridge', ...ridge(4) },
  ]
  for (const { name, problem, lambda } of cases) {
    it(`${name}: the certified bound is ≥ the true error and ≤ the tolerance, for tolerances over 6 decades`, () => {
      const truth = gradientOf(right(exact(problem, lambda)))
      for (const linear of [conjugateGradient(), fixedPointLinear()]) {
        for (const tolerance of [1e-1, 1e-3, 1e-5, 1e-7]) {
          const r = right(aidAdaptive(problem, lambda, { lower: fixedPointIteration(), linear, tolerance, maxT: 100_000, maxK: 100_000 }))
          const err = distance(gradientOf(r), truth)
          expect(r.status).toBe('converged')
          expect(r.bound).toBeLessThanOrEqual(tolerance)
          expect(r.bound * (1 + 1e-9) + 1e-12).toBeGreaterThanOrEqual(err)
        }
      }
    })
  }
  it('a warm start from the previous solution needs fewer inner iterations for the same certificate', () => {
    const { problem, lambda } = logistic(5, 40, 5, 0.3)
    const opts = { lower: fixedPointIteration(), linear: conjugateGradient(), maxT: 100_000, maxK: 100_000 }
    const first = right(aidAdaptive(problem, lambda, { ...opts, tolerance: 1e-4 }))
    const cold = right(aidAdaptive(problem, lambda, { ...opts, tolerance: 1e-6 }))
    const warm = right(aidAdaptive(problem, lambda, { ...opts, tolerance: 1e-6, w0: first.w, v0: first.v }))
    expect(warm.bound).toBeLessThanOrEqual(1e-6)
    expect(warm.t).toBeLessThan(cold.t)
    expect(warm.t + warm.k).toBeLessThan(cold.t + cold.k)
  })
  it('stops at the caps with status maxIter when the tolerance is out of reach, and rejects a bad tolerance', () => {
    const { problem, lambda } = logistic(6, 40, 5, 0.3)
    const r = right(aidAdaptive(problem, lambda, { lower: fixedPointIteration(), linear: conjugateGradient(), tolerance: 1e-12, maxT: 5, maxK: 5 }))
    expect(r.status).toBe('maxIter')
    expect(r.t).toBeLessThanOrEqual(5)
    expect(r.bound).toBeGreaterThan(1e-12)
    expect(E.isLeft(aidAdaptive(problem, lambda, { lower: fixedPointIteration(), linear: conjugateGradient(), tolerance: 0, maxT: 5, maxK: 5 }))).toBe(true)
  })
})
