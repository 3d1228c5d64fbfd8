/** CSV output for results tables (RFC 4180 quoting; numbers printed in full precision). */

export type Cell = string | number | boolean | null | undefined

const quote = (c: Cell): string => {
  if (c === null || c === undefined) return ''
  if (typeof c === 'number') return Number.isFinite(c) ? String(c) : c > 0 ? 'Infinity' : c < 0 ? '-Infinity' : 'NaN'
  const s = String(c)
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** Rows of records to CSV text; the columns are the union of the rows' keys, in first-seen order. */
export const toCsv = (rows: ReadonlyArray<Readonly<Record<string, Cell>>>): string => {
  const cols: string[] = []
  const seen = new Set<string>()
  for (const r of rows) for (const k of Object.keys(r)) if (!seen.has(k)) (seen.add(k), cols.push(k))
  const lines = [cols.map(quote).join(',')]
  for (const r of rows) lines.push(cols.map((c) => quote(r[c])).join(','))
  return lines.join('\n') + '\n'
}
