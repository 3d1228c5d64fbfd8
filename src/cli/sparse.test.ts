// `hypergrad estimate` and `tune` on libsvm files read as sparse rows: a 10-class softmax model
// (one λ, one per feature, one per class) and a per-feature logistic model with 20,000 features,
// each against a truth computed here from the formulas alone (dense Newton and Cholesky solves
// for softmax; Newton-CG and CG with residual certificates on the sparse rows for logistic),
// itself checked by central differences of f(λ) = E(w(λ)); and bad sparse files.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as E from 'fp-ts/lib/Either.js'
import { csrFromDense, csrMatrix } from '../linalg/csr.js'
import { cholesky, choleskySolve } from '../linalg/matrix.js'
import { matrix } from '../linalg/types.js'
import * as R from '../random/rng.js'
import { formatLibsvm } from '../data/libsvm.js'
import { loadData, sizesOf } from './build.js'
import { methodCharges } from './limits.js'
import { classifierMetrics } from './tune.js'
import { runHere, spawnCommand } from './run.test-util.js'

const dir = mkdtempSync(join(tmpdir(), 'hypergrad-sparse-'))
const put = (name: string, text: string): string => (writeFileSync(join(dir, name), text), name)
let configs = 0
const config = (cfg: unknown): string => {
  const p = join(dir, `c${configs++}.json`)
  writeFileSync(p, JSON.stringify(cfg))
  return p
}
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let d = 0
  let n = 0
  for (let i = 0; i < b.length; i++) ((d += (a[i]! - b[i]!) ** 2), (n += b[i]! ** 2))
  return Math.sqrt(d / n)
}
const dotv = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}
const norm2 = (a: ArrayLike<number>): number => Math.sqrt(dotv(a, a))

interface Estimate {
  readonly hypergradient: number[]
  readonly value: number
  readonly status: string
}
const estimate = async (cfg: unknown): Promise<Estimate> => {
  const r = await runHere(['estimate', config(cfg), '--json'])
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return JSON.parse(r.stdout) as Estimate
}

// ── softmax regression, C = 10 ─────────────────────────────────────────────────────────────

const C = 10
const P = 5
type Reg = 'scalar' | 'perFeature' | 'perClass'

/** Dense rows x (n × P) and classes 0…C−1: class-conditional normals, about 30% of the entries zero. */
const classes = (seed: number, n: number) => {
  const [means] = R.normals(R.seed(99), C * P)
  const [noise, r1] = R.normals(R.seed(seed), n * P)
  const [drop] = R.uniforms(r1, n * P)
  const x = new Float64Array(n * P)
  const y = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    y[i] = (i * 7 + seed) % C
    for (let j = 0; j < P; j++) x[i * P + j] = drop[i * P + j]! < 0.3 ? 0 : means[y[i]! * P + j]! + noise[i * P + j]!
  }
  return { n, x, y }
}
type Rows = ReturnType<typeof classes>
/** A libsvm file of the rows, with class k written as the label k + 1 (the reader numbers the sorted labels). */
const softmaxFile = (name: string, d: Rows): string =>
  put(name, formatLibsvm({ X: matrix(d.n, P, d.x), y: Float64Array.from(d.y, (k) => k + 1) }))

const strain = classes(1, 200)
const sval = classes(2, 120)
const stest = classes(3, 100)
softmaxFile('s-train.svm', strain)
softmaxFile('s-val.svm', sval)
softmaxFile('s-test.svm', stest)

/** The class probabilities of row i under W (P × C, row-major), and their log-sum-exp. */
const softmaxRow = (d: Rows, i: number, W: ArrayLike<number>): { prob: Float64Array; lse: number; z: Float64Array } => {
  const z = new Float64Array(C)
  for (let j = 0; j < P; j++) for (let c = 0; c < C; c++) z[c] = z[c]! + d.x[i * P + j]! * W[j * C + c]!
  const m = Math.max(...z)
  const e = z.map((t) => Math.exp(t - m))
  const s = e.reduce((a, b) => a + b, 0)
  return { prob: e.map((t) => t / s), lse: m + Math.log(s), z }
}
const lamAt = (reg: Reg, lam: ArrayLike<number>, k: number): number => (reg === 'scalar' ? lam[0]! : reg === 'perFeature' ? lam[Math.floor(k / C)]! : lam[k % C]!)
/** The training loss: the weight of each row's cross-entropy and the ridge of each entry of W. */
interface Lower {
  readonly weight: (i: number) => number
  readonly ridge: (k: number) => number
}
const one = (): number => 1
/** Σ sᵢ CEᵢ (and its gradient Σ sᵢ xᵢ(pᵢ − e_{yᵢ})ᵀ) over the rows of d. */
const crossEntropy = (d: Rows, W: ArrayLike<number>, weight: (i: number) => number = one): { value: number; grad: Float64Array } => {
  const grad = new Float64Array(P * C)
  let value = 0
  for (let i = 0; i < d.n; i++) {
    const { prob, lse, z } = softmaxRow(d, i, W)
    const s = weight(i)
    value += s * (lse - z[d.y[i]!]!)
    for (let j = 0; j < P; j++) for (let c = 0; c < C; c++) grad[j * C + c] = grad[j * C + c]! + s * d.x[i * P + j]! * (prob[c]! - (c === d.y[i] ? 1 : 0))
  }
  return { value, grad }
}
/** ∇²ℓ = Σ sᵢ (xᵢxᵢᵀ) ⊗ (diag pᵢ − pᵢpᵢᵀ) + diag Λ, dense (P·C)². */
const softmaxHessian = (lower: Lower, W: ArrayLike<number>) => {
  const m = P * C
  const H = new Float64Array(m * m)
  for (let i = 0; i < strain.n; i++) {
    const { prob } = softmaxRow(strain, i, W)
    for (let j = 0; j < P; j++)
      for (let k = 0; k < P; k++) {
        const xx = lower.weight(i) * strain.x[i * P + j]! * strain.x[i * P + k]!
        if (xx === 0) continue
        for (let c = 0; c < C; c++)
          for (let e = 0; e < C; e++) {
            const at = (j * C + c) * m + k * C + e
            H[at] = H[at]! + xx * ((c === e ? prob[c]! : 0) - prob[c]! * prob[e]!)
          }
      }
  }
  for (let k = 0; k < m; k++) H[k * m + k] = H[k * m + k]! + lower.ridge(k)
  return matrix(m, m, H)
}
/** w(λ) by Newton's method with dense Cholesky solves, to the rounding floor. */
const softmaxArgmin = (lower: Lower): Float64Array => {
  let W = new Float64Array(P * C)
  for (let it = 0; it < 40; it++) {
    const g = crossEntropy(strain, W, lower.weight).grad
    for (let k = 0; k < W.length; k++) g[k] = g[k]! + lower.ridge(k) * W[k]!
    if (norm2(g) < 1e-13) break
    const L = cholesky(softmaxHessian(lower, W))
    if (L === undefined) throw new Error('the Hessian is not positive definite')
    const step = choleskySolve(L, g)
    W = W.map((w, k) => w - step[k]!)
  }
  return W
}
/** The hypergradient −(∂²_{Wλ}ℓ)ᵀ H⁻¹ ∇E at w(λ), and f(λ) = E(w(λ)). */
const softmaxTruth = (reg: Reg, lam: ArrayLike<number>) => {
  const lower: Lower = { weight: one, ridge: (k) => lamAt(reg, lam, k) }
  const W = softmaxArgmin(lower)
  const { value, grad } = crossEntropy(sval, W)
  const L = cholesky(softmaxHessian(lower, W))!
  const v = choleskySolve(L, grad)
  const g = new Float64Array(reg === 'scalar' ? 1 : reg === 'perFeature' ? P : C)
  for (let k = 0; k < W.length; k++) {
    const at = reg === 'scalar' ? 0 : reg === 'perFeature' ? Math.floor(k / C) : k % C
    g[at] = g[at]! - W[k]! * v[k]!
  }
  return { g, value, W }
}
/**
 * Data cleaning with the softmax model: ℓ = Σ σ(λᵢ) CEᵢ + (ρ/2)‖W‖², so
 * ∂f/∂λᵢ = −σ'(λᵢ) ⟨xᵢ(pᵢ − e_{yᵢ})ᵀ, H⁻¹∇E⟩.
 */
const cleaningTruth = (lam: ArrayLike<number>, rho: number) => {
  const lower: Lower = { weight: (i) => sigma(lam[i]!), ridge: () => rho }
  const W = softmaxArgmin(lower)
  const { value, grad } = crossEntropy(sval, W)
  const v = choleskySolve(cholesky(softmaxHessian(lower, W))!, grad)
  const g = new Float64Array(strain.n)
  for (let i = 0; i < strain.n; i++) {
    const { prob } = softmaxRow(strain, i, W)
    let t = 0
    for (let j = 0; j < P; j++) for (let c = 0; c < C; c++) t += strain.x[i * P + j]! * (prob[c]! - (c === strain.y[i] ? 1 : 0)) * v[j * C + c]!
    const s = sigma(lam[i]!)
    g[i] = -s * (1 - s) * t
  }
  return { g, value }
}
/** (f(λ + hd) − f(λ − hd)) / 2h. */
const centralDifference = (f: (lam: Float64Array) => number, lam: ArrayLike<number>, d: ArrayLike<number>, h: number): number =>
  (f(Float64Array.from(lam, (l, k) => l + h * d[k]!)) - f(Float64Array.from(lam, (l, k) => l - h * d[k]!))) / (2 * h)

const softmaxCases: ReadonlyArray<[Reg, number | number[]]> = [
  ['scalar', 0.5],
  ['perFeature', [0.2, 0.5, 1, 2, 0.3]],
  ['perClass', [0.3, 0.6, 0.9, 1.2, 0.4, 0.7, 1, 0.5, 0.8, 1.5]],
]
const softmaxConfig = (reg: Reg, lambda: number | number[], method: unknown) => ({
  problem: 'softmax',
  regularization: reg,
  data: { train: 's-train.svm', validation: 's-val.svm' },
  lambda,
  method,
})

describe('hypergrad estimate on a 10-class softmax problem from libsvm files', () => {
  it('the truth of this file agrees with central differences of f(λ) = E(w(λ))', () => {
    for (const [reg, lambda] of softmaxCases) {
      const lam = typeof lambda === 'number' ? [lambda] : lambda
      const { g } = softmaxTruth(reg, lam)
      const [d] = R.normals(R.seed(7), lam.length)
      const fd = centralDifference((l) => softmaxTruth(reg, l).value, lam, d, 1e-5)
      expect(Math.abs(fd - dotv(g, d)), reg).toBeLessThan(1e-6 * norm2(g) * norm2(d))
    }
  })

  it('exact matches the dense truth to 1e-8 relative; AID (heavy ball + CG) to 1e-6 — one λ, one per feature, one per class', async () => {
    for (const [reg, lambda] of softmaxCases) {
      const truth = softmaxTruth(reg, typeof lambda === 'number' ? [lambda] : lambda)
      const ex = await estimate(softmaxConfig(reg, lambda, { name: 'exact' }))
      expect(ex.hypergradient, reg).toHaveLength(truth.g.length)
      expect(relErr(ex.hypergradient, truth.g), reg).toBeLessThan(1e-8)
      expect(Math.abs(ex.value - truth.value) / truth.value, reg).toBeLessThan(1e-10)
      const aid = await estimate(softmaxConfig(reg, lambda, { name: 'aid', lower: 'heavyBall', linear: 'cg', t: 5000, k: 500, tolLower: 1e-10, tol: 1e-10 }))
      expect(aid.status, reg).toBe('converged')
      expect(relErr(aid.hypergradient, truth.g), reg).toBeLessThan(1e-6)
    }
  })

  it('softmaxCleaning (one λ per training sample): exact matches the dense truth to 1e-8, itself checked by central differences', async () => {
    const [lam] = R.normals(R.seed(31), strain.n)
    const truth = cleaningTruth(lam, 0.5)
    const [d] = R.normals(R.seed(32), strain.n)
    const fd = centralDifference((l) => cleaningTruth(l, 0.5).value, lam, d, 1e-5)
    expect(Math.abs(fd - dotv(truth.g, d))).toBeLessThan(1e-6 * norm2(truth.g) * norm2(d))
    const { regularization: _r, ...cfg } = softmaxConfig('scalar', Array.from(lam), { name: 'exact' })
    const ex = await estimate({ ...cfg, problem: 'softmaxCleaning', rho: 0.5 })
    expect(ex.hypergradient).toHaveLength(strain.n)
    expect(relErr(ex.hypergradient, truth.g)).toBeLessThan(1e-8)
  })

  it('tune: the secant method on λ reaches f′(λ) = 0 of the truth; the test metrics are the argmax accuracy and cross-entropy of w(λ)', async () => {
    const cfg = {
      ...softmaxConfig('scalar', 1, { name: 'exact' }),
      data: { train: 's-train.svm', validation: 's-val.svm', test: 's-test.svm' },
      outer: { optimizer: 'secant', steps: 20, logScale: true, gradTol: 1e-9 },
    }
    const r = await runHere(['tune', config(cfg), '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { lambda: number; trajectory: Array<{ lambda: number[]; metrics?: { testLoss: number; testAccuracy: number } }> }
    const g0 = softmaxTruth('scalar', [1]).g[0]!
    const at = softmaxTruth('scalar', [out.lambda])
    expect(Math.abs(at.g[0]!)).toBeLessThan(1e-5 * Math.abs(g0))
    const last = out.trajectory[out.trajectory.length - 1]!
    expect(last.lambda[0]).toBe(out.lambda)
    // The test metrics of w(λ), computed here from the dense rows.
    let loss = 0
    let correct = 0
    for (let i = 0; i < stest.n; i++) {
      const { lse, z } = softmaxRow(stest, i, at.W)
      loss += lse - z[stest.y[i]!]!
      if (z.indexOf(Math.max(...z)) === stest.y[i]) correct++
    }
    expect(Math.abs(last.metrics!.testLoss - loss) / loss).toBeLessThan(1e-8)
    expect(last.metrics!.testAccuracy).toBe(correct / stest.n)
  })
})

describe('MNIST data for the softmax problems', () => {
  it('gives the ten digits, on the same rows as the odd/even split of the binary problems', () => {
    const data = { mnist: { nTrain: 60, nVal: 40, seed: 3 } }
    const digits = loadData(data, 'softmax', dir)
    const oddEven = loadData(data, 'logistic', dir)
    if (E.isLeft(digits) || E.isLeft(oddEven)) throw new Error('MNIST did not load')
    expect(digits.right.train.nClasses).toBe(10)
    expect(new Set(digits.right.train.y).size).toBeGreaterThan(5)
    for (const k of ['train', 'validation'] as const) {
      expect(digits.right[k].X).toEqual(oddEven.right[k].X)
      expect(Array.from(digits.right[k].y, (c) => (c % 2 === 0 ? 1 : -1))).toEqual(Array.from(oddEven.right[k].y))
    }
  })
})

describe('classifierMetrics', () => {
  it('on CSR and dense data alike: logistic loss and sign accuracy for ±1 labels, cross-entropy and argmax accuracy for classes', () => {
    const [wm] = R.normals(R.seed(5), P * C)
    const dense = matrix(stest.n, P, stest.x)
    const csr = csrFromDense(dense)
    let loss = 0
    let correct = 0
    for (let i = 0; i < stest.n; i++) {
      const { lse, z } = softmaxRow(stest, i, wm)
      loss += lse - z[stest.y[i]!]!
      if (z.indexOf(Math.max(...z)) === stest.y[i]) correct++
    }
    for (const X of [dense, csr]) {
      const m = classifierMetrics({ X, y: Float64Array.from(stest.y), nClasses: C }, wm, C)
      expect(Math.abs(m.loss - loss) / loss).toBeLessThan(1e-13)
      expect(m.accuracy).toBe(correct / stest.n)
    }
    const w = wm.subarray(0, P)
    const y = Float64Array.from(stest.y, (k) => (k % 2 === 0 ? 1 : -1))
    let bl = 0
    let bc = 0
    for (let i = 0; i < stest.n; i++) {
      const u = y[i]! * dotv(stest.x.subarray(i * P, (i + 1) * P), w)
      bl += Math.log(1 + Math.exp(-u))
      if (u > 0) bc++
    }
    for (const X of [dense, csr]) {
      const m = classifierMetrics({ X, y }, w)
      expect(Math.abs(m.loss - bl) / bl).toBeLessThan(1e-12)
      expect(m.accuracy).toBe(bc / stest.n)
    }
  })
})

/** A checked CSR matrix (the test's own arrays). */
const csrOf = (rows: number, cols: number, indptr: Int32Array, indices: Int32Array, values: Float64Array) => {
  const r = csrMatrix(rows, cols, indptr, indices, values)
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

// ── per-feature logistic regression on 20,000 sparse features ────────────────────────────────

const WIDE = 20_000
const PER_ROW = 100

interface SparseRows {
  readonly n: number
  readonly indptr: Int32Array
  readonly indices: Int32Array
  readonly values: Float64Array
  readonly y: Float64Array
}
/** n rows with about PER_ROW distinct random columns each (0.5% density); labels ±1 from a sparse linear model with noise. */
const sparseRows = (seed: number, n: number): SparseRows => {
  const [truthW] = R.normals(R.seed(1234), WIDE)
  let r = R.seed(seed)
  const indptr = new Int32Array(n + 1)
  const indices: number[] = []
  const values: number[] = []
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const [u, r1] = R.uniforms(r, PER_ROW)
    const [v, r2] = R.normals(r1, PER_ROW + 1)
    r = r2
    const cols = Array.from(new Set(Array.from(u, (t) => Math.floor(t * WIDE)))).sort((a, b) => a - b)
    let z = 0
    cols.forEach((j, k) => {
      const x = (3 * v[k]!) / Math.sqrt(PER_ROW)
      indices.push(j)
      values.push(x)
      z += x * truthW[j]!
    })
    y[i] = z + 0.3 * v[PER_ROW]! > 0 ? 1 : -1
    indptr[i + 1] = indices.length
  }
  return { n, indptr, indices: Int32Array.from(indices), values: Float64Array.from(values), y }
}
const ltrain = sparseRows(11, 300)
const lval = sparseRows(12, 200)
const sparseFile = (name: string, d: SparseRows): string => {
  return put(name, formatLibsvm({ X: csrOf(d.n, WIDE, d.indptr, d.indices, d.values), y: d.y }))
}
sparseFile('l-train.svm', ltrain)
sparseFile('l-val.svm', lval)

/** Σ over the rows of f(i, yᵢxᵢᵀw)·yᵢxᵢ. */
const rowSum = (d: SparseRows, w: ArrayLike<number>, f: (i: number, m: number) => number): Float64Array => {
  const out = new Float64Array(WIDE)
  for (let i = 0; i < d.n; i++) {
    let m = 0
    for (let q = d.indptr[i]!; q < d.indptr[i + 1]!; q++) m += d.values[q]! * w[d.indices[q]!]!
    const a = f(i, d.y[i]! * m) * d.y[i]!
    for (let q = d.indptr[i]!; q < d.indptr[i + 1]!; q++) out[d.indices[q]!] = out[d.indices[q]!]! + a * d.values[q]!
  }
  return out
}
const sigma = (t: number): number => 1 / (1 + Math.exp(-t))
/** ∇ Σ ψ(yᵢxᵢᵀw) with ψ(m) = log(1 + e^{−m}): Σ −σ(−mᵢ) yᵢxᵢ. */
const logGrad = (d: SparseRows, w: ArrayLike<number>) => rowSum(d, w, (_i, m) => -sigma(-m))
const logValue = (d: SparseRows, w: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < d.n; i++) {
    let m = 0
    for (let q = d.indptr[i]!; q < d.indptr[i + 1]!; q++) m += d.values[q]! * w[d.indices[q]!]!
    const u = d.y[i]! * m
    s += u > 0 ? Math.log1p(Math.exp(-u)) : -u + Math.log1p(Math.exp(u))
  }
  return s
}
/** u ↦ (Σ σ(mᵢ)σ(−mᵢ) xᵢxᵢᵀ + diag λ) u at w. */
const logHessian = (w: ArrayLike<number>, lam: ArrayLike<number>) => {
  const margins = new Float64Array(ltrain.n)
  for (let i = 0; i < ltrain.n; i++) {
    let m = 0
    for (let q = ltrain.indptr[i]!; q < ltrain.indptr[i + 1]!; q++) m += ltrain.values[q]! * w[ltrain.indices[q]!]!
    margins[i] = m
  }
  return (u: ArrayLike<number>): Float64Array => {
    const out = new Float64Array(u.length)
    for (let j = 0; j < u.length; j++) out[j] = lam[j]! * u[j]!
    for (let i = 0; i < ltrain.n; i++) {
      let s = 0
      for (let q = ltrain.indptr[i]!; q < ltrain.indptr[i + 1]!; q++) s += ltrain.values[q]! * u[ltrain.indices[q]!]!
      const a = sigma(margins[i]!) * sigma(-margins[i]!) * s
      for (let q = ltrain.indptr[i]!; q < ltrain.indptr[i + 1]!; q++) out[ltrain.indices[q]!] = out[ltrain.indices[q]!]! + a * ltrain.values[q]!
    }
    return out
  }
}
/** Conjugate gradient on A x = b from 0 until ‖b − Ax‖ ≤ rtol·‖b‖; returns x and the final residual norm (recomputed). */
const solveSpd = (A: (u: Float64Array) => Float64Array, b: Float64Array, rtol: number): { x: Float64Array; residual: number } => {
  const x = new Float64Array(b.length)
  const r = Float64Array.from(b)
  const p = Float64Array.from(b)
  let rr = dotv(r, r)
  const stop = (rtol * norm2(b)) ** 2
  for (let it = 0; it < 10 * b.length && rr > stop; it++) {
    const Ap = A(p)
    const a = rr / dotv(p, Ap)
    for (let j = 0; j < x.length; j++) ((x[j] = x[j]! + a * p[j]!), (r[j] = r[j]! - a * Ap[j]!))
    const rr1 = dotv(r, r)
    for (let j = 0; j < p.length; j++) p[j] = r[j]! + (rr1 / rr) * p[j]!
    rr = rr1
  }
  const Ax = A(x)
  return { x, residual: norm2(b.map((t, j) => t - Ax[j]!)) }
}
/** w(λ) by Newton-CG on ℓ, to ‖∇ℓ‖ ≤ 1e-12·‖∇ℓ(0)‖. */
const logArgmin = (lam: ArrayLike<number>): { w: Float64Array; gradNorm: number } => {
  let w = new Float64Array(WIDE)
  const g0 = norm2(logGrad(ltrain, w))
  for (let it = 0; it < 30; it++) {
    const g = logGrad(ltrain, w).map((t, j) => t + lam[j]! * w[j]!)
    const gn = norm2(g)
    if (gn <= 1e-12 * g0) return { w, gradNorm: gn }
    const { x } = solveSpd(logHessian(w, lam), g, 1e-10)
    w = w.map((t, j) => t - x[j]!)
  }
  return { w, gradNorm: norm2(logGrad(ltrain, w).map((t, j) => t + lam[j]! * w[j]!)) }
}

describe('hypergrad estimate on a per-feature logistic problem with 20,000 sparse features', () => {
  const [u] = R.uniformsIn(R.seed(21), WIDE, 0.1, 1)
  const lambda = Array.from(u)
  const tau = Math.min(...lambda)
  it('AID (heavy ball + CG) matches the certified Newton-CG truth to 1e-6, one entry per feature', async () => {
    const { w, gradNorm } = logArgmin(lambda)
    const b = logGrad(lval, w)
    const { x: v, residual } = solveSpd(logHessian(w, lambda), b, 1e-13)
    const truth = w.map((t, j) => -t * v[j]!)
    // Certificates (∇²ℓ ⪰ τI): ‖w − w*‖ ≤ ‖∇ℓ(w)‖/τ and ‖v − H⁻¹b‖ ≤ ‖Hv − b‖/τ, far below the 1e-6 asked.
    expect(gradNorm / tau).toBeLessThan(1e-9 * norm2(w))
    expect((Math.max(...w.map(Math.abs)) * residual) / tau).toBeLessThan(1e-9 * norm2(truth))
    // The truth's formula against central differences of f(λ) = E(w(λ)) along a random direction.
    const [d] = R.normals(R.seed(22), WIDE)
    const fd = centralDifference((l) => logValue(lval, logArgmin(l).w), lambda, d, 1e-4)
    expect(Math.abs(fd - dotv(truth, d))).toBeLessThan(1e-5 * norm2(truth) * norm2(d))

    const out = await estimate({
      problem: 'logistic',
      regularization: 'perFeature',
      data: { train: 'l-train.svm', validation: 'l-val.svm', nFeatures: WIDE },
      lambda,
      method: { name: 'aid', lower: 'heavyBall', linear: 'cg', t: 3000, k: 1000, tolLower: 1e-10, tol: 1e-10 },
    })
    expect(out.hypergradient).toHaveLength(WIDE)
    expect(relErr(out.hypergradient, truth)).toBeLessThan(1e-6)
    expect(Math.abs(out.value - logValue(lval, w)) / out.value).toBeLessThan(1e-9)
  })

  it('the limits count the stored entries: a million columns are costed by their non-zeros, and exact is refused naming the size', async () => {
    const base = { problem: 'logistic', regularization: 'perFeature', data: { train: 'l-train.svm', validation: 'l-val.svm', nFeatures: 1_000_000 }, lambda: 0.5 }
    const r = await runHere(['estimate', config({ ...base, method: { name: 'exact' } })])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^hypergrad: config\.method\.name = exact: the run needs about .* of memory \(the dense 1000000 × 1000000 system and its factor\)/)
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    const nnz = ltrain.indptr[ltrain.n]!
    const csr = csrOf(ltrain.n, 1_000_000, ltrain.indptr, ltrain.indices, ltrain.values)
    const splits = { train: { X: csr, y: ltrain.y }, validation: { X: csr, y: ltrain.y } }
    const s = sizesOf({ problem: 'logistic', regularization: 'perFeature' }, splits)
    expect(s).toEqual({ rows: ltrain.n, cols: 1_000_000, nnz, hyper: 1_000_000 })
    // AID's time is a few passes over nnz entries and d-vectors: 100 steps of a million weights are far under a second.
    const aid = methodCharges({ name: 'aid', lower: 'heavyBall', linear: 'cg', t: 50, k: 50 }, s)
    expect(aid.reduce((a, c) => a + c.cost.seconds, 0)).toBeLessThan(1)
    // A softmax model has d·C weights, and a pass does C multiply-adds per stored entry.
    const multi = { train: { X: csr, y: ltrain.y.map(() => 0), nClasses: 20 }, validation: { X: csr, y: ltrain.y.map(() => 0), nClasses: 20 } }
    expect(sizesOf({ problem: 'softmax', regularization: 'perClass' }, multi)).toEqual({ rows: ltrain.n, cols: 20_000_000, nnz: 20 * nnz, hyper: 20 })
  })
})

// ── bad sparse files ─────────────────────────────────────────────────────────────────────────

describe('bad sparse input: one line naming the file and the line, exit status 2', () => {
  const good = formatLibsvm({ X: matrix(strain.n, P, strain.x), y: Float64Array.from(strain.y, (k) => k + 1) }).split('\n')
  const withLine = (name: string, line: number, text: string): string => {
    const lines = [...good]
    lines[line - 1] = text
    return put(name, lines.join('\n'))
  }
  const cases: Array<[string, unknown, RegExp]> = [
    [
      'a malformed sparse line',
      softmaxConfig('scalar', 1, { name: 'exact' }),
      /^hypergrad: config\.data\.train: .*bad-malformed\.svm:3: malformed feature '3' \(expected index:value\)$/,
    ],
    [
      'an index past nFeatures',
      { ...softmaxConfig('scalar', 1, { name: 'exact' }), data: { train: 's-train.svm', validation: 'bad-wide.svm', nFeatures: P } },
      /^hypergrad: config\.data\.validation: .*bad-wide\.svm:2: feature index 7 exceeds nFeatures = 5$/,
    ],
    [
      'a label that is not an integer under multiclass',
      softmaxConfig('scalar', 1, { name: 'exact' }),
      /^hypergrad: config\.data\.train: .*bad-label\.svm:4: label 2\.5 is not an integer/,
    ],
    [
      'a class present only in validation',
      softmaxConfig('perClass', 1, { name: 'exact' }),
      /^hypergrad: config\.data\.validation: .*bad-class\.svm:5: label 99 is not a class of the training data \(1, 2, 3, 4, 5, 6, 7, 8, 9, 10\)$/,
    ],
  ]
  withLine('bad-malformed.svm', 3, '2 1:0.5 3')
  withLine('bad-wide.svm', 2, '3 1:0.5 7:1.25')
  withLine('bad-label.svm', 4, '2.5 1:0.5')
  withLine('bad-class.svm', 5, '99 2:0.5')
  const files: Record<string, [string, string]> = {
    'a malformed sparse line': ['bad-malformed.svm', 's-val.svm'],
    'an index past nFeatures': ['s-train.svm', 'bad-wide.svm'],
    'a label that is not an integer under multiclass': ['bad-label.svm', 's-val.svm'],
    'a class present only in validation': ['s-train.svm', 'bad-class.svm'],
  }
  it.each(cases)('%s', async (label, cfg, message) => {
    const [train, validation] = files[label]!
    const data = { ...(cfg as { data: object }).data, train, validation }
    const r = await runHere(['estimate', config({ ...(cfg as object), data })])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(r.stderr.trimEnd()).toMatch(message)
    expect(r.stdout).toBe('')
  })
  it('the executable exits with status 2 and the same line', async () => {
    const r = await spawnCommand(['tune', config({ ...softmaxConfig('scalar', 1, { name: 'exact' }), data: { train: 's-train.svm', validation: 'bad-class.svm' }, outer: { optimizer: 'secant', steps: 3 } })])
    expect(r.code).toBe(2)
    expect(r.stderr.trimEnd()).toMatch(/^hypergrad: config\.data\.validation: .*bad-class\.svm:5: label 99 is not a class of the training data/)
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
  })
  it('perClass is for softmax only; λ of the wrong length names the count expected', async () => {
    const bad = await runHere(['estimate', config({ ...softmaxConfig('perClass', 1, { name: 'exact' }), problem: 'logistic', data: { train: 'l-train.svm', validation: 'l-val.svm' } })])
    expect(bad.code).toBe(2)
    expect(bad.stderr.trimEnd()).toBe('hypergrad: config.regularization: "perClass" (one λ per class) is for the softmax problem; problem "logistic" has no classes (use "scalar" or "perFeature")')
    const short = await runHere(['estimate', config(softmaxConfig('perClass', [1, 2, 3], { name: 'exact' }))])
    expect(short.code).toBe(2)
    expect(short.stderr.trimEnd()).toBe('hypergrad: config.lambda: expected 10 values (one per class), got 3')
  })
})
