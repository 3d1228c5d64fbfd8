import { describe, expect, it } from 'vitest'
import { orThrow } from '../errors.js'
import { checkLinearSolver, formatFailures } from '../laws/index.js'
import { linearFixedPointProblem } from '../problems/linearFixedPoint.js'
import { seed as rngSeed } from '../random/rng.js'
import { linearSystemAt } from '../solvers/linearSystem.js'
import { unfold } from '../solvers/solver.js'
import { gmres } from './gmres.js'

describe('gmres', () => {
  const q = 0.9
  const problem = orThrow(linearFixedPointProblem({ dim: 12, hyperDim: 3, q, seed: 8 }))
  const lambda = Float64Array.of(0.3, -0.5, 1)
  const build = () => linearSystemAt(problem, lambda, problem.solution(lambda))
  it('obeys the linear-solver laws on a non-symmetric system (and reaches its dense solution)', () => {
    expect(build().symmetric).toBe(false)
    const report = checkLinearSolver(gmres(), build, { seed: 2, steps: 15, numRuns: 10 })
    expect(formatFailures(report, 'gmres')).toBe('')
  })
  it('its residual never exceeds qᵏ‖r₀‖ (the fixed-point bound) and is exact after d steps', () => {
    const sys = build()
    const states = [...unfold(gmres(), sys, new Float64Array(12), rngSeed(0))]
    const r0 = states[0]!.residual
    const trueResidual = (v: Float64Array): number => Math.hypot(...sys.matvec(v).map((x, i) => x - sys.rhs[i]!))
    for (const s of states) {
      expect(Math.abs(trueResidual(s.v) - s.residual)).toBeLessThan(1e-10 * r0)
      expect(s.residual).toBeLessThanOrEqual(q ** s.iter * r0 * (1 + 1e-9) + 1e-12 * r0)
    }
    const last = states[states.length - 1]!
    expect(last.iter).toBeLessThanOrEqual(13) // d steps, and one more that finds the space invariant to rounding
    expect(last.stop).toBe('converged')
    expect(trueResidual(last.v)).toBeLessThan(1e-10 * r0)
  })
})
