/** Pure dense-matrix operations on row-major matrices, and direct solvers for small systems. */
import { gemv, gemvT, nrm2 } from './kernels.js'
import { assertDim, matrix, type Matrix, type RVec, type Vec } from './types.js'

/** A·x, fresh. */
export const matVec = (a: Matrix, x: RVec): Vec => {
  assertDim('matVec: x against A.cols', a.cols, x.length)
  return gemv(a.rows, a.cols, 1, a.data, a.cols, 0, x, 1, 0, 0, new Float64Array(a.rows), 1, 0)
}

/** Aᵀ·x, fresh. */
export const matTVec = (a: Matrix, x: RVec): Vec => {
  assertDim('matTVec: x against A.rows', a.rows, x.length)
  return gemvT(a.rows, a.cols, 1, a.data, a.cols, 0, x, 1, 0, 0, new Float64Array(a.cols), 1, 0)
}

export const identity = (n: number): Matrix => {
  const d = new Float64Array(n * n)
  for (let i = 0; i < n; i++) d[i * n + i] = 1
  return matrix(n, n, d)
}

export const transpose = (a: Matrix): Matrix => {
  const d = new Float64Array(a.rows * a.cols)
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) d[j * a.rows + i] = a.data[i * a.cols + j]!
  return matrix(a.cols, a.rows, d)
}

/** A·B, fresh. */
export const matMul = (a: Matrix, b: Matrix): Matrix => {
  if (a.cols !== b.rows) throw new RangeError(`matMul: ${a.rows}×${a.cols} times ${b.rows}×${b.cols}`)
  const out = new Float64Array(a.rows * b.cols)
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k]!
      if (aik === 0) continue
      const ob = k * b.cols
      const oo = i * b.cols
      for (let j = 0; j < b.cols; j++) out[oo + j] = out[oo + j]! + aik * b.data[ob + j]!
    }
  }
  return matrix(a.rows, b.cols, out)
}

/** Build the dense matrix of a linear operator on Rⁿ by applying it to the unit vectors. */
export const denseOf = (n: number, op: (v: RVec) => RVec, rowsOut = n): Matrix => {
  const d = new Float64Array(rowsOut * n)
  const e = new Float64Array(n)
  for (let j = 0; j < n; j++) {
    e.fill(0)
    e[j] = 1
    const col = op(e)
    assertDim('denseOf: operator output', rowsOut, col.length)
    for (let i = 0; i < rowsOut; i++) d[i * n + j] = col[i]!
  }
  return matrix(rowsOut, n, d)
}

/**
 * The Cholesky factorization A = L Lᵀ in place: the lower triangle of the row-major n × n buffer
 * `a` becomes L (the strict upper triangle is left as it was; `choleskySolve` reads the lower
 * triangle only). The inner products run over contiguous rows, four terms at a time. Returns
 * false when a pivot is not positive (A not numerically positive definite). For repeated
 * factorizations into one buffer (Newton's method on a dense Hessian): nothing is allocated.
 */
export const choleskyInPlace = (a: Vec, n: number): boolean => {
  if (a.length !== n * n) throw new RangeError(`choleskyInPlace: buffer of length ${a.length} for an ${n}×${n} matrix`)
  for (let j = 0; j < n; j++) {
    const oj = j * n
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0
    let k = 0
    for (; k + 3 < j; k += 4) {
      const x0 = a[oj + k]!, x1 = a[oj + k + 1]!, x2 = a[oj + k + 2]!, x3 = a[oj + k + 3]!
      s0 += x0 * x0
      s1 += x1 * x1
      s2 += x2 * x2
      s3 += x3 * x3
    }
    for (; k < j; k++) s0 += a[oj + k]! * a[oj + k]!
    const piv = a[oj + j]! - ((s0 + s1) + (s2 + s3))
    if (!(piv > 0)) return false
    const ljj = Math.sqrt(piv)
    a[oj + j] = ljj
    for (let i = j + 1; i < n; i++) {
      const oi = i * n
      let t0 = 0, t1 = 0, t2 = 0, t3 = 0
      let q = 0
      for (; q + 3 < j; q += 4) {
        t0 += a[oi + q]! * a[oj + q]!
        t1 += a[oi + q + 1]! * a[oj + q + 1]!
        t2 += a[oi + q + 2]! * a[oj + q + 2]!
        t3 += a[oi + q + 3]! * a[oj + q + 3]!
      }
      for (; q < j; q++) t0 += a[oi + q]! * a[oj + q]!
      a[oi + j] = (a[oi + j]! - ((t0 + t1) + (t2 + t3))) / ljj
    }
  }
  return true
}

/**
 * Cholesky factor L (lower triangular, row-major) of a symmetric positive definite matrix (its
 * lower triangle is read). Returns undefined when a pivot is not positive (the matrix is not
 * numerically SPD).
 */
export const cholesky = (a: Matrix): Matrix | undefined => {
  if (a.rows !== a.cols) throw new RangeError(`cholesky: matrix is ${a.rows}×${a.cols}, not square`)
  const n = a.rows
  const l = Float64Array.from(a.data)
  if (!choleskyInPlace(l, n)) return undefined
  for (let i = 0; i < n; i++) l.fill(0, i * n + i + 1, (i + 1) * n)
  return matrix(n, n, l)
}

/** Solve (L Lᵀ) x = b given the Cholesky factor L. */
export const choleskySolve = (l: Matrix, b: RVec): Vec => {
  const n = l.rows
  assertDim('choleskySolve: b', n, b.length)
  const y = Float64Array.from(b)
  for (let i = 0; i < n; i++) {
    let s = y[i]!
    for (let k = 0; k < i; k++) s -= l.data[i * n + k]! * y[k]!
    y[i] = s / l.data[i * n + i]!
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!
    for (let k = i + 1; k < n; k++) s -= l.data[k * n + i]! * y[k]!
    y[i] = s / l.data[i * n + i]!
  }
  return y
}

/**
 * Solve A x = b by iterative refinement with the Cholesky factor F of A or of a nearby matrix
 * (a factor from an earlier Newton iterate): x ← x + F⁻¹(b − Ax), with the exact product `apply`,
 * at most `maxSteps` refinements, stopping once ‖b − Ax‖/‖b‖ ≤ tol or once a step fails to halve
 * it. Returns the best x and its relative residual.
 */
export const refineSolve = (
  apply: (x: RVec) => Vec,
  factor: Matrix,
  b: RVec,
  tol: number,
  maxSteps: number,
): { readonly x: Vec; readonly rel: number } => {
  const nb = nrm2(b.length, b, 1, 0)
  const residual = (x: RVec): { readonly r: Vec; readonly rel: number } => {
    const r = apply(x)
    for (let i = 0; i < r.length; i++) r[i] = b[i]! - r[i]!
    return { r, rel: nb === 0 ? 0 : nrm2(r.length, r, 1, 0) / nb }
  }
  let x = choleskySolve(factor, b)
  let { r, rel } = residual(x)
  for (let it = 0; it < maxSteps && rel > tol; it++) {
    const dx = choleskySolve(factor, r)
    const cand = Float64Array.from(x)
    for (let i = 0; i < cand.length; i++) cand[i] = cand[i]! + dx[i]!
    const next = residual(cand)
    if (!(next.rel < rel)) break
    const stalled = next.rel > 0.5 * rel
    x = cand
    r = next.r
    rel = next.rel
    if (stalled) break
  }
  return { x, rel }
}

/**
 * Solve A x = b for a general square A by LU with partial pivoting.
 * Returns undefined when A is numerically singular.
 */
export const luSolve = (a: Matrix, b: RVec): Vec | undefined => {
  if (a.rows !== a.cols) throw new RangeError(`luSolve: matrix is ${a.rows}×${a.cols}, not square`)
  const n = a.rows
  assertDim('luSolve: b', n, b.length)
  const m = Float64Array.from(a.data)
  const x = Float64Array.from(b)
  let maxAbs = 0
  for (let i = 0; i < m.length; i++) maxAbs = Math.max(maxAbs, Math.abs(m[i]!))
  const tiny = maxAbs * n * Number.EPSILON
  for (let k = 0; k < n; k++) {
    let p = k
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]!) > Math.abs(m[p * n + k]!)) p = i
    if (!(Math.abs(m[p * n + k]!) > tiny)) return undefined
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = m[k * n + j]!
        m[k * n + j] = m[p * n + j]!
        m[p * n + j] = t
      }
      const t = x[k]!
      x[k] = x[p]!
      x[p] = t
    }
    const piv = m[k * n + k]!
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k]! / piv
      if (f === 0) continue
      m[i * n + k] = f
      for (let j = k + 1; j < n; j++) m[i * n + j] = m[i * n + j]! - f * m[k * n + j]!
      x[i] = x[i]! - f * x[k]!
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i]!
    for (let j = i + 1; j < n; j++) s -= m[i * n + j]! * x[j]!
    x[i] = s / m[i * n + i]!
  }
  return x
}

/** Symmetric eigenvalues by cyclic Jacobi rotations (small matrices: tests and constants). */
export const symmetricEigenvalues = (a: Matrix, sweeps = 100): Vec => {
  if (a.rows !== a.cols) throw new RangeError(`symmetricEigenvalues: ${a.rows}×${a.cols} is not square`)
  const n = a.rows
  const m = Float64Array.from(a.data)
  for (let s = 0; s < sweeps; s++) {
    let off = 0
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += m[i * n + j]! ** 2
    if (off < 1e-30) break
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!
        if (Math.abs(apq) < 1e-300) continue
        const app = m[p * n + p]!
        const aqq = m[q * n + q]!
        const theta = (aqq - app) / (2 * apq)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const sn = t * c
        for (let k = 0; k < n; k++) {
          const akp = m[k * n + p]!
          const akq = m[k * n + q]!
          m[k * n + p] = c * akp - sn * akq
          m[k * n + q] = sn * akp + c * akq
        }
        for (let k = 0; k < n; k++) {
          const apk = m[p * n + k]!
          const aqk = m[q * n + k]!
          m[p * n + k] = c * apk - sn * aqk
          m[q * n + k] = sn * apk + c * aqk
        }
      }
    }
  }
  const ev = new Float64Array(n)
  for (let i = 0; i < n; i++) ev[i] = m[i * n + i]!
  return ev.sort()
}

/** Spectral norm ‖A‖₂ of a small dense matrix (largest singular value), via eig(AᵀA). */
export const spectralNorm = (a: Matrix): number => {
  const ata = matMul(transpose(a), a)
  const ev = symmetricEigenvalues(ata)
  return Math.sqrt(Math.max(0, ev[ev.length - 1] ?? 0))
}
