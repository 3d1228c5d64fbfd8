import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { FiniteNumber, Fraction, NonNegativeInt, nonEmpty, oneOf, PositiveInt, PositiveNumber, Seed, strict } from './codecs.js'
import { decodeWith, reportErrors } from './report.js'

const message = <A>(codec: t.Type<A, unknown, unknown>, u: unknown, root = 'config'): string => {
  const r = decodeWith(codec, u, root)
  if (E.isRight(r)) throw new Error('expected a Left')
  expect(r.left.kind).toBe('config')
  return r.left.message
}

describe('number codecs', () => {
  it('accept their range and name it when they refuse', () => {
    expect(PositiveInt.is(1) && NonNegativeInt.is(0) && Seed.is(2 ** 31 - 1) && Fraction.is(0.5) && FiniteNumber.is(-1e308) && PositiveNumber.is(1e-300)).toBe(true)
    expect(message(PositiveInt, 0)).toBe('config: expected an integer ≥ 1, got 0')
    expect(message(NonNegativeInt, 1.5)).toBe('config: expected an integer ≥ 0, got 1.5')
    expect(message(NonNegativeInt, 2 ** 53)).toBe('config: expected an integer ≥ 0 below 2⁵³, got 9007199254740992')
    expect(message(Seed, 2 ** 31)).toBe('config: expected an integer in [0, 2³¹), got 2147483648')
    expect(message(FiniteNumber, '1')).toBe('config: expected a finite number, got "1"')
    expect(message(Fraction, 1)).toBe('config: expected a number in (0, 1), got 1')
  })
})

describe('oneOf and nonEmpty', () => {
  const Color = oneOf(['red', 'green'] as const, 'a colour')
  it('names the choices, with the one meant when close', () => {
    expect(E.isRight(Color.decode('red'))).toBe(true)
    expect(message(Color, 'blue')).toBe('config: expected a colour (one of "red", "green"), got "blue"')
    expect(message(Color, 'Green')).toBe('config: expected a colour (one of "red", "green"), got "Green"; did you mean "green"?')
    expect(message(Color, 3)).toBe('config: expected a colour (one of "red", "green"), got 3')
  })
  it('reports the first bad element by its index, and an empty list', () => {
    const L = nonEmpty(PositiveNumber, 'a non-empty list of positive numbers')
    expect(message(L, [1, 2, -3, 'x'])).toBe('config.2: expected a positive number, got -3')
    expect(message(L, [])).toBe('config: expected a non-empty list of positive numbers, got []')
  })
})

describe('strict', () => {
  const Outer = strict('an outer object', { steps: PositiveInt }, { logScale: t.boolean, warm: strict('warm starts', { lower: t.boolean }) })
  it('decodes the known fields, leaves absent optional ones absent', () => {
    expect(Outer.decode({ steps: 3 })).toEqual(E.right({ steps: 3 }))
    expect(Outer.decode({ steps: 3, logScale: true, warm: { lower: false } })).toEqual(E.right({ steps: 3, logScale: true, warm: { lower: false } }))
  })
  it('refuses an unknown field, with the field meant, before reporting a missing one', () => {
    expect(message(Outer, { step: 3 })).toBe('config.step: unknown field; did you mean "steps"?')
    expect(message(Outer, { steps: 3, logscale: true })).toBe('config.logscale: unknown field; did you mean "logScale"?')
    expect(message(Outer, { steps: 3, warm: { lowr: true } }, 'config.outer')).toBe('config.outer.warm.lowr: unknown field; did you mean "lower"?')
    expect(message(Outer, { steps: 3, colour: 1 })).toBe('config.colour: unknown field (fields: steps, logScale, warm)')
    expect(message(Outer, { steps: 0 })).toBe('config.steps: expected an integer ≥ 1, got 0')
    expect(message(Outer, {})).toBe('config.steps: expected an integer ≥ 1, got nothing (the field is missing)')
    expect(message(Outer, [1])).toBe('config: expected an outer object, got [1]')
    expect(message(Outer, JSON.parse('{"steps": 1, "__proto__": {"x": 1}}'))).toBe('config.__proto__: unknown field (fields: steps, logScale, warm)')
  })
  it('reports through unions without naming their branches', () => {
    const U = strict('a config', { lambda: t.union([FiniteNumber, nonEmpty(FiniteNumber, 'a list')]) })
    expect(message(U, { lambda: [1, 'x'] })).toBe('config.lambda.1: expected a finite number, got "x"')
    const r = U.decode({ lambda: 'x' })
    expect(E.isLeft(r) && reportErrors(r.left, '')).toBe('lambda: expected a finite number, got "x"')
  })
})
