/**
 * The checks of the outer optimizers' options. Every factory validates its options before it
 * returns an optimizer, with a one-line message that names the option: `lbfgs: memory must be an
 * integer in [1, 1000], got 0` from the library, `outer.memory: …` when the options come from a
 * tune config (the `Label` says which).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../../errors.js'

/** How an option is named in messages. */
export type Label = (option: string) => string

/** Options named after the optimizer (`lbfgs: memory`), for the library's factories. */
export const named = (who: string): Label => (option) => `${who}: ${option}`

/** Options named as fields of a tune config's `outer` object. */
export const outerField: Label = (option) => `outer.${option}`

export interface Range {
  readonly min: number
  readonly max: number
  /** Whether the ends are excluded (default: both included). */
  readonly openMin?: boolean
  readonly openMax?: boolean
  readonly integer?: boolean
}

export const POSITIVE: Range = { min: 0, max: Infinity, openMin: true }
export const NONNEGATIVE: Range = { min: 0, max: Infinity }
export const UNIT_OPEN: Range = { min: 0, max: 1, openMin: true, openMax: true }

const show = (r: Range): string =>
  r.max === Infinity
    ? `${r.integer === true ? 'an integer' : 'a number'} ${r.openMin === true ? '>' : '≥'} ${r.min}`
    : `${r.integer === true ? 'an integer' : 'a number'} in ${r.openMin === true ? '(' : '['}${r.min}, ${r.max}${r.openMax === true ? ')' : ']'}`

const inRange = (x: number, r: Range): boolean =>
  (r.openMin === true ? x > r.min : x >= r.min) && (r.openMax === true ? x < r.max : x <= r.max) && (r.integer !== true || Number.isInteger(x))

/** An optional numeric option: the fallback when absent, else a finite number in the range. */
export const option = (label: Label, name: string, value: number | undefined, fallback: number, range: Range): E.Either<HypergradError, number> => {
  const x = value ?? fallback
  return typeof x === 'number' && Number.isFinite(x) && inRange(x, range)
    ? E.right(x) : E.left(hgError('config', `${label(name)} must be ${show(range)}, got ${String(x)}`))
}

/** A required positive step. */
export const requiredStep = (label: Label, name: string, value: number | undefined, who: string): E.Either<HypergradError, number> =>
  value === undefined
    ? E.left(hgError('config', `${label(name)} is required by ${who}`))
    : option(label, name, value, NaN, POSITIVE)

