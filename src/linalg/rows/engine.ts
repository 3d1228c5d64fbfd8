/**
 * The row engine: WebAssembly SIMD versions of the fused row passes of generalized linear models
 * (the TypeScript kernels of `reference.ts`, which it reproduces bit for bit), over a dense
 * row-major matrix or a CSR matrix.
 *
 * A pass is two WebAssembly calls: the dots of all its rows, then — once JavaScript has turned
 * them into coefficients in one loop (the coefficients need Math.exp) — the axpys. (The kernels
 * make no calls back into JavaScript: V8 runs some callbacks from WebAssembly far slower than
 * the same code called from JavaScript.) The dots do not depend on out, so computing them all
 * first changes nothing against the reference, which interleaves them with the axpys.
 *
 * Layouts. A CSR matrix is consumed as it is: its arrays are copied into the engine's memory and
 * the passes run on them, in the order of the TypeScript CSR kernels (dots over each row's
 * entries, the grad-type ones over its even and then its odd columns; axpys scattering one row
 * after the other), which they equal bit for bit. A dense matrix with at most half its entries
 * non-zero (MNIST: 19%) runs on compressed sparse rows built from it, which skip the zeros but
 * keep the dense reference's block axpys. A zero entry contributes only exact zeros to the dense
 * reference's sums: x + (±0) = x for every x ≠ −0, and the accumulators and `out` are never −0
 * (they start at +0, and a sum is −0 only when both terms are). So these passes equal the dense
 * reference bit for bit as long as X, w, u and every coefficient are finite (the reference
 * multiplies the skipped zeros by them, and 0·∞ is NaN): a dense matrix with a non-finite entry
 * keeps the dense rows, and for a non-finite w, u or coefficient a pass returns undefined and the
 * caller runs the reference instead. A CSR matrix with a non-finite stored value gets no engine.
 *
 * A full hvp-type pass keeps its dots xᵢᵀw; the next full pass at the same w (the products of a
 * conjugate-gradient solve at a fixed lower-level iterate) reuses them and computes only xᵢᵀu:
 * the same numbers, one gather instead of two.
 *
 * Memory. An engine copies its matrix into WebAssembly memory once, on first use (MNIST's
 * 5000 × 784 training set: 9 MB of sparse rows, against 31 MB dense), so it assumes that the
 * matrix is never mutated after the first call (the problems hold a snapshot of their data:
 * `data/snapshot.ts`). Engines are cached per value array (a WeakMap); their memories are the
 * slots of `slots.ts`. When WebAssembly memory cannot be had, an engine declines (its passes
 * return undefined) and the caller runs the TypeScript kernels: the same bits.
 */
import { Buffer } from 'node:buffer'
import { isCsr, storedEntries, type CsrMatrix, type DesignMatrix } from '../csr.js'
import { matrix, type Matrix, type RVec, type Vec } from '../types.js'
import { MAX_BYTES, noteDegraded, rowEngineAvailable, SlotMemoryError, takeSlot, touch, type Lease, type Slot } from './slots.js'
import { sparseRowsBytes, sparseRowsOfCsr, sparseRowsOfDense, type SparseRows } from './sparseRows.js'

/**
 * The coefficients of a pass, computed in one go between its two phases: given the dots of the
 * pass's m rows (z[k] = x_{i_k}ᵀw and, for hvp-type passes, s[k] = x_{i_k}ᵀu, where i_k =
 * batch[k], or k for a full pass), write c[k] for every k < m. All three have length m. Called
 * once per attempt with every row: when an engine declines after it, the reference calls it
 * again, so it must not accumulate across calls.
 */
export type RowCoef = (z: RVec, s: RVec, c: Vec) => void

/** A reader of the dots of a pass without axpys (z, and s for hvp-type dots); the views are valid during the call only. */
export type RowDots = (z: RVec, s: RVec) => void

/** A row engine: the fused passes over the rows of one matrix. */
export interface RowEngine {
  readonly rows: number
  readonly cols: number
  /**
   * out ← Σ over blocks of (c₀x_{i₀} + c₁x_{i₁}) + (c₂x_{i₂} + c₃x_{i₃}), with the dots
   * z_k = x_{i_k}ᵀw (even and odd columns summed separately, then added) handed to `coef`. Rows
   * are batch[0..m) in blocks of four (a last partial block repeats its first row, with c = 0),
   * or 0..n−1 when batch is undefined. Overwrites out (length p) and returns it; returns
   * undefined (out unspecified) when the engine declines: a pass over sparse rows built from
   * dense data meeting a non-finite w or coefficient, or no WebAssembly memory. Run the reference
   * then. Throws a RangeError on a length mismatch or a batch index outside [0, n).
   */
  gradPass(w: RVec, batch: Readonly<Int32Array> | undefined, coef: RowCoef, out: Vec): Vec | undefined
  /** As gradPass, with the dots z_k = x_{i_k}ᵀw and s_k = x_{i_k}ᵀu (one accumulator each, in column order). */
  hvpPass(w: RVec, u: RVec, batch: Readonly<Int32Array> | undefined, coef: RowCoef, out: Vec): Vec | undefined
  /**
   * The dots alone, handed to `read`: grad-type z (u undefined) or hvp-type z and s. Returns
   * false, without calling `read`, when the engine declines.
   */
  dots(w: RVec, u: RVec | undefined, batch: Readonly<Int32Array> | undefined, read: RowDots): boolean
  /**
   * The layout the passes run on (decided once, on first use): compressed sparse rows for CSR
   * input and for dense data with at most half its entries non-zero, dense rows otherwise.
   */
  layout(): 'sparseRows' | 'dense'
  /**
   * Xᵀ diag(d) X (p × p, both triangles), bit for bit as `weightedGram` computes it, over the
   * sparse rows; undefined when X has no sparse-rows layout or the engine declines. Fresh.
   */
  gram(d: RVec): Matrix | undefined
  /**
   * out ← Σᵢ (dᵢ·xᵢᵀu)·xᵢ over all rows (Xᵀ diag(d) X u): the hvp-type pass whose coefficients
   * are dᵢ·sᵢ, bit for bit, in one pass over CSR input. Undefined when the engine declines.
   */
  gramVec(d: RVec, u: RVec, out: Vec): Vec | undefined
}

/**
 * gramVec fuses each row's dot and axpy (one pass over the rows) up to this many columns; on
 * wider data, where u and out no longer stay in cache, it runs all the dots and then all the
 * axpys (news20: 1.2× faster that way; rcv1: 1.2× faster fused).
 */
const GRAMVEC_FUSED_MAX_COLS = 1 << 18

/** Dense passes use the compressed sparse rows when at most this fraction of X is non-zero. */
const ROWS_FRACTION = 0.5

/** A slot's regions for one engine (all offsets in bytes). */
interface Regions {
  readonly slot: Slot
  readonly lease: Lease
  readonly w: number
  readonly u: number
  readonly out: number
  /** Row indices, dots z and s and coefficients c, with room for `cap` rows (+4: blocks read ahead). */
  idx: number
  z: number
  s: number
  cf: number
  cap: number
  dense: number
  identity: number
  rows: SparseRows | undefined
  gram: number
  weights: number
  /** The hvp-type dots z of a full pass at w, kept for the next full pass at the same w (sparse rows). */
  cacheW: number
  cacheZ: number
  cached: boolean
}

const allFinite = (x: RVec, m = x.length): boolean => {
  for (let i = 0; i < m; i++) if (!Number.isFinite(x[i]!)) return false
  return true
}

/** How an engine runs: on dense rows, on sparse rows built from dense data, on a CSR matrix as it is, or not at all. */
type Mode = 'dense' | 'sparseFromDense' | 'csr' | 'off'

class WasmRowEngine implements RowEngine {
  private regions: Regions | undefined
  private modeOf: Mode | undefined
  readonly rows: number
  readonly cols: number

  constructor(private readonly X: DesignMatrix) {
    this.rows = X.rows
    this.cols = X.cols
  }

  /** This engine's regions, in a slot it holds (taking one, and rebuilding its copy, when it lost it). */
  private r(): Regions {
    const held = this.regions
    if (held !== undefined && held.lease.valid) {
      touch(held.slot)
      return held
    }
    const { slot, lease } = takeSlot()
    const p = this.cols
    this.regions = undefined
    const reg: Regions = {
      slot,
      lease,
      w: slot.alloc(8 * p),
      u: slot.alloc(8 * p),
      out: slot.alloc(8 * p),
      idx: 0, z: 0, s: 0, cf: 0, cap: -1,
      dense: -1, identity: -1, rows: undefined, gram: -1, weights: -1,
      cacheW: -1, cacheZ: -1, cached: false,
    }
    this.regions = reg
    return reg
  }

  /** Stop using WebAssembly for this matrix (no memory for it): every pass declines from now on. */
  private decline(e: SlotMemoryError): undefined {
    this.modeOf = 'off'
    const reg = this.regions
    if (reg !== undefined) reg.slot.release(reg.lease)
    this.regions = undefined
    noteDegraded(e.message)
    return undefined
  }

  /** Run `f`, declining (undefined) when WebAssembly memory cannot be had. */
  private guard<A>(f: () => A): A | undefined {
    try {
      return f()
    } catch (e) {
      if (e instanceof SlotMemoryError) return this.decline(e)
      throw e
    }
  }

  /** Room for the indices, dots and coefficients of m rows (and 4 past them). */
  private reserve(reg: Regions, m: number): void {
    if (m <= reg.cap) return
    const cap = Math.max(256, this.rows + 4, 2 * m)
    reg.idx = reg.slot.alloc(4 * (cap + 4))
    reg.z = reg.slot.alloc(8 * (cap + 4))
    reg.s = reg.slot.alloc(8 * (cap + 4))
    reg.cf = reg.slot.alloc(8 * (cap + 4))
    reg.cap = cap
  }

  private ensureDense(reg: Regions): number {
    if (reg.dense < 0) {
      const X = this.X as Matrix
      const at = reg.slot.alloc(8 * this.rows * this.cols)
      reg.slot.f64.set(X.data.subarray(0, this.rows * this.cols), at >> 3)
      reg.dense = at
    }
    return reg.dense
  }

  /** Row indices in memory: the batch, or 0..n−1. */
  private indices(reg: Regions, batch: Readonly<Int32Array> | undefined): number {
    if (batch === undefined) {
      if (reg.identity < 0) {
        const at = reg.slot.alloc(4 * (this.rows + 4))
        for (let i = 0; i < this.rows; i++) reg.slot.i32[(at >> 2) + i] = i
        reg.identity = at
      }
      return reg.identity
    }
    reg.slot.i32.set(batch, reg.idx >> 2)
    return reg.idx
  }

  /**
   * The mode, decided once by one scan of the values: a CSR matrix runs as it is when its values
   * are finite; a dense one takes the sparse rows when at most ROWS_FRACTION of it is non-zero
   * and every entry is finite (a last partial block of the reference adds 0·x for rows past the
   * batch's end, which the sparse kernels skip: the same only for finite x).
   */
  private mode(): Mode {
    if (this.modeOf !== undefined) return this.modeOf
    const X = this.X
    if (isCsr(X)) {
      this.modeOf = allFinite(X.values, X.indptr[X.rows]!) ? 'csr' : 'off'
      return this.modeOf
    }
    const n = this.rows, p = this.cols, a = X.data
    let nnz = 0
    let finite = true
    for (let k = 0; k < n * p; k++) {
      const x = a[k]!
      if (!Number.isFinite(x)) {
        finite = false
        break
      }
      if (x !== 0) nnz++
    }
    this.modeOf = finite && nnz <= ROWS_FRACTION * n * p ? 'sparseFromDense' : 'dense'
    return this.modeOf
  }

  /** The compressed sparse rows in this engine's slot (built on first use). */
  private sparseRows(reg: Regions): SparseRows {
    if (reg.rows !== undefined) return reg.rows
    const X = this.X
    reg.rows = isCsr(X) ? sparseRowsOfCsr(reg.slot, X) : sparseRowsOfDense(reg.slot, X.data, this.rows, this.cols)
    return reg.rows
  }

  layout(): 'sparseRows' | 'dense' {
    const m = this.mode()
    return m === 'csr' || m === 'sparseFromDense' ? 'sparseRows' : 'dense'
  }

  /** Every batch index must name a row: the kernels address memory with it. */
  private checkBatch(what: string, batch: Readonly<Int32Array> | undefined): void {
    if (batch === undefined) return
    const n = this.rows
    for (let k = 0; k < batch.length; k++) {
      const i = batch[k]!
      if (!(i >= 0 && i < n)) throw new RangeError(`rowEngine.${what}: batch index ${i} at position ${k} is outside [0, ${n})`)
    }
  }

  /**
   * Between the phases: zero the coefficients (with the 4 past m), let `coef` fill c[0..m) from
   * the dots, and report whether the axpys may run on them (sparse rows built from dense data
   * need them finite).
   */
  private coefficients(reg: Regions, m: number, coef: RowCoef): boolean {
    const f = reg.slot.f64
    const z = reg.z >> 3, s = reg.s >> 3, c = reg.cf >> 3
    f.fill(0, c, c + m + 4)
    const cv = f.subarray(c, c + m)
    coef(f.subarray(z, z + m), f.subarray(s, s + m), cv)
    return this.modeOf !== 'sparseFromDense' || allFinite(cv)
  }

  /**
   * The dots phase into the slot's z (and s): grad-type when u is undefined. Returns the
   * regions, or undefined when sparse rows built from dense data meet a non-finite w or u.
   */
  private dotsPhase(what: string, w: RVec, u: RVec | undefined, batch: Readonly<Int32Array> | undefined):
    { readonly reg: Regions; readonly m: number; readonly idx: number; readonly rows: SparseRows | undefined; readonly x: number } | undefined {
    const n = this.rows, p = this.cols
    if (w.length !== p || (u !== undefined && u.length !== p))
      throw new RangeError(`rowEngine.${what}: w${u === undefined ? '' : ' and u'} must have length ${p}, got ${w.length}${u === undefined ? '' : ` and ${u.length}`}`)
    this.checkBatch(what, batch)
    const mode = this.mode()
    if (mode === 'off') return undefined
    if (mode === 'sparseFromDense' && !(allFinite(w) && (u === undefined || allFinite(u)))) return undefined
    const m = batch === undefined ? n : batch.length
    const reg = this.r()
    this.reserve(reg, m)
    const rows = mode === 'dense' ? undefined : this.sparseRows(reg)
    const x = rows === undefined ? this.ensureDense(reg) : -1
    const idx = this.indices(reg, batch)
    const slot = reg.slot, ex = slot.ex, f = slot.f64
    if (rows !== undefined && this.modeOf === 'sparseFromDense' && !(u !== undefined && batch === undefined && reg.cached && this.sameAsCached(reg, w))) {
      // Rows built from dense data, four at a time over pairs: [w_j, 0] / [0, w_j] by parity
      // (grad-type, the other lane adding x·0 = ±0, which changes nothing) or [w_j, u_j].
      const at = rows.pairs >> 3
      if (u === undefined) {
        for (let j = 0; j < p; j++) {
          const even = (j & 1) === 0
          f[at + 2 * j] = even ? w[j]! : 0
          f[at + 2 * j + 1] = even ? 0 : w[j]!
        }
      } else {
        for (let j = 0; j < p; j++) {
          f[at + 2 * j] = w[j]!
          f[at + 2 * j + 1] = u[j]!
        }
      }
      ex.rowsDots(m, idx, rows.rowPtr, rows.col, rows.val, rows.pairs, reg.z, reg.s, u === undefined ? 0 : 1)
      if (u !== undefined && batch === undefined) this.keep(reg, w, m)
    } else if (rows !== undefined && u === undefined) {
      // CSR input, grad-type: the even-column entries of each row, then the odd-column ones: z = a + b.
      f.set(w, reg.w >> 3)
      const { mid, col, val } = rows.parity!
      ex.splitDots(m, idx, rows.rowPtr, mid, rows.rowPtr + 4, col, val, reg.w, reg.z)
    } else if (rows !== undefined && u !== undefined) {
      if (batch === undefined && reg.cached && this.sameAsCached(reg, w)) {
        // The z of this w from the last full pass; s alone, with the same single accumulator.
        f.set(u, reg.u >> 3)
        ex.pairDots(m, idx, rows.rowPtr, rows.rowPtr + 4, rows.col, rows.val, reg.u, reg.s)
        f.copyWithin(reg.z >> 3, reg.cacheZ >> 3, (reg.cacheZ >> 3) + m)
      } else {
        // pairs[j] = [w_j, u_j].
        const at = rows.pairs >> 3
        for (let j = 0; j < p; j++) {
          f[at + 2 * j] = w[j]!
          f[at + 2 * j + 1] = u[j]!
        }
        ex.rowsDotsPairs(m, idx, rows.rowPtr, rows.col, rows.val, rows.pairs, reg.z, reg.s)
        if (batch === undefined) this.keep(reg, w, m)
      }
    } else if (u !== undefined) {
      f.set(w, reg.w >> 3)
      f.set(u, reg.u >> 3)
      ex.hvpDotsDense(m, p, idx, reg.w, reg.u, reg.z, reg.s, x)
    } else {
      f.set(w, reg.w >> 3)
      ex.gradDotsDense(m, p, idx, reg.w, reg.z, x)
    }
    return { reg, m, idx, rows, x }
  }

  /** Whether w is the w of the kept hvp-type dots, bit for bit. */
  private sameAsCached(reg: Regions, w: RVec): boolean {
    const bytes = 8 * this.cols
    return Buffer.from(reg.slot.f64.buffer, reg.cacheW, bytes).equals(Buffer.from(w.buffer as ArrayBuffer, w.byteOffset, bytes))
  }

  /** Keep w and the hvp-type dots z of a full pass over the n rows. */
  private keep(reg: Regions, w: RVec, m: number): void {
    if (reg.cacheW < 0) {
      reg.cacheW = reg.slot.alloc(8 * this.cols)
      reg.cacheZ = reg.slot.alloc(8 * this.rows)
    }
    const f = reg.slot.f64
    f.set(w, reg.cacheW >> 3)
    f.copyWithin(reg.cacheZ >> 3, reg.z >> 3, (reg.z >> 3) + m)
    reg.cached = true
  }

  private pass(what: string, w: RVec, u: RVec | undefined, batch: Readonly<Int32Array> | undefined, coef: RowCoef, out: Vec): Vec | undefined {
    if (out.length !== this.cols) throw new RangeError(`rowEngine.${what}: out must have length ${this.cols}, got ${out.length}`)
    return this.guard(() => {
      const d = this.dotsPhase(what, w, u, batch)
      if (d === undefined) return undefined
      const { reg, m, idx, rows, x } = d
      const finite = this.coefficients(reg, m, coef)
      // Sparse rows built from dense data skip zeros that a non-finite coefficient would turn into NaN.
      if (!finite && this.modeOf === 'sparseFromDense') return undefined
      const ex = reg.slot.ex, p = this.cols
      if (rows !== undefined && this.modeOf === 'csr') ex.rowsScatter(m, p, idx, rows.rowPtr, rows.col, rows.val, reg.cf, reg.out)
      else if (rows !== undefined) ex.rowsAxpy(m, p, idx, rows.rowPtr, rows.col, rows.val, reg.cf, rows.t01, rows.t23, reg.out)
      else ex.axpyDense(m, p, idx, reg.cf, reg.out, x)
      const o = reg.out >> 3
      out.set(reg.slot.f64.subarray(o, o + p))
      return out
    })
  }

  gradPass(w: RVec, batch: Readonly<Int32Array> | undefined, coef: RowCoef, out: Vec): Vec | undefined {
    return this.pass('gradPass', w, undefined, batch, coef, out)
  }

  hvpPass(w: RVec, u: RVec, batch: Readonly<Int32Array> | undefined, coef: RowCoef, out: Vec): Vec | undefined {
    return this.pass('hvpPass', w, u, batch, coef, out)
  }

  dots(w: RVec, u: RVec | undefined, batch: Readonly<Int32Array> | undefined, read: RowDots): boolean {
    return (
      this.guard(() => {
        const d = this.dotsPhase('dots', w, u, batch)
        if (d === undefined) return false
        const f = d.reg.slot.f64, z = d.reg.z >> 3, s = d.reg.s >> 3
        read(f.subarray(z, z + d.m), f.subarray(s, s + d.m))
        return true
      }) ?? false
    )
  }

  gramVec(d: RVec, u: RVec, out: Vec): Vec | undefined {
    const n = this.rows, p = this.cols
    if (d.length !== n || u.length !== p || out.length !== p)
      throw new RangeError(`rowEngine.gramVec: d, u and out must have lengths ${n}, ${p}, ${p}, got ${d.length}, ${u.length}, ${out.length}`)
    const linear: RowCoef = (_z, s, c) => {
      for (let k = 0; k < c.length; k++) c[k] = d[k]! * s[k]!
    }
    if (this.mode() !== 'csr') return this.pass('gramVec', u, u, undefined, linear, out)
    return this.guard(() => {
      const reg = this.r()
      this.reserve(reg, n)
      const rows = this.sparseRows(reg)
      const f = reg.slot.f64, ex = reg.slot.ex
      f.set(u, reg.u >> 3)
      if (p <= GRAMVEC_FUSED_MAX_COLS) {
        f.set(d, reg.cf >> 3)
        ex.gramVec(n, p, rows.rowPtr, rows.col, rows.val, reg.cf, reg.u, reg.out)
      } else {
        // Wide data: the gathers from u and the scatters into out thrash the cache when they
        // alternate row by row; all the dots first, then all the axpys, run faster.
        const idx = this.indices(reg, undefined)
        ex.pairDots(n, idx, rows.rowPtr, rows.rowPtr + 4, rows.col, rows.val, reg.u, reg.s)
        const sv = reg.s >> 3, cv = reg.cf >> 3
        for (let k = 0; k < n; k++) f[cv + k] = d[k]! * f[sv + k]!
        ex.rowsScatter(n, p, idx, rows.rowPtr, rows.col, rows.val, reg.cf, reg.out)
      }
      const o = reg.out >> 3
      out.set(reg.slot.f64.subarray(o, o + p))
      return out
    })
  }

  gram(d: RVec): Matrix | undefined {
    const n = this.rows, p = this.cols
    if (d.length !== n) throw new RangeError(`rowEngine.gram: X has ${n} rows but d has ${d.length} weights`)
    if (this.layout() !== 'sparseRows') return undefined
    try {
      const reg = this.r()
      const rows = this.sparseRows(reg)
      if (reg.gram < 0) {
        reg.gram = reg.slot.alloc(8 * p * p)
        reg.weights = reg.slot.alloc(8 * n)
      }
      const f = reg.slot.f64, g = reg.gram >> 3
      f.fill(0, g, g + p * p)
      f.set(d, reg.weights >> 3)
      reg.slot.ex.gramRows(n, p, rows.rowPtr, rows.col, rows.val, reg.weights, reg.gram)
      const out = reg.slot.f64.slice(g, g + p * p)
      for (let a = 0; a < p; a++) for (let b = a + 1; b < p; b++) out[b * p + a] = out[a * p + b]!
      return matrix(p, p, out)
    } catch (e) {
      // No room for a p × p matrix in this engine's memory: the TypeScript Gram (the same bits) builds it instead.
      if (e instanceof SlotMemoryError) {
        const reg = this.regions
        if (reg !== undefined) reg.slot.release(reg.lease)
        this.regions = undefined
        return undefined
      }
      throw e
    }
  }
}

/** The array an engine is cached under: the dense data, or the CSR values. */
const keyOf = (X: DesignMatrix): RVec => (isCsr(X) ? X.values : X.data)

interface CacheEntry {
  readonly rows: number
  readonly cols: number
  readonly indptr: Readonly<Int32Array> | undefined
  readonly indices: Readonly<Int32Array> | undefined
  calls: number
  engine?: RowEngine | null
}

const cache = new WeakMap<RVec, CacheEntry>()

const create = (X: DesignMatrix): RowEngine | null => {
  const n = X.rows, p = X.cols
  if (!(Number.isInteger(n) && Number.isInteger(p) && n > 0 && p > 0)) return null
  if (!isCsr(X) && X.data.length < n * p) return null
  // The largest layout must fit (dense rows 8 bytes per entry, sparse rows at most 12), with the scratch.
  const copy = isCsr(X) ? sparseRowsBytes(n, p, storedEntries(X)) : 8 * n * p
  if (copy + 64 * p + 48 * n + (1 << 20) > MAX_BYTES) return null
  return new WasmRowEngine(X)
}

const entry = (X: DesignMatrix): CacheEntry | undefined => {
  const key = keyOf(X)
  const csr = isCsr(X) ? (X as CsrMatrix) : undefined
  let e = cache.get(key)
  if (e === undefined) {
    e = { rows: X.rows, cols: X.cols, indptr: csr?.indptr, indices: csr?.indices, calls: 0 }
    cache.set(key, e)
  }
  return e.rows === X.rows && e.cols === X.cols && e.indptr === csr?.indptr && e.indices === csr?.indices ? e : undefined
}

/**
 * The row engine of X (cached per value array), or undefined when WebAssembly SIMD is
 * unavailable or the matrix is too large for it. Always builds it: the library's kernels call
 * {@link autoRowEngine} instead, which builds it only where it pays.
 */
export const rowEngine = (X: DesignMatrix): RowEngine | undefined => {
  if (!rowEngineAvailable()) return undefined
  const e = entry(X)
  if (e === undefined) return create(X) ?? undefined
  if (e.engine === undefined) e.engine = create(X)
  return e.engine ?? undefined
}

/** Matrices with fewer stored entries than this stay on the TypeScript kernels (copying them would not pay). */
export const ROW_ENGINE_MIN_ENTRIES = 1 << 16

/**
 * The row engine of X when it pays: X stores at least {@link ROW_ENGINE_MIN_ENTRIES} entries and
 * this is at least the second pass over it (a one-off pass is cheaper in TypeScript than the
 * copy into WebAssembly memory). Otherwise undefined: use the TypeScript kernels.
 */
export const autoRowEngine = (X: DesignMatrix): RowEngine | undefined => {
  if (storedEntries(X) < ROW_ENGINE_MIN_ENTRIES) return undefined
  const e = entry(X)
  if (e === undefined) return undefined
  if (e.engine !== undefined) return e.engine ?? undefined
  e.calls++
  if (e.calls < 2) return undefined
  e.engine = rowEngineAvailable() ? create(X) : null
  return e.engine ?? undefined
}

