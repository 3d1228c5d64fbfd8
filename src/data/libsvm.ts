/**
 * The libsvm / svmlight text format: one sample per line,
 *
 *     label index:value index:value …   # optional comment
 *
 * with 1-based, strictly increasing feature indices; features not listed are zero. Blank
 * lines and comment-only lines are skipped; an optional `qid:n` token right after the label
 * (svmlight's query id) is accepted and ignored. The reader returns a dense Dataset.
 */
import * as E from 'fp-ts/lib/Either.js'
import { readFileSync } from 'node:fs'
import { hgError, type HypergradError } from '../errors.js'
import { matrix } from '../linalg/types.js'
import type { Dataset } from './dataset.js'

/** How to read a libsvm file. */
export interface LibsvmOptions {
  /**
   * The number of features p. When given, X has p columns and an index above p is an error;
   * when omitted, p is the largest index that occurs (0 if no line has a feature).
   */
  readonly nFeatures?: number
  /**
   * `'real'` (the default): any finite label, kept as written (regression).
   * `'binary'`: labels must all be in {−1, +1}, or all in {0, 1}; in the second case 0 is
   * mapped to −1 and 1 to +1, so y ∈ {−1, +1} always. Any other label, or a file mixing
   * −1 and 0, is an error.
   */
  readonly labels?: 'binary' | 'real'
  /** The name used in error messages (`source:line: fault`). Default `'<libsvm>'`. */
  readonly source?: string
}

/** The largest dense design matrix the reader will build (2²⁸ entries = 2 GiB of float64). */
export const MAX_DENSE_ENTRIES = 2 ** 28

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i
const INTEGER = /^[+-]?\d+$/

/** Parse one numeric token, or say why it is not a finite number. */
const parseNumber = (tok: string, what: string): number | string => {
  if (NON_FINITE.test(tok)) return `${what} '${tok}' is not finite`
  if (!NUMBER.test(tok)) return `${what} '${tok}' is not a number`
  const v = Number(tok)
  if (!Number.isFinite(v)) return `${what} '${tok}' is not finite`
  return v
}

/**
 * Parse libsvm text into a dense Dataset (X is n × p, row i holding line i's features).
 * Errors have kind `'data'` and name the line and the fault, e.g.
 * `train.svm:17: feature index 0 is not ≥ 1`: a missing label, a malformed `index:value`
 * token, a non-integer, non-positive, non-increasing or out-of-range index, a value that is
 * not a number or not finite, a non-binary label under `labels: 'binary'`, or a text with
 * no data line at all.
 */
export const parseLibsvm = (text: string, opts: LibsvmOptions = {}): E.Either<HypergradError, Dataset> => {
  const src = opts.source ?? '<libsvm>'
  const mode = opts.labels ?? 'real'
  const p0 = opts.nFeatures
  if (p0 !== undefined && !(Number.isInteger(p0) && p0 >= 0))
    return E.left(hgError('config', `${src}: nFeatures must be a non-negative integer, got ${p0}`))
  if (mode !== 'binary' && mode !== 'real')
    return E.left(hgError('config', `${src}: labels must be 'binary' or 'real', got '${String(mode)}'`))

  const fail = (line: number, msg: string): E.Either<HypergradError, Dataset> =>
    E.left(hgError('data', `${src}:${line}: ${msg}`))

  const labels: number[] = []
  const rowStart: number[] = [0]
  const cols: number[] = []
  const vals: number[] = []
  let maxIndex = 0
  let firstMinusOne = 0 // line numbers (0 = not seen), to reject files mixing −1 and 0 labels
  let firstZero = 0

  const lines = text.split(/\r\n|\n|\r/)
  for (let li = 0; li < lines.length; li++) {
    const lineNo = li + 1
    let line = lines[li]!
    const hash = line.indexOf('#')
    if (hash >= 0) line = line.slice(0, hash)
    const toks = line.trim().split(/\s+/)
    if (toks.length === 1 && toks[0] === '') continue
    const head = toks[0]!
    if (head.includes(':')) return fail(lineNo, `missing label (line starts with '${head}')`)
    const label = parseNumber(head, 'label')
    if (typeof label === 'string') return fail(lineNo, label)
    if (mode === 'binary') {
      if (label === -1) firstMinusOne ||= lineNo
      else if (label === 0) firstZero ||= lineNo
      else if (label !== 1) return fail(lineNo, `label ${head} is not binary (expected −1/+1 or 0/1)`)
      if (firstMinusOne > 0 && firstZero > 0)
        return fail(
          Math.max(firstMinusOne, firstZero),
          `labels mix −1 (line ${firstMinusOne}) and 0 (line ${firstZero}): expected −1/+1 or 0/1`,
        )
    }
    let prev = 0
    for (let k = 1; k < toks.length; k++) {
      const tok = toks[k]!
      const colon = tok.indexOf(':')
      if (colon <= 0 || colon === tok.length - 1 || tok.indexOf(':', colon + 1) >= 0)
        return fail(lineNo, `malformed feature '${tok}' (expected index:value)`)
      const is = tok.slice(0, colon)
      if (k === 1 && is === 'qid') continue
      if (!INTEGER.test(is)) return fail(lineNo, `feature index '${is}' is not an integer`)
      const idx = Number(is)
      if (idx < 1) return fail(lineNo, `feature index ${idx} is not ≥ 1`)
      if (idx <= prev) return fail(lineNo, `feature index ${idx} does not increase (previous ${prev})`)
      if (p0 !== undefined && idx > p0) return fail(lineNo, `feature index ${idx} exceeds nFeatures = ${p0}`)
      const v = parseNumber(tok.slice(colon + 1), `value of feature ${idx}`)
      if (typeof v === 'string') return fail(lineNo, v)
      prev = idx
      if (idx > maxIndex) maxIndex = idx
      cols.push(idx - 1)
      vals.push(v)
    }
    labels.push(label)
    rowStart.push(cols.length)
  }

  const n = labels.length
  if (n === 0) return E.left(hgError('data', `${src}: no data lines (empty file)`))
  const p = p0 ?? maxIndex
  if (n * p > MAX_DENSE_ENTRIES)
    return E.left(hgError('data', `${src}: a dense ${n} × ${p} matrix exceeds ${MAX_DENSE_ENTRIES} entries`))
  const X = new Float64Array(n * p)
  const y = new Float64Array(n)
  const zeroOne = mode === 'binary' && firstMinusOne === 0
  for (let i = 0; i < n; i++) {
    const l = labels[i]!
    y[i] = zeroOne ? (l === 0 ? -1 : 1) : l
    for (let k = rowStart[i]!; k < rowStart[i + 1]!; k++) X[i * p + cols[k]!] = vals[k]!
  }
  return E.right({ X: matrix(n, p, X), y })
}

/**
 * Read a libsvm file (synchronously) and parse it with {@link parseLibsvm}; error messages
 * name the path. A file that cannot be read is a `'data'` error too.
 */
export const readLibsvmFile = (path: string, opts: LibsvmOptions = {}): E.Either<HypergradError, Dataset> => {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    return E.left(hgError('data', `${path}: cannot read (${(e as Error).message})`))
  }
  return parseLibsvm(text, { ...opts, source: opts.source ?? path })
}

/**
 * Write a Dataset in libsvm format: one line per row, the label then the non-zero entries as
 * `index:value` with 1-based indices. Numbers are written in JavaScript's shortest
 * round-trip form, so {@link parseLibsvm} reads back exactly the same values (a −0 entry
 * comes back as +0). Throws a RangeError if X and y disagree in length or an entry is not
 * finite (check data with `checkFinite` first).
 */
export const formatLibsvm = (ds: Dataset): string => {
  const { X, y } = ds
  if (X.rows !== y.length) throw new RangeError(`formatLibsvm: X is ${X.rows}×${X.cols} but y has length ${y.length}`)
  if (X.data.length !== X.rows * X.cols)
    throw new RangeError(`formatLibsvm: X is ${X.rows}×${X.cols} but holds ${X.data.length} entries`)
  const out: string[] = []
  for (let i = 0; i < X.rows; i++) {
    const l = y[i]!
    if (!Number.isFinite(l)) throw new RangeError(`formatLibsvm: y[${i}] = ${l} is not finite`)
    let line = String(l)
    for (let j = 0, o = i * X.cols; j < X.cols; j++) {
      const v = X.data[o + j]!
      if (v === 0) continue
      if (!Number.isFinite(v)) throw new RangeError(`formatLibsvm: X[${i}, ${j}] = ${v} is not finite`)
      line += ` ${j + 1}:${v}`
    }
    out.push(line)
  }
  return out.length === 0 ? '' : out.join('\n') + '\n'
}
