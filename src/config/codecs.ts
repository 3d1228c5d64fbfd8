/**
 * The io-ts codecs of what a user writes (config files, experiment fields, command-line
 * values): numbers with their ranges, names from a fixed set, non-empty lists, and `strict`
 * objects that reject unknown fields with a "did you mean" hint. Every failure carries the
 * phrase `reportErrors` (report.ts) puts after "expected", or, for a `verbatim` failure, the
 * whole message.
 */
import * as t from 'io-ts'
import { showValue } from './show.js'
import { didYouMean } from './suggest.js'

/**
 * The context type of a failure whose message is complete ("unknown field; did you mean …",
 * a contradiction): `reportErrors` prints it after the field's path as it is.
 */
export const Verbatim = new t.Type<never, never, unknown>(
  'verbatim',
  (_u): _u is never => false,
  (u, c) => t.failure(u, c),
  (a) => a,
)

/** A failure at field `key` of context `c` with a complete message. */
export const verbatimFailure = <A>(c: t.Context, key: string, value: unknown, message: string): t.Validation<A> =>
  t.failure(value, t.appendContext(c, key, Verbatim, value), message)

/** A number codec accepting the values that satisfy `ok`; `name` is what a failure says was expected. */
export const numberWhere = (name: string, ok: (x: number) => boolean): t.Type<number, number, unknown> =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && ok(u),
    (u, c) => (typeof u === 'number' && ok(u) ? t.success(u) : t.failure(u, c, name)),
    t.identity,
  )

/** An integer codec on [min, 2⁵³): an integer too large to be exact gets its own message. */
const integerFrom = (min: number, name: string): t.Type<number, number, unknown> =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= min,
    (u, c) =>
      typeof u === 'number' && Number.isSafeInteger(u) && u >= min
        ? t.success(u)
        : t.failure(u, c, typeof u === 'number' && Number.isInteger(u) && u > 0 ? `${name} below 2⁵³` : name),
    t.identity,
  )

/** A finite number. */
export const FiniteNumber = numberWhere('a finite number', Number.isFinite)
/** A finite number > 0. */
export const PositiveNumber = numberWhere('a positive number', (x) => Number.isFinite(x) && x > 0)
/** A number in the open interval (0, 1). */
export const Fraction = numberWhere('a number in (0, 1)', (x) => Number.isFinite(x) && x > 0 && x < 1)
/** An integer ≥ 0 (below 2⁵³). */
export const NonNegativeInt = integerFrom(0, 'an integer ≥ 0')
/** An integer ≥ 1 (below 2⁵³). */
export const PositiveInt = integerFrom(1, 'an integer ≥ 1')
/** A seed: an integer in [0, 2³¹). */
export const Seed = numberWhere('an integer in [0, 2³¹)', (x) => Number.isSafeInteger(x) && x >= 0 && x < 2 ** 31)

/**
 * One of a fixed set of names; `what` says what the name is for ("a lower solver"). A string
 * close to a name gets a hint: `expected a regularization (one of "scalar", "perFeature"), got
 * "perfeature"; did you mean "perFeature"?`.
 */
export const oneOf = <K extends string>(values: ReadonlyArray<K>, what: string): t.Type<K, K, unknown> => {
  const set = new Set<string>(values)
  const name = `${what} (one of ${values.map((v) => `"${v}"`).join(', ')})`
  return new t.Type<K, K, unknown>(
    name,
    (u): u is K => typeof u === 'string' && set.has(u),
    (u, c) => {
      if (typeof u === 'string' && set.has(u)) return t.success(u as K)
      const hint = typeof u === 'string' ? didYouMean(u, values) : ''
      return hint === '' ? t.failure(u, c, name) : t.failure(u, t.appendContext(c, '', Verbatim, u), `expected ${name}, got ${showValue(u)}${hint}`)
    },
    t.identity,
  )
}

/** A non-empty array of `item`s; a bad element is reported at its index. */
export const nonEmpty = <A>(item: t.Type<A, A, unknown>, name: string): t.Type<A[], A[], unknown> =>
  new t.Type<A[], A[], unknown>(
    name,
    (u): u is A[] => Array.isArray(u) && u.length > 0 && u.every((x) => item.is(x)),
    (u, c) => {
      if (!Array.isArray(u) || u.length === 0) return t.failure(u, c, name)
      for (let i = 0; i < u.length; i++) {
        const r = item.validate(u[i], t.appendContext(c, String(i), item, u[i]))
        if (r._tag === 'Left') return r
      }
      return t.success(u as A[])
    },
    t.identity,
  )

type Out<P extends t.Props, O extends t.Props> = { [K in keyof P]: t.TypeOf<P[K]> } & { [K in keyof O]?: t.TypeOf<O[K]> }

/**
 * An object with the `required` and `optional` fields and no other: an unknown field is a
 * failure naming it, with the closest known name as a hint (`unknown field; did you mean
 * "regularization"?`). The decoded object holds the known fields only; an optional field that
 * is absent stays absent.
 */
export const strict = <P extends t.Props, O extends t.Props = Record<never, never>>(
  name: string,
  required: P,
  optional?: O,
): t.Type<Out<P, O>, Out<P, O>, unknown> => {
  const opt = (optional ?? {}) as t.Props
  const known = [...Object.keys(required), ...Object.keys(opt)]
  const isKnown = new Set(known)
  return new t.Type<Out<P, O>, Out<P, O>, unknown>(
    name,
    (u): u is Out<P, O> => typeof u === 'object' && u !== null && !Array.isArray(u),
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, name)
      const rec = u as Record<string, unknown>
      for (const k in rec) {
        if (!Object.prototype.hasOwnProperty.call(rec, k) || isKnown.has(k)) continue
        return verbatimFailure(c, k, rec[k], `unknown field${didYouMean(k, known) || ` (fields: ${known.join(', ')})`}`)
      }
      const out: Record<string, unknown> = {}
      const errors: t.Errors = []
      const field = (k: string, codec: t.Mixed) => {
        const v = Object.prototype.hasOwnProperty.call(rec, k) ? rec[k] : undefined
        const r = codec.validate(v, t.appendContext(c, k, codec, v))
        if (r._tag === 'Left') errors.push(...r.left)
        else out[k] = r.right
      }
      for (const k of Object.keys(required)) field(k, required[k]!)
      for (const k of Object.keys(opt)) if (Object.prototype.hasOwnProperty.call(rec, k)) field(k, opt[k]!)
      return errors.length > 0 ? t.failures(errors) : t.success(out as Out<P, O>)
    },
    t.identity,
  )
}
