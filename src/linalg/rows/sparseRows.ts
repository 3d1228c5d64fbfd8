/**
 * The compressed sparse rows of the row engine, in a slot's memory: built from a dense row-major
 * matrix (its non-zero entries, in column order) or copied from a CSR matrix as it is, together
 * with the scratch their kernels need.
 */
import type { CsrMatrix } from '../csr.js'
import type { RVec } from '../types.js'
import type { Slot } from './slots.js'

/** Where a slot holds the compressed sparse rows, and the scratch of their kernels (byte offsets). */
export interface SparseRows {
  readonly rowPtr: number
  readonly col: number
  readonly val: number
  /** Two values per column, gathered by the dots: [w_j, u_j], or [w_j, 0] / [0, w_j] by parity. */
  readonly pairs: number
  /** The zeroed scratch of the block axpys (rows 0–1 and rows 2–3 of a block). */
  readonly t01: number
  readonly t23: number
  /**
   * CSR input: the entries of each row split by the parity of their column, for the grad-type
   * dots: row i's even-column entries in [rowPtr[i], mid[i]), its odd-column ones in
   * [mid[i], rowPtr[i+1]), each part in column order. (Rows built from dense data take the
   * grad-type dots over pairs instead.)
   */
  readonly parity?: { readonly mid: number; readonly col: number; readonly val: number }
}

/** Reserve the arrays of n rows, nnz entries and p columns, and zero the scratch. */
const reserve = (slot: Slot, n: number, p: number, nnz: number): SparseRows => {
  const rowPtr = slot.alloc(4 * (n + 1))
  const col = slot.alloc(4 * nnz)
  const val = slot.alloc(8 * nnz)
  const pairs = slot.alloc(16 * p)
  const t01 = slot.alloc(8 * p)
  const t23 = slot.alloc(8 * p)
  slot.f64.fill(0, t01 >> 3, (t01 >> 3) + p)
  slot.f64.fill(0, t23 >> 3, (t23 >> 3) + p)
  return { rowPtr, col, val, pairs, t01, t23 }
}

/** Bytes the sparse rows of n rows, nnz entries and p columns take (with their scratch). */
export const sparseRowsBytes = (n: number, p: number, nnz: number): number => 8 * (n + 1) + 24 * nnz + 32 * p + 96

/** Fill the parity split of the rows (see SparseRows.parity) from the rows in the slot. */
const splitByParity = (slot: Slot, rows: SparseRows, n: number): SparseRows => {
  const nnz = slot.i32[(rows.rowPtr >> 2) + n]!
  const parity = { mid: slot.alloc(4 * n), col: slot.alloc(4 * nnz), val: slot.alloc(8 * nnz) }
  const i32 = slot.i32, f64 = slot.f64
  const rp = rows.rowPtr >> 2, col = rows.col >> 2, val = rows.val >> 3
  const mid = parity.mid >> 2, pc = parity.col >> 2, pv = parity.val >> 3
  for (let i = 0; i < n; i++) {
    let at = i32[rp + i]!
    for (let odd = 0; odd < 2; odd++) {
      if (odd === 1) i32[mid + i] = at
      for (let q = i32[rp + i]!; q < i32[rp + i + 1]!; q++)
        if ((i32[col + q]! & 1) === odd) {
          i32[pc + at] = i32[col + q]!
          f64[pv + at] = f64[val + q]!
          at++
        }
    }
  }
  return { ...rows, parity }
}

/** The non-zero entries of the dense row-major n × p matrix X as compressed sparse rows in `slot`. */
export const sparseRowsOfDense = (slot: Slot, X: RVec, n: number, p: number): SparseRows => {
  let nnz = 0
  for (let k = 0; k < n * p; k++) if (X[k] !== 0) nnz++
  const rows = reserve(slot, n, p, nnz)
  const i32 = slot.i32, f64 = slot.f64
  let q = 0
  for (let i = 0; i < n; i++) {
    i32[(rows.rowPtr >> 2) + i] = q
    const o = i * p
    for (let j = 0; j < p; j++) {
      const x = X[o + j]!
      if (x !== 0) {
        i32[(rows.col >> 2) + q] = j
        f64[(rows.val >> 3) + q] = x
        q++
      }
    }
  }
  i32[(rows.rowPtr >> 2) + n] = q
  return rows
}

/** The CSR matrix A copied as it is (stored zeros included) into `slot`. */
export const sparseRowsOfCsr = (slot: Slot, A: CsrMatrix): SparseRows => {
  const nnz = A.indptr[A.rows]!
  const rows = reserve(slot, A.rows, A.cols, nnz)
  slot.i32.set(A.indptr.subarray(0, A.rows + 1), rows.rowPtr >> 2)
  slot.i32.set(A.indices.subarray(0, nnz), rows.col >> 2)
  slot.f64.set(A.values.subarray(0, nnz), rows.val >> 3)
  return splitByParity(slot, rows, A.rows)
}
