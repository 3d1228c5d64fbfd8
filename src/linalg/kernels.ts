/**
 * In-place BLAS-1/2 kernels over Float64Array, in the calling convention of reference BLAS:
 * a length, then each array with its stride and offset. They allocate nothing and return
 * their output (or the scalar they compute). Loops keep several independent accumulators
 * so that the floating-point adds pipeline; the summation order is fixed, so results are
 * deterministic.
 */
import type { RVec, Vec } from './types.js'

/** Σ x[ox + i·sx] · y[oy + i·sy] for i < n. */
export const dot = (n: number, x: RVec, sx: number, ox: number, y: RVec, sy: number, oy: number): number => {
  if (sx === 1 && sy === 1) {
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0
    let i = 0
    const m = n - (n % 4)
    for (; i < m; i += 4) {
      a0 += x[ox + i]! * y[oy + i]!
      a1 += x[ox + i + 1]! * y[oy + i + 1]!
      a2 += x[ox + i + 2]! * y[oy + i + 2]!
      a3 += x[ox + i + 3]! * y[oy + i + 3]!
    }
    for (; i < n; i++) a0 += x[ox + i]! * y[oy + i]!
    return (a0 + a1) + (a2 + a3)
  }
  let acc = 0
  for (let i = 0, ix = ox, iy = oy; i < n; i++, ix += sx, iy += sy) acc += x[ix]! * y[iy]!
  return acc
}

/** y ← a·x + y. Returns y. */
export const axpy = (n: number, a: number, x: RVec, sx: number, ox: number, y: Vec, sy: number, oy: number): Vec => {
  if (sx === 1 && sy === 1) {
    for (let i = 0; i < n; i++) y[oy + i] = y[oy + i]! + a * x[ox + i]!
  } else {
    for (let i = 0, ix = ox, iy = oy; i < n; i++, ix += sx, iy += sy) y[iy] = y[iy]! + a * x[ix]!
  }
  return y
}

/** x ← a·x. Returns x. */
export const scal = (n: number, a: number, x: Vec, sx: number, ox: number): Vec => {
  for (let i = 0, ix = ox; i < n; i++, ix += sx) x[ix] = a * x[ix]!
  return x
}

/** y ← x. Returns y. */
export const copy = (n: number, x: RVec, sx: number, ox: number, y: Vec, sy: number, oy: number): Vec => {
  if (sx === 1 && sy === 1) {
    for (let i = 0; i < n; i++) y[oy + i] = x[ox + i]!
  } else {
    for (let i = 0, ix = ox, iy = oy; i < n; i++, ix += sx, iy += sy) y[iy] = x[ix]!
  }
  return y
}

/** Euclidean norm, scaled to avoid overflow and underflow (as reference dnrm2). */
export const nrm2 = (n: number, x: RVec, sx: number, ox: number): number => {
  let scale = 0
  let ssq = 1
  for (let i = 0, ix = ox; i < n; i++, ix += sx) {
    const v = x[ix]!
    if (v !== 0) {
      const a = Math.abs(v)
      if (scale < a) {
        const r = scale / a
        ssq = 1 + ssq * r * r
        scale = a
      } else {
        const r = a / scale
        ssq += r * r
      }
    }
  }
  return scale * Math.sqrt(ssq)
}

/**
 * The signature of {@link gemv} and {@link gemvT}, the reference BLAS order: the shape, α, the
 * matrix with its row stride and offset, x with its stride and offset, β, y with its stride and
 * offset. Returns y.
 */
export type Gemv = (
  M: number, N: number, alpha: number,
  a: RVec, lda: number, oa: number,
  x: RVec, sx: number, ox: number,
  beta: number, y: Vec, sy: number, oy: number,
) => Vec

/**
 * y ← α·A·x + β·y for the row-major M×N matrix stored in `a` from offset `oa` with row
 * stride `lda` (≥ N). A block of consecutive rows is a view: pass its first row's offset.
 * When β = 0, y is overwritten (NaN in y does not leak through).
 */
export const gemv: Gemv = (M, N, alpha, a, lda, oa, x, sx, ox, beta, y, sy, oy) => {
  for (let i = 0, iy = oy, row = oa; i < M; i++, iy += sy, row += lda) {
    const s = dot(N, a, 1, row, x, sx, ox)
    y[iy] = beta === 0 ? alpha * s : alpha * s + beta * y[iy]!
  }
  return y
}

/**
 * y ← α·Aᵀ·x + β·y for the row-major M×N matrix (y has length N, x length M).
 * Reads A row by row (one pass, cache-friendly), accumulating rows into y. Rows whose
 * coefficient α·xᵢ is 0 are skipped (as reference BLAS does), so they contribute nothing even
 * when they hold non-finite entries. With a contiguous y the rows go four at a time:
 * y[j] += (c₀a₀ⱼ + c₁a₁ⱼ) + (c₂a₂ⱼ + c₃a₃ⱼ), one load and store of y per four rows.
 */
export const gemvT: Gemv = (M, N, alpha, a, lda, oa, x, sx, ox, beta, y, sy, oy) => {
  if (beta === 0) for (let j = 0, iy = oy; j < N; j++, iy += sy) y[iy] = 0
  else if (beta !== 1) scal(N, beta, y, sy, oy)
  if (sy !== 1) {
    for (let i = 0, ix = ox, row = oa; i < M; i++, ix += sx, row += lda) {
      const c = alpha * x[ix]!
      if (c !== 0) axpy(N, c, a, 1, row, y, sy, oy)
    }
    return y
  }
  // Collect rows with a non-zero coefficient four at a time; a last partial group goes one by one.
  let r0 = 0, r1 = 0, r2 = 0
  let c0 = 0, c1 = 0, c2 = 0
  let held = 0
  for (let i = 0, ix = ox, row = oa; i < M; i++, ix += sx, row += lda) {
    const c = alpha * x[ix]!
    if (c === 0) continue
    if (held === 0) {
      r0 = row
      c0 = c
      held = 1
    } else if (held === 1) {
      r1 = row
      c1 = c
      held = 2
    } else if (held === 2) {
      r2 = row
      c2 = c
      held = 3
    } else {
      for (let j = 0; j < N; j++) y[oy + j] = y[oy + j]! + ((c0 * a[r0 + j]! + c1 * a[r1 + j]!) + (c2 * a[r2 + j]! + c * a[row + j]!))
      held = 0
    }
  }
  if (held > 0) axpy(N, c0, a, 1, r0, y, 1, oy)
  if (held > 1) axpy(N, c1, a, 1, r1, y, 1, oy)
  if (held > 2) axpy(N, c2, a, 1, r2, y, 1, oy)
  return y
}
