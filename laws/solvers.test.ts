// Every solver exported by src/solvers/lower and src/solvers/linear through the same solver laws
// (replay, determinism, purity, seeds, start, finiteness, residuals, convergence), on the
// registered problems it applies to: the quadratic test bed (symmetric, stochastic) and the linear
// fixed-point problem (non-symmetric, deterministic), both with closed forms.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import * as laws from '../src/laws/index.js'
import type { BilevelProblem, ClosedForm } from '../src/problem/bilevel.js'
import * as linear from '../src/solvers/linear/index.js'
import { linearSystemAt } from '../src/solvers/linearSystem.js'
import * as lower from '../src/solvers/lower/index.js'
import { registry } from './registry.js'
import { knownDeviations, linearSolvers, lowerSolvers } from './solvers.js'

const entry = (name: string) => registry.find((e) => e.name === name)!
const beds = ['quadratic', 'linearFixedPoint'].map((name) => {
  const e = entry(name)
  const problem = e.build() as BilevelProblem & ClosedForm
  return { name, e, problem }
})

const STEPS = 20
// The suite's fast-check seed (vitest.setup.ts; HYPERGRAD_FC_SEED overrides it).
const SEED = fc.readConfigureGlobal().seed ?? 20210413

describe('solver discovery', () => {
  it('every export of the solver modules is a solver the laws can build, or a listed helper', () => {
    const unusable = [...lowerSolvers(), ...linearSolvers()].filter((d) => d.kind === 'unusable')
    expect(unusable).toEqual([])
  })
  it('finds the solvers the library documents (when they are exported)', () => {
    const names = [...lowerSolvers(), ...linearSolvers()].map((d) => d.exportName)
    const documented = ['fixedPointIteration', 'heavyBall', 'sgd', 'svrg', 'saga', 'fixedPointLinear', 'conjugateGradient', 'neumann', 'heavyBallLinear', 'stochasticFixedPoint', 'sgdQuadratic', 'svrgLinear', 'stochasticNeumann']
    const exported = documented.filter((n) => n in lower || n in linear)
    expect(names).toEqual(expect.arrayContaining(exported))
  })
})

describe('lower-level solver laws', () => {
  for (const d of lowerSolvers())
    if (d.kind === 'method')
      for (const bed of beds)
        it(`${d.exportName} on ${bed.name}`, (ctx) => {
          const method = d.make({ problem: bed.problem, lambda0: bed.e.lambda0 })
          if (method === undefined || E.isLeft(lower.checkLowerMethod(method, bed.problem, STEPS))) return ctx.skip()
          const deviation = knownDeviations[d.exportName]
          const r = laws.checkLowerMethod(method, bed.problem, bed.e.lambda0, { seed: SEED, steps: STEPS, numRuns: 4, ...(deviation ? { skip: deviation.laws } : {}) })
          expect(laws.formatFailures(r, `${method.name} on ${bed.name}`)).toBe('')
          if (!method.stochastic) expect(r.results.find((x) => x.law === 'solver.convergence')?.skipped).toBeUndefined()
        })
})

describe('linear-system solver laws', () => {
  for (const d of linearSolvers())
    if (d.kind === 'method')
      for (const bed of beds)
        it(`${d.exportName} on ${bed.name}`, (ctx) => {
          const build = () => linearSystemAt(bed.problem, bed.e.lambda0, bed.problem.solution(bed.e.lambda0))
          const system = build()
          const method = d.make({ problem: bed.problem, lambda0: bed.e.lambda0, system })
          if (method === undefined || E.isLeft(linear.checkLinearMethod(method, linear.shapeOfSystem(system), STEPS))) return ctx.skip()
          const deviation = knownDeviations[d.exportName]
          const r = laws.checkLinearMethod(method, build, { seed: SEED, steps: STEPS, numRuns: 4, ...(deviation ? { skip: deviation.laws } : {}) })
          expect(laws.formatFailures(r, `${method.name} on ${bed.name}`)).toBe('')
          if (deviation !== undefined) {
            // the recorded deviation is real: those laws fail (remove the entry once they hold)
            const all = laws.checkLinearMethod(method, build, { seed: SEED, steps: STEPS, numRuns: 4 })
            for (const law of deviation.laws) expect(all.results.find((x) => x.law === law)?.ok, `${d.exportName}: ${deviation.why}`).toBe(false)
          }
        })
})
