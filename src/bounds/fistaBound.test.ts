// The FISTA rate (R14) of ehrhardtRoberts.ts against the iteration itself on the E&R test problem.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../errors.js'
import { distance, norm } from '../linalg/vector.js'
import { erQuadraticProblem } from '../problems/erQuadratic.js'
import { seed as rngSeed } from '../random/rng.js'
import { fista } from '../solvers/lower/fista.js'
import { unfold } from '../solvers/solver.js'
import { aPrioriBoundAfter, fistaBound, lowerErrorAPriori } from './ehrhardtRoberts.js'
import { erConstantsFor } from './constants.js'

describe('fistaBound (R14)', () => {
  it('bounds ‖wₖ − w*‖ of fista({ restart: false }) at every k, on instances of κ from about 10 to 10⁴', () => {
    let worst = 0
    for (const [rows, cols, seed] of [[40, 4, 1], [200, 10, 2], [1000, 10, 3], [60, 30, 4]] as const) {
      const problem = orThrow(erQuadraticProblem({ rows, cols, seed }))
      const lambda = problem.lambda0
      const { tau, L } = problem.lower.curvature(lambda)
      const wStar = problem.solution(lambda)
      const d0 = norm(wStar)
      let k = 0
      for (const s of unfold(fista({ restart: false }), { problem, lambda }, new Float64Array(cols), rngSeed(0))) {
        const bound = orThrow(fistaBound({ tau, L }, k, d0, 0.5 * problem.alpha))
        const err = distance(s.w, wStar)
        expect(err).toBeLessThanOrEqual(bound * (1 + 1e-12))
        worst = Math.max(worst, err / bound)
        if (++k > 300) break
      }
    }
    // Not vacuous: somewhere the error comes within a factor 10 of the bound (0.19 measured), so a bound inflated 10× fails.
    expect(worst).toBeGreaterThan(1 / 10)
  })
  it('is the lower error of an a priori bound with kind fista, and refuses a step above 1/L', () => {
    const problem = orThrow(erQuadraticProblem({ rows: 50, cols: 5, seed: 7 }))
    const c = orThrow(erConstantsFor(problem, problem.lambda0))
    expect(orThrow(lowerErrorAPriori(c, { kind: 'fista' }, 9, 2))).toBe(orThrow(fistaBound(c, 9, 2)))
    expect(orThrow(fistaBound(c, 9, 2))).toBeCloseTo((2 * Math.sqrt(5) * 2 * Math.sqrt(1 + c.L / c.tau)) / 11, 12)
    const run = { t: 5, k: 3, lower: { kind: 'fista' as const }, linear: { kind: 'cg' as const }, dist0: 1 }
    expect(E.isRight(aPrioriBoundAfter(c, run))).toBe(true)
    const bad = fistaBound(c, 3, 1, 1.5 / c.L)
    expect(E.isLeft(bad) && bad.left.message).toMatch(/FISTA's bound needs a step in \(0, 1\/L\]/)
    expect(E.isLeft(fistaBound(c, -1, 1))).toBe(true)
  })
})
