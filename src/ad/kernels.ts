/**
 * The matrix-product kernels of the engine, in the BLAS manner of `linalg/kernels.ts`: they
 * write into an output the caller owns and allocate nothing. Every matrix operand is addressed
 * by strides, entry (i, j) at `offset + i·s0 + j·s1`, so that a transposed operand or a
 * transposed output is the same matrix with its strides swapped.
 *
 *   gemmStrided   R (+)= P Q                     P, Q, R dense, any strides
 *   dataTimes     R (+)= D_B Q                   D a data matrix (dense row-major or CSR)
 *   dataTTimes    R (+)= D_Bᵀ Q                  whose rows are picked by the index list B
 *                                                 (null: every row, in order)
 *
 * The matrix–vector cases (Q a contiguous column) go through `dot`/`axpy`/`gemv`/`gemvT` of
 * linalg and the CSR kernels of linalg/csr.ts.
 */
import { csrRowDot, type CsrMatrix } from '../linalg/csr.js'
import { axpy, dot, gemv, gemvT } from '../linalg/kernels.js'
import type { RVec, Vec } from '../linalg/types.js'

/** R(i, j) (+)= Σ_l P(i, l) Q(l, j) for i < m, j < n, l < k. */
export const gemmStrided = (
  m: number, n: number, k: number,
  P: RVec, ps0: number, ps1: number,
  Q: RVec, qs0: number, qs1: number,
  R: Vec, rs0: number, rs1: number,
  accumulate: boolean,
): void => {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let l = 0; l < k; l++) s += P[i * ps0 + l * ps1]! * Q[l * qs0 + j * qs1]!
      const r = i * rs0 + j * rs1
      R[r] = accumulate ? R[r]! + s : s
    }
  }
}

/** A data matrix of a product: dense row-major or CSR. */
export type DataMatrix =
  | { readonly kind: 'dense'; readonly X: RVec; readonly rows: number; readonly cols: number }
  | { readonly kind: 'csr'; readonly A: CsrMatrix; readonly rows: number; readonly cols: number }

/**
 * The signature of a data-matrix product: D (its rows picked by idx, or all m of them in order),
 * Q with strides (qs0, qs1) and n columns, the output R with strides (rs0, rs1); R is
 * overwritten, or added to when `accumulate`.
 */
export type DataProduct = (
  D: DataMatrix, idx: Readonly<Int32Array> | null, m: number,
  Q: RVec, qs0: number, qs1: number, n: number,
  R: Vec, rs0: number, rs1: number,
  accumulate: boolean,
) => void

const zeroStrided = (rows: number, cols: number, R: Vec, rs0: number, rs1: number): void => {
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) R[i * rs0 + j * rs1] = 0
}

/**
 * R(i, j) (+)= Σ_l D(rᵢ, l) Q(l, j) for i < m (the rows rᵢ = idx[i], or i), j < n, l < D.cols.
 */
export const dataTimes: DataProduct = (D, idx, m, Q, qs0, qs1, n, R, rs0, rs1, accumulate) => {
  const p = D.cols
  if (D.kind === 'dense') {
    const X = D.X
    if (n === 1 && qs0 === 1) {
      if (idx === null && rs0 === 1) {
        gemv(m, p, 1, X, p, 0, Q, 1, 0, accumulate ? 1 : 0, R, 1, 0)
        return
      }
      for (let i = 0; i < m; i++) {
        const s = dot(p, X, 1, (idx === null ? i : idx[i]!) * p, Q, 1, 0)
        const r = i * rs0
        R[r] = accumulate ? R[r]! + s : s
      }
      return
    }
    if (!accumulate) zeroStrided(m, n, R, rs0, rs1)
    for (let i = 0; i < m; i++) {
      const off = (idx === null ? i : idx[i]!) * p
      for (let l = 0; l < p; l++) {
        const x = X[off + l]!
        if (x === 0) continue
        for (let j = 0; j < n; j++) R[i * rs0 + j * rs1] = R[i * rs0 + j * rs1]! + x * Q[l * qs0 + j * qs1]!
      }
    }
    return
  }
  const A = D.A
  if (n === 1 && qs0 === 1) {
    for (let i = 0; i < m; i++) {
      const s = csrRowDot(A, idx === null ? i : idx[i]!, Q)
      const r = i * rs0
      R[r] = accumulate ? R[r]! + s : s
    }
    return
  }
  if (!accumulate) zeroStrided(m, n, R, rs0, rs1)
  const { indptr, indices, values } = A
  for (let i = 0; i < m; i++) {
    const row = idx === null ? i : idx[i]!
    for (let t = indptr[row]!; t < indptr[row + 1]!; t++) {
      const l = indices[t]!, x = values[t]!
      for (let j = 0; j < n; j++) R[i * rs0 + j * rs1] = R[i * rs0 + j * rs1]! + x * Q[l * qs0 + j * qs1]!
    }
  }
}

/**
 * R(l, j) (+)= Σ_i D(rᵢ, l) Q(i, j) for l < D.cols, j < n, i < m (the rows rᵢ = idx[i], or i):
 * the transposed product, row by row of D (a repeated index adds its row twice).
 */
export const dataTTimes: DataProduct = (D, idx, m, Q, qs0, qs1, n, R, rs0, rs1, accumulate) => {
  const p = D.cols
  if (D.kind === 'dense' && n === 1 && qs0 === 1 && idx === null && rs0 === 1) {
    gemvT(m, p, 1, D.X, p, 0, Q, 1, 0, accumulate ? 1 : 0, R, 1, 0)
    return
  }
  if (!accumulate) zeroStrided(p, n, R, rs0, rs1)
  if (D.kind === 'dense') {
    const X = D.X
    for (let i = 0; i < m; i++) {
      const off = (idx === null ? i : idx[i]!) * p
      for (let j = 0; j < n; j++) {
        const q = Q[i * qs0 + j * qs1]!
        if (q === 0) continue
        if (rs0 === 1) axpy(p, q, X, 1, off, R, 1, j * rs1)
        else for (let l = 0; l < p; l++) R[l * rs0 + j * rs1] = R[l * rs0 + j * rs1]! + X[off + l]! * q
      }
    }
    return
  }
  const { indptr, indices, values } = D.A
  for (let i = 0; i < m; i++) {
    const row = idx === null ? i : idx[i]!
    for (let j = 0; j < n; j++) {
      const q = Q[i * qs0 + j * qs1]!
      if (q === 0) continue
      for (let t = indptr[row]!; t < indptr[row + 1]!; t++) {
        const r = indices[t]! * rs0 + j * rs1
        R[r] = R[r]! + values[t]! * q
      }
    }
  }
}
