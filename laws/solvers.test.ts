// Every solver of the registry (laws/solvers.ts) — the factories exported by src/solvers/lower and
// src/solvers/linear, the combinators applied to solvers of both kinds, and a solver written
// outside the library — through the same solver laws (check, start, replay, determinism, seeds,
// purity, values, finiteness, residuals, convergence), on the registered problems it applies to:
// the quadratic test bed (symmetric, stochastic) and the linear fixed-point problem
// (non-symmetric, deterministic), both with closed forms.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import * as laws from '../src/laws/index.js'
import type { BilevelProblem, ClosedForm } from '../src/problem/bilevel.js'
import { shapeOfSystem, validateLinear, validateLower } from '../src/solvers/check.js'
import { linearSystemAt } from '../src/solvers/linearSystem.js'
import type { LinearSolver, LowerSolver } from '../src/solvers/types.js'
import { registry } from './registry.js'
import { composedLinear, composedLower, knownDeviations, linearSolvers, lowerSolvers, type SolverEnv } from './solvers.js'

const entry = (name: string) => registry.find((e) => e.name === name)!
const beds = ['quadratic', 'linearFixedPoint'].map((name) => {
  const e = entry(name)
  const problem = e.build() as BilevelProblem & ClosedForm
  return { name, e, problem }
})

const STEPS = 20
// The suite's fast-check seed (vitest.setup.ts; HYPERGRAD_FC_SEED overrides it).
const SEED = fc.readConfigureGlobal().seed ?? 20210413

const systemOf = (bed: (typeof beds)[number]) => () => linearSystemAt(bed.problem, bed.e.lambda0, bed.problem.solution(bed.e.lambda0))

type Make<M> = (env: SolverEnv) => M | undefined
const lowerEntries: Array<[string, Make<LowerSolver<any>>]> = [
  ...lowerSolvers().flatMap((d) => (d.kind === 'solver' ? [[d.exportName, d.make] as [string, Make<LowerSolver<any>>]] : [])),
  ...Object.entries(composedLower),
]
const linearEntries: Array<[string, Make<LinearSolver<any>>]> = [
  ...linearSolvers().flatMap((d) => (d.kind === 'solver' ? [[d.exportName, d.make] as [string, Make<LinearSolver<any>>]] : [])),
  ...Object.entries(composedLinear),
]

/** Whether a registered solver applies to a bed (its check accepts the problem or system). */
const appliesLower = (make: Make<LowerSolver<any>>, bed: (typeof beds)[number]) => {
  const m = make({ problem: bed.problem, lambda0: bed.e.lambda0 })
  return m !== undefined && E.isRight(validateLower('laws', m, bed.problem, STEPS)) ? m : undefined
}
const appliesLinear = (make: Make<LinearSolver<any>>, bed: (typeof beds)[number]) => {
  const system = systemOf(bed)()
  const m = make({ problem: bed.problem, lambda0: bed.e.lambda0, system })
  return m !== undefined && E.isRight(validateLinear('laws', m, shapeOfSystem(system), STEPS)) ? m : undefined
}

describe('solver discovery', () => {
  it('every export of the solver modules is a solver factory the laws can build', () => {
    const unusable = [...lowerSolvers(), ...linearSolvers()].filter((d) => d.kind === 'unusable')
    expect(unusable).toEqual([])
  })
  it('finds the solvers the library documents', () => {
    const names = [...lowerSolvers(), ...linearSolvers()].map((d) => d.exportName)
    const documented = ['fixedPointIteration', 'heavyBall', 'sgd', 'svrg', 'saga', 'newton', 'fixedPointLinear', 'conjugateGradient', 'neumann', 'heavyBallLinear', 'stochasticFixedPoint', 'sgdQuadratic', 'svrgLinear', 'stochasticNeumann', 'direct']
    expect(names).toEqual(expect.arrayContaining(documented))
  })
  it('every registered solver is checked on at least one test bed (none escapes the laws)', () => {
    const escaped = [
      ...lowerEntries.filter(([, make]) => beds.every((bed) => appliesLower(make, bed) === undefined)).map(([n]) => n),
      ...linearEntries.filter(([, make]) => beds.every((bed) => appliesLinear(make, bed) === undefined)).map(([n]) => n),
    ]
    expect(escaped).toEqual([])
  })
})

describe('lower-level solver laws', () => {
  for (const [name, make] of lowerEntries)
    for (const bed of beds)
      it(`${name} on ${bed.name}`, (ctx) => {
        const solver = appliesLower(make, bed)
        if (solver === undefined) return ctx.skip()
        const deviation = knownDeviations[name]
        const r = laws.checkLowerSolver(solver, bed.problem, bed.e.lambda0, { seed: SEED, steps: STEPS, numRuns: 4, ...(deviation ? { skip: deviation.laws } : {}) })
        expect(laws.formatFailures(r, `${solver.name} on ${bed.name}`)).toBe('')
        if (!solver.stochastic && !name.startsWith('averaged')) expect(r.results.find((x) => x.law === 'solver.convergence')?.skipped).toBeUndefined()
      })
})

describe('linear-system solver laws', () => {
  for (const [name, make] of linearEntries)
    for (const bed of beds)
      it(`${name} on ${bed.name}`, (ctx) => {
        const solver = appliesLinear(make, bed)
        if (solver === undefined) return ctx.skip()
        const deviation = knownDeviations[name]
        const r = laws.checkLinearSolver(solver, systemOf(bed), { seed: SEED, steps: STEPS, numRuns: 4, ...(deviation ? { skip: deviation.laws } : {}) })
        expect(laws.formatFailures(r, `${solver.name} on ${bed.name}`)).toBe('')
        if (deviation !== undefined) {
          // the recorded deviation is real: those laws fail (remove the entry once they hold)
          const all = laws.checkLinearSolver(solver, systemOf(bed), { seed: SEED, steps: STEPS, numRuns: 4 })
          for (const law of deviation.laws) expect(all.results.find((x) => x.law === law)?.ok, `${name}: ${deviation.why}`).toBe(false)
        }
      })
})
