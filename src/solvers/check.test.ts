import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { affineProblem, gaussian, linearFP, quadratic, ridge, scaledIdentity } from '../hypergrad/fixtures.test-util.js'
import { conjugateGradient } from './linear/conjugateGradient.js'
import { stochasticFixedPoint } from './linear/stochasticFixedPoint.js'
import { sgd } from './lower/sgd.js'
import { constantOrThrow } from '../schedule/schedule.js'
import {
  checkContraction,
  checkCount,
  checkLambda,
  checkPositive,
  checkSeed,
  checkStart,
  checkTolerance,
  faultOf,
  guard,
  shapeOfProblem,
  validateLinear,
  validateLower,
} from './check.js'

const kind = <A>(e: E.Either<{ kind: string }, A>): string => (E.isLeft(e) ? e.left.kind : 'right')

describe('check (the one validation module)', () => {
  it('checkCount accepts integers ≥ 0 only', () => {
    expect([0, 3, 1e6].map((x) => kind(checkCount('f', 't', x)))).toEqual(['right', 'right', 'right'])
    expect([-1, 1.5, NaN, Infinity].map((x) => kind(checkCount('f', 't', x)))).toEqual(['domain', 'domain', 'domain', 'domain'])
    const l = checkCount('aid', 'k', -2)
    expect(E.isLeft(l) && l.left.message).toBe('aid: k must be an integer ≥ 0, got -2')
  })
  it('checkLambda checks length, finiteness and the problem domain, and copies', () => {
    const p = quadratic(1)
    const lam = Float64Array.of(1, 2, 3)
    const ok = checkLambda('f', p, lam)
    expect(E.isRight(ok) && ok.right !== lam && Array.from(ok.right)).toEqual([1, 2, 3])
    expect(kind(checkLambda('f', p, Float64Array.of(1, 2)))).toBe('dimension')
    expect(kind(checkLambda('f', p, Float64Array.of(1, NaN, 3)))).toBe('domain')
    const { problem } = ridge(1)
    expect(kind(checkLambda('f', problem, Float64Array.of(1, 1, -1, 1, 1)))).toBe('domain') // ridge needs λ > 0
  })
  it('checkContraction rejects q ≥ 1 naming q and λ', () => {
    const bad = affineProblem(scaledIdentity(2, 1.1), gaussian(1, 2, 1), new Float64Array(2), new Float64Array(2), 1.1)
    const r = checkContraction('exact', bad, Float64Array.of(0))
    expect(E.isLeft(r) && r.left.kind).toBe('domain')
    expect(E.isLeft(r) && r.left.message).toMatch(/q = 1\.1 at λ = 0/)
    expect(kind(checkContraction('f', linearFP(1, 0.5), Float64Array.of(0, 0, 0)))).toBe('right')
  })
  it('checkStart defaults to zeros, checks length and finiteness, and copies', () => {
    const z = checkStart('f', 'w₀', undefined, 3)
    expect(E.isRight(z) && Array.from(z.right)).toEqual([0, 0, 0])
    expect(kind(checkStart('f', 'w₀', new Float64Array(2), 3))).toBe('dimension')
    expect(kind(checkStart('f', 'w₀', Float64Array.of(0, Infinity, 0), 3))).toBe('data')
  })
  it('tolerances, positive numbers and seeds', () => {
    expect([undefined, 0, 1e-8].map((x) => kind(checkTolerance('f', 'tol', x)))).toEqual(['right', 'right', 'right'])
    expect([-1, NaN].map((x) => kind(checkTolerance('f', 'tol', x)))).toEqual(['domain', 'domain'])
    expect([0, -1, NaN, Infinity].map((x) => kind(checkPositive('f', 'η', x)))).toEqual(['domain', 'domain', 'domain', 'domain'])
    expect(kind(checkPositive('f', 'η', 0.5))).toBe('right')
    expect(kind(checkSeed('f', 1.5))).toBe('domain')
  })
  it('solvers against problems: stochastic solvers need a stochastic problem; CG needs symmetry; non-solvers are refused', () => {
    const stochLower = sgd({ schedule: constantOrThrow(0.5), batchSize: 1 })
    const stochLinear = stochasticFixedPoint({ schedule: constantOrThrow(0.5), batchSize: 1 })
    const lp = linearFP(1)
    expect(kind(validateLower('aid', stochLower, lp, 5))).toBe('config')
    expect(kind(validateLinear('aid', stochLinear, shapeOfProblem(lp), 5))).toBe('config')
    expect(kind(validateLower('aid', stochLower, quadratic(1), 5))).toBe('right')
    expect(kind(validateLinear('aid', conjugateGradient(), shapeOfProblem(lp), 5))).toBe('domain')
    expect(kind(validateLinear('aid', conjugateGradient(), shapeOfProblem(quadratic(1)), 5))).toBe('right')
    expect(kind(validateLower('aid', { name: 'not a solver' } as never, lp, 5))).toBe('config')
    expect(kind(validateLinear('aid', conjugateGradient() as never, shapeOfProblem(lp), 5))).toBe('domain')
    expect(kind(validateLower('aid', conjugateGradient() as never, lp, 5))).toBe('config')
  })
  it('guard turns an exception from code the library calls into a one-line Left', () => {
    const r = guard('mySolver', () => {
      throw new Error('first line\nsecond line')
    })
    expect(E.isLeft(r) && [r.left.kind, r.left.message]).toEqual(['fault', 'mySolver: first line'])
    expect(faultOf('x', new RangeError('bad shape')).kind).toBe('dimension')
  })
})
