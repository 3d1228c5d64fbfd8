// The stream laws (take/map/drop/every/scan algebra, replay, determinism) on the library's
// stream constructors, on every step-size schedule, and on a solver's state stream.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkScheduleLaws, checkStreamLaws, formatFailures } from '../src/laws/index.js'
import { vecArb } from '../src/laws/numeric.js'
import * as rng from '../src/random/rng.js'
import { constantOrThrow, custom, decreasingOrThrow, twoPhase } from '../src/schedule/schedule.js'
import { average, fromArray, iterate, map, range, repeat, scan, take, unfold, zip, type Stream } from '../src/stream/stream.js'
import { fixedPointIteration } from '../src/solvers/lower/fixedPoint.js'
import { registry } from './registry.js'
import * as E from 'fp-ts/lib/Either.js'
import { iter } from '../src/solvers/testing.test-util.js'

const seed = fc.readConfigureGlobal().seed ?? 20210413
const noFailures = (title: string, r: ReturnType<typeof checkStreamLaws>) => expect(formatFailures(r, title)).toBe('')

describe('stream constructors obey the stream laws', () => {
  it('iterate (an affine recursion on numbers)', () => {
    noFailures('iterate', checkStreamLaws(([x0, a]: [number, number]) => iterate(x0, (x) => a * x + 1), fc.tuple(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), fc.double({ min: -1, max: 1, noNaN: true })), { seed }))
  })
  it('iterate on vectors (fresh Float64Arrays)', () => {
    noFailures('iterate (vectors)', checkStreamLaws((v: Float64Array) => iterate(v, (x) => x.map((y, i) => 0.5 * y + i)), vecArb(3), { seed }))
  })
  it('unfold (a finite stream: a random walk that stops after n steps, its state an Rng)', () => {
    const walk = ([s, n]: [number, number]): Stream<number> =>
      unfold<[rng.Rng, number, number], number>([rng.seed(s), 0, 0], ([r, k, x]) => {
        if (k >= n) return undefined
        const [u, next] = rng.uniform(r)
        return [x, [next, k + 1, x + u - 0.5]]
      })
    noFailures('unfold', checkStreamLaws(walk, fc.tuple(fc.integer(), fc.integer({ min: 0, max: 30 })), { seed }))
  })
  it('range, finite and infinite; fromArray; repeat', () => {
    noFailures('range(n)', checkStreamLaws((n: number) => range(n), fc.integer({ min: 0, max: 40 }), { seed }))
    noFailures('range()', checkStreamLaws((k: number) => map((i: number) => i * k)(range()), fc.integer({ min: -5, max: 5 }), { seed }))
    noFailures('fromArray', checkStreamLaws((xs: number[]) => fromArray(xs), fc.array(fc.double()), { seed }))
    noFailures('repeat', checkStreamLaws((x: number) => repeat(x), fc.double(), { seed }))
  })
  it('composites: scan, zip, take, average', () => {
    noFailures('scan∘range', checkStreamLaws((n: number) => scan((a: number, x: number) => a + x, 0)(range(n)), fc.integer({ min: 0, max: 30 }), { seed }))
    noFailures('zip', checkStreamLaws((n: number) => zip(range(n))(iterate(1, (x) => x / 3)), fc.integer({ min: 0, max: 30 }), { seed }))
    noFailures('average', checkStreamLaws((v: Float64Array) => average(take(15)(iterate(v, (x) => x.map((y) => -0.9 * y + 1)))), vecArb(2), { seed }))
  })
})

describe('schedules obey the schedule and stream laws', () => {
  const positive = fc.double({ min: 1e-3, max: 100, noNaN: true })
  it('constant', () => {
    noFailures('constant', checkScheduleLaws((eta: number) => constantOrThrow(eta), positive, { seed }))
  })
  it('decreasing', () => {
    noFailures('decreasing', checkScheduleLaws(([b, g]: [number, number]) => decreasingOrThrow(b, g), fc.tuple(positive, positive), { seed }))
  })
  it('twoPhase', () => {
    const arb = fc.record({ q: fc.double({ min: 0, max: 0.99, noNaN: true }), sigma2: fc.double({ min: 0, max: 10, noNaN: true }), switchAt: fc.nat({ max: 20 }) })
    noFailures('twoPhase', checkScheduleLaws((p: { q: number; sigma2: number; switchAt: number }) => {
      const s = twoPhase(p)
      if (E.isLeft(s)) throw new Error(s.left.message)
      return s.right
    }, arb, { seed }))
  })
  it('custom', () => {
    noFailures('custom', checkScheduleLaws((c: number) => custom((t) => c / Math.sqrt(1 + t)), positive, { seed }))
  })
})

describe('a solver state stream obeys the stream laws', () => {
  it('fixedPointIteration on the quadratic test bed', () => {
    const e = registry.find((x) => x.name === 'quadratic')!
    const problem = e.build()
    const method = fixedPointIteration()
    noFailures('fixedPointIteration states', checkStreamLaws((w0: Float64Array) => iter(method, problem, e.lambda0, w0, rng.seed(0)), vecArb(problem.dim), { seed, numRuns: 10 }))
  })
})
