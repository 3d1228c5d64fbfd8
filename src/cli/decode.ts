/**
 * Decoding what the command reads (config files, data paths) with io-ts, and turning io-ts
 * errors into one line that names the field at fault.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { hgError, type HypergradError } from '../errors.js'

/** `config.method.t` style path of the innermost failing field. */
const pathOf = (ctx: t.Context): string => {
  const keys: string[] = []
  for (let i = 1; i < ctx.length; i++) {
    const parent = ctx[i - 1]!.type as { readonly _tag?: string }
    // A union's branches appear as numeric keys: they are not fields of the config.
    if (parent._tag === 'UnionType' || parent._tag === 'IntersectionType') continue
    const k = ctx[i]!.key
    if (k !== '') keys.push(k)
  }
  return keys.length === 0 ? 'config' : `config.${keys.join('.')}`
}

const show = (v: unknown): string => {
  if (v === undefined) return 'nothing (the field is missing)'
  try {
    const s = JSON.stringify(v)
    return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s
  } catch {
    return String(v)
  }
}

/** The most specific error: the one with the deepest context (unions report every branch). */
export const reportErrors = (errors: t.Errors): string => {
  let best: t.ValidationError | undefined
  for (const e of errors) if (best === undefined || e.context.length > best.context.length) best = e
  if (best === undefined) return 'config: invalid'
  const last = best.context[best.context.length - 1]
  const expected = best.message ?? (last ? last.type.name : 'a valid value')
  return `${pathOf(best.context)}: expected ${expected}, got ${show(best.value)}`
}

/** Decode with a codec, mapping failures to a 'config' HypergradError naming the field. */
export const decodeWith = <A>(codec: t.Type<A, unknown, unknown>, value: unknown): E.Either<HypergradError, A> => {
  const r = codec.decode(value)
  return E.isRight(r) ? E.right(r.right) : E.left(hgError('config', reportErrors(r.left)))
}

/** A number that is finite. */
export const FiniteNumber = new t.Type<number, number, unknown>(
  'a finite number',
  (u): u is number => typeof u === 'number' && Number.isFinite(u),
  (u, c) => (typeof u === 'number' && Number.isFinite(u) ? t.success(u) : t.failure(u, c, 'a finite number')),
  t.identity,
)

/** An integer ≥ 0. */
export const NonNegativeInt = new t.Type<number, number, unknown>(
  'an integer ≥ 0',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 0,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= 0 ? t.success(u) : t.failure(u, c, 'an integer ≥ 0')),
  t.identity,
)

/** An integer ≥ 1. */
export const PositiveInt = new t.Type<number, number, unknown>(
  'an integer ≥ 1',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= 1,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= 1 ? t.success(u) : t.failure(u, c, 'an integer ≥ 1')),
  t.identity,
)

/** A number > 0. */
export const PositiveNumber = new t.Type<number, number, unknown>(
  'a positive number',
  (u): u is number => typeof u === 'number' && Number.isFinite(u) && u > 0,
  (u, c) => (typeof u === 'number' && Number.isFinite(u) && u > 0 ? t.success(u) : t.failure(u, c, 'a positive number')),
  t.identity,
)

/** One of a fixed set of strings; the message lists them. */
export const oneOf = <K extends string>(values: ReadonlyArray<K>, what: string): t.Type<K, K, unknown> => {
  const set = new Set<string>(values)
  const name = `${what} (one of ${values.map((v) => `"${v}"`).join(', ')})`
  return new t.Type<K, K, unknown>(
    name,
    (u): u is K => typeof u === 'string' && set.has(u),
    (u, c) => (typeof u === 'string' && set.has(u) ? t.success(u as K) : t.failure(u, c, name)),
    t.identity,
  )
}
