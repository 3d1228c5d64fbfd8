// Nothing public throws for bad options or bad data: every exported solver factory, combinator
// and method, called with bad options or non-finite data, returns a Left (or, for a fault that
// appears during the run, a diverged result) — never an exception.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { aid } from '../src/hypergrad/aid.js'
import { exact } from '../src/hypergrad/exact.js'
import { itd } from '../src/hypergrad/itd.js'
import { sidPreset, sidWithPreset } from '../src/hypergrad/presets.js'
import { sid } from '../src/hypergrad/sid.js'
import type { BilevelProblem } from '../src/problem/bilevel.js'
import { seed } from '../src/random/rng.js'
import { constantOrThrow } from '../src/schedule/schedule.js'
import { averaged, restarted, rules, stopWhen, switchAfter, tap } from '../src/solvers/combinators.js'
import * as linear from '../src/solvers/linear/index.js'
import { linearSystem, linearSystemAt } from '../src/solvers/linearSystem.js'
import * as lower from '../src/solvers/lower/index.js'
import { heavyBallParams } from '../src/solvers/params.js'
import { runLinear, runLower } from '../src/solvers/run.js'
import { linearIterates, lowerIterates } from '../src/solvers/solver.js'
import type { LinearSolver, LowerSolver } from '../src/solvers/types.js'
import { registry } from './registry.js'

const bed = registry.find((e) => e.name === 'quadratic')!
const problem = bed.build()
const lambda = bed.lambda0
const d = problem.dim
const w0 = new Float64Array(d)
const system = linearSystemAt(problem, lambda, w0)

/** Values no option accepts. */
const badValue = fc.constantFrom<unknown>(Number.NaN, -1, 0, 1.5, Infinity, -Infinity, 'x', null, {}, [], () => 1)
/** An options object whose every field the factories know is bad. */
const badOptions = fc.record({
  eta: badValue,
  beta: fc.constantFrom<unknown>(1, 2, -0.1, Number.NaN, 'x'),
  batchSize: fc.constantFrom<unknown>(0, -3, 1.5, Number.NaN, 1e9, 'x'),
  schedule: fc.constantFrom<unknown>(undefined, null, 'x', 3, {}),
  gamma: fc.constantFrom<unknown>(undefined, null, 'x', 3, {}),
  tol: fc.constantFrom<unknown>(-1, Number.NaN, 'x', Infinity),
  epochLength: fc.constantFrom<unknown>(0, -1, 1.5, Number.NaN),
  maxTerms: fc.constantFrom<unknown>(0, -1, 2.5, Number.NaN),
})

/** Call f; an exception fails the law with its message. */
const noThrow = <A>(what: string, f: () => A): A => {
  try {
    return f()
  } catch (e) {
    throw new Error(`${what} threw: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`)
  }
}

const isLeft = (e: E.Either<unknown, unknown>): boolean => E.isLeft(e)

/** The factories that have no options to get wrong. */
const TAKES_NO_OPTIONS = new Set(['fixedPointLinear', 'neumann', 'direct'])

const lowerFactories = Object.entries(lower).filter(([, f]) => typeof f === 'function') as Array<[string, (o?: unknown) => LowerSolver]>
const linearFactories = Object.entries(linear).filter(([, f]) => typeof f === 'function') as Array<[string, (o?: unknown) => LinearSolver]>

describe('no public function throws', () => {
  it('every solver factory with bad options: the factory returns, and every entry point that runs it returns a Left', () => {
    fc.assert(
      fc.property(badOptions, (o) => {
        for (const [name, make] of lowerFactories) {
          const m = noThrow(`solvers.lower.${name}`, () => make(o))
          expect(isLeft(noThrow(`runLower(${name})`, () => runLower(m, problem, lambda, w0, seed(0), { maxIter: 3 }))), name).toBe(true)
          expect(isLeft(noThrow(`lowerIterates(${name})`, () => lowerIterates(m, problem, lambda, w0, seed(0)))), name).toBe(true)
          expect(isLeft(noThrow(`aid(${name})`, () => aid(problem, lambda, { lower: m, linear: linear.fixedPointLinear(), t: 3, k: 3 }))), name).toBe(true)
          expect(isLeft(noThrow(`sid(${name})`, () => sid(problem, lambda, { lower: m, linear: linear.fixedPointLinear(), t: 3, k: 3, seed: 0 }))), name).toBe(true)
        }
        for (const [name, make] of linearFactories) {
          const m = noThrow(`solvers.linear.${name}`, () => make(o))
          if (TAKES_NO_OPTIONS.has(name)) continue
          expect(isLeft(noThrow(`runLinear(${name})`, () => runLinear(m, system, w0, seed(0), { maxIter: 3 }))), name).toBe(true)
          expect(isLeft(noThrow(`linearIterates(${name})`, () => linearIterates(m, system, w0, seed(0)))), name).toBe(true)
          expect(isLeft(noThrow(`aid(…, ${name})`, () => aid(problem, lambda, { lower: lower.fixedPointIteration(), linear: m, t: 3, k: 3 }))), name).toBe(true)
        }
      }),
      { numRuns: 10 },
    )
  })

  it('every combinator with bad options, and with a refused solver inside, gives a Left', () => {
    const fp = lower.fixedPointIteration()
    const bad = lower.fixedPointIteration({ eta: -1 })
    const cases: Array<[string, () => LowerSolver<any>]> = [
      ['averaged from = −1', () => averaged(fp, { from: -1 })],
      ['averaged from = 1.5', () => averaged(fp, { from: 1.5 })],
      ['averaged of a refused solver', () => averaged(bad)],
      ['stopWhen with no rule', () => stopWhen(fp, null as never)],
      ['stopWhen with a rule that is not one', () => stopWhen(fp, { describe: 'x' } as never)],
      ['stopWhen of a refused solver', () => stopWhen(bad, rules.budget({ phi: 3 }))],
      ['tap with no observer', () => tap(fp, 'x' as never)],
      ['tap of a refused solver', () => tap(bad, () => undefined)],
      ['restarted every 0', () => restarted(fp, 0)],
      ['restarted of a refused solver', () => restarted(bad, 3)],
      ['switchAfter −1', () => switchAfter(fp, -1, fp)],
      ['switchAfter into a refused solver', () => switchAfter(fp, 2, bad)],
      ['switchAfter across kinds', () => switchAfter(fp, 2, linear.fixedPointLinear() as never)],
    ]
    for (const [what, make] of cases) {
      const m = noThrow(what, make)
      expect(isLeft(noThrow(`runLower(${what})`, () => runLower(m, problem, lambda, w0, seed(0), { maxIter: 3 }))), what).toBe(true)
      expect(isLeft(noThrow(`aid(${what})`, () => aid(problem, lambda, { lower: m, linear: linear.fixedPointLinear(), t: 3, k: 3 }))), what).toBe(true)
    }
    expect(isLeft(noThrow('runLinear(averaged from −1)', () => runLinear(averaged(linear.neumann(), { from: -1 }), system, w0, seed(0), { maxIter: 3 })))).toBe(true)
  })

  it('every method with non-finite or malformed inputs gives a Left', () => {
    const nanLambda = Float64Array.from(lambda, () => Number.NaN)
    const nanStart = Float64Array.from(w0, () => Number.NaN)
    const ok = { lower: lower.fixedPointIteration(), linear: linear.fixedPointLinear(), t: 3, k: 3 }
    const calls: Array<[string, () => E.Either<unknown, unknown>]> = [
      ['aid with λ = NaN', () => aid(problem, nanLambda, ok)],
      ['aid with w₀ = NaN', () => aid(problem, lambda, { ...ok, w0: nanStart })],
      ['aid with t = ∞', () => aid(problem, lambda, { ...ok, t: Infinity })],
      ['aid with no solvers', () => aid(problem, lambda, { t: 3, k: 3 } as never)],
      ['sid with seed 0.5', () => sid(problem, lambda, { ...ok, seed: 0.5 })],
      ['sid with v₀ = NaN', () => sid(problem, lambda, { ...ok, seed: 0, v0: nanStart })],
      ['itd with a bad mode', () => itd(problem, lambda, { t: 3, mode: 'sideways' as never })],
      ['itd with η = −1', () => itd(problem, lambda, { t: 3, mode: 'reverse', eta: -1 })],
      ['itd with a bad rule', () => itd(problem, lambda, { t: 3, mode: 'reverse', stopWhen: 3 as never })],
      ['exact with λ = NaN', () => exact(problem, nanLambda)],
      ['exact with maxNewton = −1', () => exact(problem, lambda, { maxNewton: -1 })],
      ['sidPreset with epochs = −1', () => sidPreset('stochDec', problem, lambda, { epochs: -1 })],
      ['sidWithPreset with a batch of 0', () => sidWithPreset('stochConst', problem, lambda, { epochs: 2, batchSize: 0 })],
      ['runLower with maxIter = NaN', () => runLower(lower.fixedPointIteration(), problem, lambda, w0, seed(0), { maxIter: Number.NaN })],
      ['runLinear with v₀ of the wrong length', () => runLinear(linear.conjugateGradient(), system, new Float64Array(d + 1), seed(0), { maxIter: 3 })],
      ['linearSystem with b = NaN', () => linearSystem((v) => Float64Array.from(v), nanStart)],
      ['heavyBallParams with τ > L', () => heavyBallParams(2, 1)],
    ]
    for (const [what, call] of calls) expect(isLeft(noThrow(what, call)), what).toBe(true)
  })

  it('a fault during the run — a problem that returns NaN, or throws — is a diverged result or a Left, never an escape', () => {
    const nanPhi = Object.assign(Object.create(problem) as BilevelProblem, { phi: (w: Float64Array) => Float64Array.from(w, () => Number.NaN) })
    const r = noThrow('aid on a NaN map', () => aid(nanPhi, lambda, { lower: lower.fixedPointIteration(), linear: linear.fixedPointLinear(), t: 5, k: 5 }))
    expect(E.isRight(r) && r.right.status).toBe('diverged')
    const throwing = Object.assign(Object.create(problem) as BilevelProblem, {
      vjpW: () => {
        throw new TypeError('user code failed')
      },
    })
    const s = noThrow('aid on a throwing problem', () => aid(throwing, lambda, { lower: lower.fixedPointIteration(), linear: linear.fixedPointLinear(), t: 5, k: 5 }))
    expect(E.isLeft(s) && s.left.kind).toBe('fault')
    const hb = heavyBallParams(1, 4)
    expect(E.isRight(hb)).toBe(true)
    const sgdBad = noThrow('sgd with a step that turns NaN', () =>
      sid(problem, lambda, { lower: lower.sgd({ schedule: { ...constantOrThrow(1), at: (t: number) => (t < 2 ? 1 : Number.NaN) }, batchSize: 2 }), linear: linear.fixedPointLinear(), t: 1, k: 2, seed: 0 }),
    )
    expect(E.isRight(sgdBad)).toBe(true)
  })
})
