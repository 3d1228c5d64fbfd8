/** What the tests of the variance-reduced lower solvers (svrg, saga) share: their problem and their convergence measure. */
import { expect } from 'vitest'
import { orThrow } from '../../errors.js'
import { distance } from '../../linalg/vector.js'
import { quadraticProblem } from '../../problems/quadratic.js'
import { seed } from '../../random/rng.js'
import { take, toArray } from '../../stream/stream.js'
import { iter } from '../testing.test-util.js'
import type { LowerSolver, LowerState } from '../types.js'

/** A finite-sum quadratic (d = 5, n = 20) at λ, the start w₀ = 0 and the closed-form w(λ). */
export const problem = orThrow(quadraticProblem({ dim: 5, hyperDim: 3, nSamples: 20, seed: 3 }))
export const lambda = Float64Array.of(0.5, -0.2, 1)
export const w0 = new Float64Array(5)
export const exact = problem.solution(lambda)

/**
 * The errors ‖wₜ − w(λ)‖ for t = 0 … T (from seed 5), after checking that the last one is below
 * 1e-10: a variance-reduced solver converges to w(λ), not to a plateau.
 */
export const errorsBelow1e10 = <S extends LowerState>(m: LowerSolver<S>, T: number): number[] => {
  const errors = toArray(take(T + 1)(iter(m, problem, lambda, w0, seed(5)))).map((s) => distance(s.w, exact))
  expect(errors[T]!).toBeLessThan(1e-10)
  return errors
}

/**
 * The ratios between the errors at every `every`-th iterate, while the earlier one is above
 * `floor`: the observed contraction per block (ρ^every).
 */
export const blockRates = (errors: ReadonlyArray<number>, every: number, floor: number): number[] => {
  const out: number[] = []
  for (let i = every; i < errors.length; i += every) if (errors[i - every]! > floor) out.push(errors[i]! / errors[i - every]!)
  return out
}
