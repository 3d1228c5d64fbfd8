/**
 * Test fixtures for the outer optimizers: an oracle made of a plain function (f, ∇f) with every
 * request recorded, and convex test functions with known minimizers — quadratics ½(x − x*)ᵀA(x − x*)
 * with a prescribed spectrum, and an L2-regularized logistic loss whose minimizer comes from a
 * dense Newton iteration written here.
 */
import * as E from 'fp-ts/lib/Either.js'
import { cholesky, choleskySolve } from '../../linalg/matrix.js'
import { matrix, type RVec, type Vec } from '../../linalg/types.js'
import * as R from '../../random/rng.js'
import type { HypergradResult } from '../../hypergrad/types.js'
import type { HyperOracle, OracleRequest } from '../tune.js'

export interface Fg {
  readonly value: number
  readonly gradient: Vec
}

/** What the oracle saw and answered, per call. */
export interface Call {
  readonly request: OracleRequest
  readonly value: number
  readonly gradient: Vec
}

/**
 * An oracle that evaluates fg at λ and records the call. Its `w` is [evaluation index], so that
 * a test can tell which evaluation a warm start came from; `bound` is reported when given.
 */
export const recordingOracle = (fg: (x: RVec, req: OracleRequest) => Fg & { readonly bound?: number }, calls: Call[] = []): { oracle: HyperOracle; calls: Call[] } => ({
  calls,
  oracle: (request) => {
    const r = fg(Float64Array.from(request.lambda), request)
    calls.push({ request, value: r.value, gradient: r.gradient })
    return E.right({
      ...resultOf(r.gradient, r.value, Float64Array.of(request.evaluation)),
      v: Float64Array.of(-request.evaluation),
      ...(r.bound !== undefined ? { bound: r.bound } : {}),
    })
  },
})

/** A converged result with the given gradient and value (t = k = 1, lower iterate w). */
export const resultOf = (gradient: Vec, value: number, w: Vec = new Float64Array(1)): HypergradResult => ({
  method: 'test',
  gradient,
  value,
  w,
  v: new Float64Array(1),
  stages: { lower: 'converged', linear: 'converged' },
  t: 1,
  k: 1,
  lowerResiduals: new Float64Array(0),
  linearResiduals: new Float64Array(0),
  counts: { phi: 0, jacW: 0, jacLambda: 0 },
  status: 'converged',
})

const dotv = (a: RVec, b: RVec): number => a.reduce((s, v, i) => s + v * b[i]!, 0)

/** A symmetric matrix with eigenvalues cond^(i/(n−1)) (1 to cond) in a random orthonormal basis (Gram–Schmidt). */
export const spdMatrix = (seed: number, n: number, cond: number): Float64Array => {
  const [q] = R.normals(R.seed(seed), n * n)
  const Q: Vec[] = []
  for (let i = 0; i < n; i++) {
    const v = q.slice(i * n, (i + 1) * n)
    for (const u of Q) {
      const d = dotv(v, u)
      for (let j = 0; j < n; j++) v[j] = v[j]! - d * u[j]!
    }
    const nv = Math.sqrt(dotv(v, v))
    Q.push(v.map((x) => x / nv))
  }
  const A = new Float64Array(n * n)
  for (let k = 0; k < n; k++) {
    const e = n === 1 ? 1 : cond ** (k / (n - 1))
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = A[i * n + j]! + e * Q[k]![i]! * Q[k]![j]!
  }
  return A
}

/** f(x) = ½(x − x*)ᵀA(x − x*), ∇f = A(x − x*). */
export const quadraticFg = (A: RVec, xStar: RVec) => (x: RVec): Fg => {
  const n = xStar.length
  const d = x.map((v, i) => v - xStar[i]!)
  const g = new Float64Array(n)
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g[i] = g[i]! + A[i * n + j]! * d[j]!
  return { value: 0.5 * dotv(d, g), gradient: g }
}

/**
 * f(x) = Σᵢ log(1 + exp(−yᵢaᵢᵀx)) + (μ/2)‖x‖² on m random rows aᵢ ∈ Rⁿ with ±1 labels, and its
 * minimizer by Newton's method with a dense Cholesky solve (to ‖∇f‖ ≤ 1e-13·m).
 */
export const logisticFg = (seed: number, m: number, n: number, mu: number): { fg: (x: RVec) => Fg; xStar: Vec } => {
  const [ra, rl] = R.split(R.seed(seed), 2) as [R.Rng, R.Rng]
  const [a] = R.normals(ra, m * n)
  const [u] = R.uniforms(rl, m)
  const y = Float64Array.from(u, (t, i) => (t < 1 / (1 + Math.exp(-2 * a[i * n]!)) ? 1 : -1))
  const fg = (x: RVec): Fg => {
    let value = (mu / 2) * dotv(x, x)
    const g = x.map((v) => mu * v)
    for (let i = 0; i < m; i++) {
      let z = 0
      for (let j = 0; j < n; j++) z += a[i * n + j]! * x[j]!
      const t = -y[i]! * z
      value += t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t))
      const s = 1 / (1 + Math.exp(-t))
      for (let j = 0; j < n; j++) g[j] = g[j]! - s * y[i]! * a[i * n + j]!
    }
    return { value, gradient: g }
  }
  let x = new Float64Array(n)
  for (let it = 0; it < 50; it++) {
    const { gradient } = fg(x)
    if (Math.sqrt(dotv(gradient, gradient)) <= 1e-13 * m) break
    const H = new Float64Array(n * n)
    for (let j = 0; j < n; j++) H[j * n + j] = mu
    for (let i = 0; i < m; i++) {
      let z = 0
      for (let j = 0; j < n; j++) z += a[i * n + j]! * x[j]!
      const s = 1 / (1 + Math.exp(-y[i]! * z))
      const wgt = s * (1 - s)
      for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) H[j * n + k] = H[j * n + k]! + wgt * a[i * n + j]! * a[i * n + k]!
    }
    const step = choleskySolve(cholesky(matrix(n, n, H))!, gradient)
    x = x.map((v, j) => v - step[j]!)
  }
  return { fg, xStar: x }
}
