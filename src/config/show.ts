/**
 * A value from outside (a parsed config, a command-line argument) as it appears in a one-line
 * message: at most `max` characters, arrays and objects shown to a small depth only. The walk
 * stops as soon as the text is long enough, so that a value nested thousands of levels deep,
 * or megabytes long, costs O(max) and never overflows the stack.
 */

/** Nesting levels shown before an array or object is written `[…]` or `{…}`. */
const MAX_DEPTH = 3

/** Control characters and line breaks would split a message: they are written escaped. */
const escapeLine = (s: string): string =>
  s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))

/** A string shown quoted, cut to `max` characters. */
const showString = (s: string, max: number): string => {
  const cut = s.length > max
  return `"${escapeLine(cut ? s.slice(0, max) : s).replace(/"/g, '\\"')}${cut ? '…' : ''}"`
}

/**
 * Write `v` into `out` until `budget` characters; returns false once the budget is spent.
 * Recursion is bounded by MAX_DEPTH, and each level stops at the budget.
 */
const render = (v: unknown, depth: number, out: string[], budget: { left: number }): boolean => {
  const put = (s: string): boolean => {
    out.push(s)
    budget.left -= s.length
    return budget.left > 0
  }
  if (v === undefined) return put('undefined')
  if (v === null || typeof v === 'boolean') return put(String(v))
  if (typeof v === 'number') return put(Object.is(v, -0) ? '-0' : String(v))
  if (typeof v === 'bigint') return put(`${v}n`)
  if (typeof v === 'string') return put(showString(v, Math.max(8, budget.left - 4)))
  if (typeof v === 'function' || typeof v === 'symbol') return put(`<${typeof v}>`)
  const isArray = Array.isArray(v) || ArrayBuffer.isView(v)
  if (depth >= MAX_DEPTH) return put(isArray ? '[…]' : '{…}')
  if (isArray) {
    const a = v as ArrayLike<unknown>
    if (!put('[')) return false
    for (let i = 0; i < a.length; i++) {
      if (i > 0 && !put(',')) return false
      if (!render(a[i], depth + 1, out, budget)) return false
    }
    return put(']')
  }
  if (!put('{')) return false
  let first = true
  for (const k in v as object) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) continue
    if (!first && !put(',')) return false
    first = false
    if (!put(`${showString(k, 40)}:`)) return false
    if (!render((v as Record<string, unknown>)[k], depth + 1, out, budget)) return false
  }
  return put('}')
}

/**
 * `v` as JSON-like text of at most `max` characters (cut with "…"), on one line. Arrays and
 * objects deeper than three levels are written `[…]` / `{…}`.
 */
export const showValue = (v: unknown, max = 60): string => {
  const out: string[] = []
  const complete = render(v, 0, out, { left: max + 1 })
  const s = out.join('')
  return complete && s.length <= max ? s : `${s.slice(0, Math.max(1, max - 1))}…`
}

/** A field name as a path shows it: on one line, cut to `max` characters. */
export const showKey = (k: string, max = 40): string => {
  const s = escapeLine(k.length > max ? k.slice(0, max) : k)
  return k.length > max ? `${s}…` : s
}
