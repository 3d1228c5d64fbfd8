/**
 * io-ts failures as one line that names the field at fault: `config.method.t: expected an
 * integer ≥ 0, got -3`, or a complete message after the path (`config.regularisation: unknown
 * field; did you mean "regularization"?`). The value is shown by `showValue` (cut, bounded
 * depth), so that no value, however deep or long, makes the message long or the formatter
 * recurse.
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { hgError, type HypergradError } from '../errors.js'
import { Verbatim } from './codecs.js'
import { showKey, showValue } from './show.js'

/** The path of a failure below `root`: `root.a.b.0`; union and intersection branches are not fields. */
export const pathOf = (ctx: t.Context, root: string): string => {
  const keys: string[] = []
  for (let i = 1; i < ctx.length; i++) {
    const parent = ctx[i - 1]!.type as { readonly _tag?: string }
    if (parent._tag === 'UnionType' || parent._tag === 'IntersectionType') continue
    const k = ctx[i]!.key
    if (k !== '') keys.push(showKey(k))
  }
  return [root, ...keys].filter((k) => k !== '').join('.') || 'config'
}

const isVerbatim = (e: t.ValidationError): boolean => e.context[e.context.length - 1]?.type === Verbatim

/**
 * The most telling failure, as one line: a complete message (an unknown field explains the
 * missing one next to it) before the others, then the deepest (a union reports every branch).
 */
export const reportErrors = (errors: t.Errors, root = 'config'): string => {
  let best: t.ValidationError | undefined
  for (const e of errors) {
    if (best === undefined) best = e
    else if (isVerbatim(e) !== isVerbatim(best)) best = isVerbatim(e) ? e : best
    else if (e.context.length > best.context.length) best = e
  }
  if (best === undefined) return `${root || 'config'}: invalid`
  const path = pathOf(best.context, root)
  if (isVerbatim(best)) return `${path}: ${best.message ?? 'invalid'}`
  const last = best.context[best.context.length - 1]
  const expected = best.message ?? (last ? last.type.name : 'a valid value')
  return `${path}: expected ${expected}, got ${best.value === undefined ? 'nothing (the field is missing)' : showValue(best.value)}`
}

/**
 * Decode with a codec; a failure is a 'config' HypergradError of one line, its path starting
 * at `root` and the whole message after `prefix` (`reproduce bounds: `).
 */
export const decodeWith = <A>(codec: t.Type<A, unknown, unknown>, value: unknown, root = 'config', prefix = ''): E.Either<HypergradError, A> => {
  const r = codec.decode(value)
  return E.isRight(r) ? E.right(r.right) : E.left(hgError('config', `${prefix}${reportErrors(r.left, root)}`))
}
