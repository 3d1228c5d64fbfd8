/**
 * The libsvm / svmlight text format: one sample per line,
 *
 *     label index:value index:value …   # optional comment
 *
 * with 1-based, strictly increasing feature indices; features not listed are zero. Blank
 * lines and comment-only lines are skipped; an optional `qid:n` token right after the label
 * (svmlight's query id) is accepted and ignored; a UTF-8 byte-order mark is skipped.
 *
 * The reader scans the bytes of the file once and builds compressed sparse rows directly: its
 * memory is O(nnz), whatever the number of features (news20: 1,355,191 columns). The sparse
 * readers (`parseLibsvmSparse`, `readLibsvmSparse`, `readLibsvmSplit`) return CSR datasets;
 * `parseLibsvm` and `readLibsvmFile` return dense ones, refusing more than 2²⁸ entries.
 *
 * Labels: `'real'` (kept as written), `'binary'` (±1, or 0/1 mapped to −1/+1) or
 * `'multiclass'` (integers; the classes are the sorted distinct labels of the training file,
 * numbered 0…C−1, and a label of another file that is not one of them is an error naming the
 * file and the line).
 */
import * as E from 'fp-ts/lib/Either.js'
import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { hgError, type HypergradError } from '../errors.js'
import { csrToDense, isCsr, type CsrMatrix } from '../linalg/csr.js'
import type { DesignDataset, DenseDataset, SparseDataset } from './dataset.js'

/** How to read labels: real values, binary ±1 (or 0/1), or integer classes. */
export type LibsvmLabels = 'binary' | 'real' | 'multiclass'

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
   * `'multiclass'`: integer labels; y holds the class index 0…C−1 of each label among
   * `classes` (default: the file's own sorted distinct labels, at least two), and the
   * dataset's `nClasses` is C.
   */
  readonly labels?: LibsvmLabels
  /** Under `'multiclass'`: the class labels, in class order (those of the training file when reading a validation file). */
  readonly classes?: ReadonlyArray<number>
  /** The name used in error messages (`source:line: fault`). Default `'<libsvm>'`. */
  readonly source?: string
}

/** A dataset read from libsvm text; under `'multiclass'`, `classes[k]` is the label of class k. */
export type LibsvmDataset<D extends DesignDataset> = D & { readonly classes?: ReadonlyArray<number> }

/** The largest dense design matrix the dense readers will build (2²⁸ entries = 2 GiB of float64). */
export const MAX_DENSE_ENTRIES = 2 ** 28

/** The largest feature index the CSR layout holds (int32 column indices). */
const MAX_INDEX = 2 ** 31 - 2

const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i
/** 10⁰ … 10²², each exactly representable. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`))

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39

/**
 * The number written in b[a, e), or why it is not a finite number. The grammar is
 * [+-]?(digits[.digits?] | .digits)([eE][+-]?digits)?; up to 15 significant digits with a
 * decimal exponent of at most 22 in size are converted exactly in one rounding (the digits and
 * the power of ten are both exact doubles), anything else by `Number`: correctly rounded either way.
 */
const parseNumber = (b: Buffer, a: number, e: number, what: string): number | string => {
  let i = a
  let neg = false
  if (b[i] === 0x2b || b[i] === 0x2d) {
    neg = b[i] === 0x2d
    i++
  }
  let mant = 0
  let sig = 0
  let dropped = false
  let fracDigits = 0
  let digits = 0
  while (i < e && isDigit(b[i]!)) {
    const d = b[i]! - 0x30
    if (sig > 0 || d !== 0) {
      if (sig < 15) mant = mant * 10 + d
      else dropped = true
      sig++
    }
    digits++
    i++
  }
  if (i < e && b[i] === 0x2e) {
    i++
    while (i < e && isDigit(b[i]!)) {
      const d = b[i]! - 0x30
      if (sig > 0 || d !== 0) {
        if (sig < 15) {
          mant = mant * 10 + d
          fracDigits++
        } else dropped = true
        sig++
      } else fracDigits++
      digits++
      i++
    }
  }
  let exp = 0
  let expOk = true
  if (digits > 0 && i < e && (b[i] === 0x65 || b[i] === 0x45)) {
    i++
    let eneg = false
    if (i < e && (b[i] === 0x2b || b[i] === 0x2d)) {
      eneg = b[i] === 0x2d
      i++
    }
    const s = i
    while (i < e && isDigit(b[i]!)) {
      if (exp < 1e6) exp = exp * 10 + (b[i]! - 0x30)
      i++
    }
    expOk = i > s
    if (eneg) exp = -exp
  }
  if (digits === 0 || i !== e || !expOk) {
    const t = b.toString('utf8', a, e)
    return NON_FINITE.test(t) ? `${what} '${t}' is not finite` : `${what} '${t}' is not a number`
  }
  // Significant digits past the fifteenth were not kept in mant (a decimal point among them shifts nothing then).
  const scale = exp - fracDigits
  let v: number
  if (!dropped && scale >= -22 && scale <= 22) {
    v = scale >= 0 ? mant * POW10[scale]! : mant / POW10[-scale]!
    if (neg) v = -v
  } else v = Number(b.toString('latin1', a, e))
  if (!Number.isFinite(v)) return `${what} '${b.toString('utf8', a, e)}' is not finite`
  return v
}

/** A file parsed into compressed sparse rows, before its labels are mapped and its width is fixed. */
interface Raw {
  readonly n: number
  /** The labels as written, and the line of each row. */
  readonly labels: Float64Array
  readonly lines: Int32Array
  readonly indptr: Int32Array
  readonly indices: Int32Array
  readonly values: Float64Array
  /** The largest feature index (1-based) that occurs, 0 if none. */
  readonly maxIndex: number
  /** Under 'binary': the first line with label −1 and with label 0 (0 = none). */
  readonly firstMinusOne: number
  readonly firstZero: number
}

type Fail = (line: number, msg: string) => E.Either<HypergradError, never>

/** Parse the bytes of a libsvm file (see the module comment) into {@link Raw}. */
const parseRaw = (b: Buffer, src: string, p0: number | undefined, mode: LibsvmLabels): E.Either<HypergradError, Raw> => {
  const fail: Fail = (line, msg) => E.left(hgError('data', `${src}:${line}: ${msg}`))
  const text = (a: number, e: number): string => b.toString('utf8', a, e)
  // Capacity: a row per line break (+1), an entry per colon (qid tokens included).
  let breaks = 1
  let colons = 0
  for (let k = 0; k < b.length; k++) {
    const c = b[k]!
    if (c === 0x0a || c === 0x0d) breaks++
    else if (c === 0x3a) colons++
  }
  const labels = new Float64Array(breaks)
  const lines = new Int32Array(breaks)
  const indptr = new Int32Array(breaks + 1)
  const indices = new Int32Array(colons)
  const values = new Float64Array(colons)
  let n = 0
  let nnz = 0
  let maxIndex = 0
  let firstMinusOne = 0
  let firstZero = 0

  let pos = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0
  let lineNo = 0
  while (pos < b.length || (pos === b.length && lineNo === 0)) {
    lineNo++
    let end = pos
    while (end < b.length && b[end] !== 0x0a && b[end] !== 0x0d) end++
    const next = end < b.length && b[end] === 0x0d && b[end + 1] === 0x0a ? end + 2 : end + 1
    let stop = end
    for (let k = pos; k < end; k++)
      if (b[k] === 0x23) {
        stop = k
        break
      }
    // Tokens of [pos, stop).
    let k = pos
    let tokIndex = 0
    let prev = 0
    let rowStart = nnz
    let label = 0
    while (k < stop) {
      while (k < stop && isSpace(b[k]!)) k++
      if (k >= stop) break
      const a = k
      let colon = -1
      let colons2 = 0
      while (k < stop && !isSpace(b[k]!)) {
        if (b[k] === 0x3a) {
          if (colon < 0) colon = k
          colons2++
        }
        k++
      }
      const e = k
      if (tokIndex === 0) {
        if (colon >= 0) return fail(lineNo, `missing label (line starts with '${text(a, e)}')`)
        const l = parseNumber(b, a, e, 'label')
        if (typeof l === 'string') return fail(lineNo, l)
        if (mode === 'binary') {
          if (l === -1) firstMinusOne ||= lineNo
          else if (l === 0) firstZero ||= lineNo
          else if (l !== 1) return fail(lineNo, `label ${text(a, e)} is not binary (expected −1/+1 or 0/1)`)
          if (firstMinusOne > 0 && firstZero > 0)
            return fail(Math.max(firstMinusOne, firstZero), `labels mix −1 (line ${firstMinusOne}) and 0 (line ${firstZero}): expected −1/+1 or 0/1`)
        } else if (mode === 'multiclass' && !Number.isInteger(l)) {
          return fail(lineNo, `label ${text(a, e)} is not an integer (multiclass labels are class numbers)`)
        }
        label = l
        rowStart = nnz
        tokIndex++
        continue
      }
      if (colon <= a || colon === e - 1 || colons2 > 1) return fail(lineNo, `malformed feature '${text(a, e)}' (expected index:value)`)
      if (tokIndex === 1 && colon - a === 3 && b[a] === 0x71 && b[a + 1] === 0x69 && b[a + 2] === 0x64) {
        tokIndex++
        continue
      }
      tokIndex++
      // The index: [+-]?digits.
      let q = a
      let sign = 1
      if (b[q] === 0x2b || b[q] === 0x2d) {
        sign = b[q] === 0x2d ? -1 : 1
        q++
      }
      if (q === colon) return fail(lineNo, `feature index '${text(a, colon)}' is not an integer`)
      let idx = 0
      for (; q < colon; q++) {
        if (!isDigit(b[q]!)) return fail(lineNo, `feature index '${text(a, colon)}' is not an integer`)
        if (idx <= 1e15) idx = idx * 10 + (b[q]! - 0x30)
      }
      idx *= sign
      if (idx < 1) return fail(lineNo, `feature index ${idx} is not ≥ 1`)
      if (idx <= prev) return fail(lineNo, `feature index ${idx} does not increase (previous ${prev})`)
      if (p0 !== undefined && idx > p0) return fail(lineNo, `feature index ${idx} exceeds nFeatures = ${p0}`)
      if (idx > MAX_INDEX + 1) return fail(lineNo, `feature index ${idx} is too large (at most ${MAX_INDEX + 1} features)`)
      const v = parseNumber(b, colon + 1, e, `value of feature ${idx}`)
      if (typeof v === 'string') return fail(lineNo, v)
      prev = idx
      if (idx > maxIndex) maxIndex = idx
      indices[nnz] = idx - 1
      values[nnz] = v
      nnz++
    }
    if (tokIndex > 0) {
      labels[n] = label
      lines[n] = lineNo
      indptr[n] = rowStart
      n++
      indptr[n] = nnz
    }
    pos = next
  }
  return E.right({
    n,
    labels: labels.subarray(0, n),
    lines: lines.subarray(0, n),
    indptr: indptr.subarray(0, n + 1),
    indices: indices.subarray(0, nnz),
    values: values.subarray(0, nnz),
    maxIndex,
    firstMinusOne,
    firstZero,
  })
}

/** At most the first 10 classes, for messages. */
const listOf = (classes: ReadonlyArray<number>): string =>
  classes.length <= 10 ? classes.join(', ') : `${classes.slice(0, 10).join(', ')}, … (${classes.length} classes)`

/** The sorted distinct labels of a raw file. */
const distinct = (labels: Float64Array): number[] => Array.from(new Set(labels)).sort((a, c) => a - c)

/** The CSR dataset of a raw file with p columns, its labels mapped (see LibsvmOptions.labels). */
const finish = (
  raw: Raw, p: number, src: string, mode: LibsvmLabels, given: ReadonlyArray<number> | undefined,
): E.Either<HypergradError, LibsvmDataset<SparseDataset>> => {
  if (raw.n === 0) return E.left(hgError('data', `${src}: no data lines (empty file)`))
  const X: CsrMatrix = { layout: 'csr', rows: raw.n, cols: p, indptr: raw.indptr, indices: raw.indices, values: raw.values }
  const y = new Float64Array(raw.n)
  if (mode === 'multiclass') {
    const classes = given ?? distinct(raw.labels)
    if (given === undefined && classes.length < 2)
      return E.left(hgError('data', `${src}: multiclass labels need at least 2 classes, found only ${listOf(classes)}`))
    const index = new Map(classes.map((c, k) => [c, k]))
    for (let i = 0; i < raw.n; i++) {
      const k = index.get(raw.labels[i]!)
      if (k === undefined)
        return E.left(hgError('data', `${src}:${raw.lines[i]}: label ${raw.labels[i]} is not a class of the training data (${listOf(classes)})`))
      y[i] = k
    }
    return E.right({ X, y, nClasses: classes.length, classes })
  }
  const zeroOne = mode === 'binary' && raw.firstMinusOne === 0
  for (let i = 0; i < raw.n; i++) {
    const l = raw.labels[i]!
    y[i] = zeroOne ? (l === 0 ? -1 : 1) : l
  }
  return E.right({ X, y })
}

const checkOptions = (src: string, opts: LibsvmOptions): E.Either<HypergradError, LibsvmLabels> => {
  const p0 = opts.nFeatures
  if (p0 !== undefined && !(Number.isInteger(p0) && p0 >= 0 && p0 <= MAX_INDEX + 1))
    return E.left(hgError('config', `${src}: nFeatures must be a non-negative integer, got ${p0}`))
  const mode = opts.labels ?? 'real'
  if (mode !== 'binary' && mode !== 'real' && mode !== 'multiclass')
    return E.left(hgError('config', `${src}: labels must be 'binary', 'real' or 'multiclass', got '${String(mode)}'`))
  if (opts.classes !== undefined && mode !== 'multiclass') return E.left(hgError('config', `${src}: classes are given only with labels 'multiclass'`))
  return E.right(mode)
}

const parseBytesSparse = (b: Buffer, opts: LibsvmOptions): E.Either<HypergradError, LibsvmDataset<SparseDataset>> => {
  const src = opts.source ?? '<libsvm>'
  const mode = checkOptions(src, opts)
  if (E.isLeft(mode)) return mode
  const raw = parseRaw(b, src, opts.nFeatures, mode.right)
  if (E.isLeft(raw)) return raw
  return finish(raw.right, opts.nFeatures ?? raw.right.maxIndex, src, mode.right, opts.classes)
}

/** The dense form of a sparse result, refusing more than {@link MAX_DENSE_ENTRIES} entries. */
const densify = (src: string, r: E.Either<HypergradError, LibsvmDataset<SparseDataset>>): E.Either<HypergradError, LibsvmDataset<DenseDataset>> => {
  if (E.isLeft(r)) return r
  const { X, ...rest } = r.right
  if (X.rows * X.cols > MAX_DENSE_ENTRIES)
    return E.left(hgError('data', `${src}: a dense ${X.rows} × ${X.cols} matrix exceeds ${MAX_DENSE_ENTRIES} entries (read it as CSR with readLibsvmSparse)`))
  return E.right({ ...rest, X: csrToDense(X) })
}

/**
 * Parse libsvm text into a CSR dataset (row i holding line i's features). Errors have kind
 * `'data'` and name the line and the fault, e.g. `train.svm:17: feature index 0 is not ≥ 1`: a
 * missing label, a malformed `index:value` token, a non-integer, non-positive, non-increasing or
 * out-of-range index, a value that is not a number or not finite, a label of the wrong kind (not
 * binary, not an integer, not a class of the training data), or a text with no data line.
 */
export const parseLibsvmSparse = (text: string, opts: LibsvmOptions = {}): E.Either<HypergradError, LibsvmDataset<SparseDataset>> =>
  parseBytesSparse(Buffer.from(text, 'utf8'), opts)

/** {@link parseLibsvmSparse} into a dense dataset (refusing more than 2²⁸ entries). */
export const parseLibsvm = (text: string, opts: LibsvmOptions = {}): E.Either<HypergradError, LibsvmDataset<DenseDataset>> =>
  densify(opts.source ?? '<libsvm>', parseLibsvmSparse(text, opts))

const readBytes = (path: string): E.Either<HypergradError, Buffer> => {
  try {
    return E.right(readFileSync(path))
  } catch (e) {
    return E.left(hgError('data', `${path}: cannot read (${(e as Error).message})`))
  }
}

/**
 * Read a libsvm file (synchronously) into a CSR dataset, with {@link parseLibsvmSparse}; error
 * messages name the path. A file that cannot be read is a `'data'` error too.
 */
export const readLibsvmSparse = (path: string, opts: LibsvmOptions = {}): E.Either<HypergradError, LibsvmDataset<SparseDataset>> =>
  E.flatMap(readBytes(path), (b) => parseBytesSparse(b, { ...opts, source: opts.source ?? path }))

/** {@link readLibsvmSparse} into a dense dataset (refusing more than 2²⁸ entries). */
export const readLibsvmFile = (path: string, opts: LibsvmOptions = {}): E.Either<HypergradError, LibsvmDataset<DenseDataset>> =>
  densify(opts.source ?? path, readLibsvmSparse(path, opts))

/** The files of a split. */
export interface LibsvmSplitFiles {
  readonly train: string
  readonly validation: string
  readonly test?: string
}

/** A split read from libsvm files: CSR datasets with the same number of features. */
export interface LibsvmSplit {
  readonly train: LibsvmDataset<SparseDataset>
  readonly validation: LibsvmDataset<SparseDataset>
  readonly test?: LibsvmDataset<SparseDataset>
  /** The number of features of all three. */
  readonly nFeatures: number
  /** Under `'multiclass'`: the training labels, in class order (class k is `classes[k]`). */
  readonly classes?: ReadonlyArray<number>
}

/**
 * Read a training, a validation and optionally a test file into CSR datasets that agree: p is
 * `nFeatures` when given (an index above it is an error), else the largest index over all the
 * files; under `'multiclass'` the classes are the sorted distinct labels of the training file,
 * and a label of the other files that is not among them is an error naming the file and the line.
 */
export const readLibsvmSplit = (
  files: LibsvmSplitFiles, opts: Omit<LibsvmOptions, 'source' | 'classes'> = {},
): E.Either<HypergradError, LibsvmSplit> => {
  const names = (['train', 'validation', 'test'] as const).filter((k) => files[k] !== undefined)
  const raws: Array<{ readonly path: string; readonly raw: Raw }> = []
  for (const k of names) {
    const path = files[k]!
    const mode = checkOptions(path, opts)
    if (E.isLeft(mode)) return mode
    const b = readBytes(path)
    if (E.isLeft(b)) return b
    const raw = parseRaw(b.right, path, opts.nFeatures, mode.right)
    if (E.isLeft(raw)) return raw
    raws.push({ path, raw: raw.right })
  }
  const mode = opts.labels ?? 'real'
  const p = opts.nFeatures ?? Math.max(...raws.map((r) => r.raw.maxIndex))
  const train = finish(raws[0]!.raw, p, raws[0]!.path, mode, undefined)
  if (E.isLeft(train)) return train
  const classes = train.right.classes
  const rest: Array<LibsvmDataset<SparseDataset>> = []
  for (const { path, raw } of raws.slice(1)) {
    const d = finish(raw, p, path, mode, classes)
    if (E.isLeft(d)) return d
    rest.push(d.right)
  }
  return E.right({
    train: train.right,
    validation: rest[0]!,
    ...(files.test !== undefined ? { test: rest[1]! } : {}),
    nFeatures: p,
    ...(classes !== undefined ? { classes } : {}),
  })
}

/**
 * Write a Dataset (dense or CSR) in libsvm format: one line per row, the label then the non-zero
 * entries as `index:value` with 1-based indices. Numbers are written in JavaScript's shortest
 * round-trip form, so the readers give back exactly the same values (a −0 entry comes back as
 * +0). Throws a RangeError if X and y disagree in length or an entry is not finite (check data
 * with `checkFinite` first).
 */
export const formatLibsvm = (ds: DesignDataset): string => {
  const { X, y } = ds
  if (X.rows !== y.length) throw new RangeError(`formatLibsvm: X is ${X.rows}×${X.cols} but y has length ${y.length}`)
  if (!isCsr(X) && X.data.length !== X.rows * X.cols)
    throw new RangeError(`formatLibsvm: X is ${X.rows}×${X.cols} but holds ${X.data.length} entries`)
  const out: string[] = []
  for (let i = 0; i < X.rows; i++) {
    const l = y[i]!
    if (!Number.isFinite(l)) throw new RangeError(`formatLibsvm: y[${i}] = ${l} is not finite`)
    let line = String(l)
    const entry = (j: number, v: number): void => {
      if (v === 0) return
      if (!Number.isFinite(v)) throw new RangeError(`formatLibsvm: X[${i}, ${j}] = ${v} is not finite`)
      line += ` ${j + 1}:${v}`
    }
    if (isCsr(X)) for (let q = X.indptr[i]!; q < X.indptr[i + 1]!; q++) entry(X.indices[q]!, X.values[q]!)
    else for (let j = 0, o = i * X.cols; j < X.cols; j++) entry(j, X.data[o + j]!)
    out.push(line)
  }
  return out.length === 0 ? '' : out.join('\n') + '\n'
}
