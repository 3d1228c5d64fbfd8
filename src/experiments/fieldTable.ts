/**
 * An experiment's configuration fields from one table: each field's codec, the kind it is
 * written as on the command line and its doc line give both the field specs of
 * `hypergrad reproduce list` and the strict decoder of the configuration.
 */
import type * as t from 'io-ts'
import { strict } from '../config/codecs.js'
import type { FieldKind, FieldSpec } from './types.js'

/** One row of a field table. */
export interface FieldRow {
  readonly codec: t.Mixed
  readonly kind: FieldKind
  readonly doc: string
  /** The allowed names ('enum', 'enumList'). */
  readonly values?: ReadonlyArray<string>
}

/** The field specs, in the table's order, and the decoder of a configuration C (`what` names it in errors). */
export const fieldTable = <C>(
  what: string,
  rows: { readonly [K in keyof C]-?: FieldRow },
): { readonly fields: ReadonlyArray<FieldSpec>; readonly decode: (u: unknown) => t.Validation<C> } => {
  const entries = Object.entries(rows) as Array<[string, FieldRow]>
  const codec = strict(what, Object.fromEntries(entries.map(([name, r]) => [name, r.codec])) as t.Props)
  return {
    fields: entries.map(([name, r]) => ({ name, kind: r.kind, ...(r.values === undefined ? {} : { values: r.values }), doc: r.doc })),
    decode: (u) => codec.decode(u) as t.Validation<C>,
  }
}
