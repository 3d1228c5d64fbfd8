import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { DesignDataset } from '../data/dataset.js'
import { orThrow } from '../errors.js'
import { aid } from '../hypergrad/aid.js'
import { exact } from '../hypergrad/exact.js'
import { csrFromDense } from '../linalg/csr.js'
import { denseOf } from '../linalg/matrix.js'
import { matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import * as R from '../random/rng.js'
import * as solvers from '../solvers/index.js'
import { softmaxCleaningObjective, softmaxCleaningProblem, softmaxObjective, softmaxProblem, type SoftmaxRegularization } from './softmax.js'

const norm = (x: RVec): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0))
const relErr = (x: RVec, y: RVec): number => norm(Float64Array.from(x, (v, i) => v - y[i]!)) / Math.max(norm(y), 1e-300)
const same = (a: RVec, b: RVec): boolean => a.length === b.length && a.every((x, i) => Object.is(x, b[i]))

/** n samples of d features (about a third zero), labels argmax(W*ᵀx + noise) among C classes. */
const dataset = (seed: number, n: number, d: number, C: number): DesignDataset => {
  const [x, r1] = R.normals(R.seed(seed), n * d)
  const [u, r2] = R.uniforms(r1, n * d)
  const [ws, r3] = R.normals(r2, d * C)
  const [noise] = R.normals(r3, n * C)
  const X = Float64Array.from(x, (v, k) => (u[k]! < 0.35 ? 0 : v))
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let best = 0, arg = 0
    for (let c = 0; c < C; c++) {
      let z = 0.5 * noise[i * C + c]!
      for (let j = 0; j < d; j++) z += X[i * d + j]! * ws[j * C + c]!
      if (c === 0 || z > best) (best = z), (arg = c)
    }
    y[i] = arg
  }
  return { X: matrix(n, d, X), y, nClasses: C }
}

const dense = (ds: DesignDataset): Matrix => ds.X as Matrix

/** The loss, gradient and Hessian-vector product of Σᵢ cᵢ·CE(Wᵀxᵢ, yᵢ), written out plainly (W row-major d × C). */
const plain = (ds: DesignDataset, C: number, W: RVec, U: RVec, c: (i: number) => number) => {
  const X = dense(ds), n = X.rows, d = X.cols
  let loss = 0
  const g = new Float64Array(d * C)
  const h = new Float64Array(d * C)
  for (let i = 0; i < n; i++) {
    const z = new Float64Array(C), s = new Float64Array(C)
    for (let k = 0; k < C; k++)
      for (let j = 0; j < d; j++) {
        z[k] = z[k]! + X.data[i * d + j]! * W[j * C + k]!
        s[k] = s[k]! + X.data[i * d + j]! * U[j * C + k]!
      }
    const m = Math.max(...z)
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0))
    const p = z.map((v) => Math.exp(v - lse))
    const yi = ds.y[i]!
    loss += c(i) * (lse - z[yi]!)
    const ps = p.reduce((a, v, k) => a + v * s[k]!, 0)
    for (let j = 0; j < d; j++)
      for (let k = 0; k < C; k++) {
        g[j * C + k] = g[j * C + k]! + c(i) * X.data[i * d + j]! * (p[k]! - (k === yi ? 1 : 0))
        h[j * C + k] = h[j * C + k]! + c(i) * X.data[i * d + j]! * p[k]! * (s[k]! - ps)
      }
  }
  return { loss, g, h }
}

const regOf = (reg: SoftmaxRegularization, lam: RVec, C: number, k: number): number =>
  reg === 'scalar' ? lam[0]! : reg === 'perFeature' ? lam[Math.floor(k / C)]! : lam[k % C]!

describe('softmax regression against a plain dense computation', () => {
  const C = 4, d = 5, n = 30
  const train = dataset(1, n, d, C)
  const [w0] = R.normals(R.seed(2), d * C)
  const W = Float64Array.from(w0, (x) => 0.5 * x)
  const [U] = R.normals(R.seed(3), d * C)
  const lams: Record<SoftmaxRegularization, Vec> = {
    scalar: Float64Array.of(0.3),
    perFeature: Float64Array.from({ length: d }, (_, j) => 0.1 + 0.2 * j),
    perClass: Float64Array.from({ length: C }, (_, c) => 0.5 + c),
  }

  for (const reg of ['scalar', 'perFeature', 'perClass'] as const)
    it(`${reg}: value, gradient, Hessian products (full and minibatch), dense Hessian, cross terms`, () => {
      const lam = lams[reg]
      const obj = softmaxObjective(train, reg)
      expect(obj.dim).toBe(d * C)
      expect(obj.hyperDim).toBe(reg === 'scalar' ? 1 : reg === 'perFeature' ? d : C)
      const want = plain(train, C, W, U, () => 1)
      let r = 0
      for (let k = 0; k < d * C; k++) {
        r += 0.5 * regOf(reg, lam, C, k) * W[k]! * W[k]!
        want.g[k] = want.g[k]! + regOf(reg, lam, C, k) * W[k]!
        want.h[k] = want.h[k]! + regOf(reg, lam, C, k) * U[k]!
      }
      expect(Math.abs(obj.value(W, lam) - (want.loss + r))).toBeLessThan(1e-12 * (want.loss + r))
      expect(relErr(obj.grad(W, lam), want.g)).toBeLessThan(1e-12)
      expect(relErr(obj.hvp(W, lam, U), want.h)).toBeLessThan(1e-12)
      // A minibatch with a repeat: (n/|B|) Σ_{i∈B}, the regularizer whole.
      const batch = Int32Array.of(4, 17, 4, 29)
      const count = (i: number): number => batch.filter((b) => b === i).length * (n / batch.length)
      const wb = plain(train, C, W, U, count)
      for (let k = 0; k < d * C; k++) {
        wb.g[k] = wb.g[k]! + regOf(reg, lam, C, k) * W[k]!
        wb.h[k] = wb.h[k]! + regOf(reg, lam, C, k) * U[k]!
      }
      expect(relErr(obj.grad(W, lam, batch), wb.g)).toBeLessThan(1e-12)
      expect(relErr(obj.hvp(W, lam, U, batch), wb.h)).toBeLessThan(1e-12)
      // The dense Hessian is the matrix of Hessian-vector products, symmetric.
      const H = obj.hessian(W, lam)
      const cols = denseOf(d * C, (v) => obj.hvp(W, lam, v))
      expect(relErr(H.data, cols.data)).toBeLessThan(1e-12)
      for (let a = 0; a < d * C; a++) for (let b = 0; b < a; b++) expect(H.data[a * d * C + b]).toBe(H.data[b * d * C + a])
      // Cross terms: the derivative of the gradient along λ, and adjointness.
      const [mu] = R.normals(R.seed(4), obj.hyperDim)
      const h = 1e-6
      const gp = obj.grad(W, Float64Array.from(lam, (l, k) => l + h * mu[k]!))
      const gm = obj.grad(W, Float64Array.from(lam, (l, k) => l - h * mu[k]!))
      expect(relErr(obj.crossJvp(W, lam, mu), Float64Array.from(gp, (x, k) => (x - gm[k]!) / (2 * h)))).toBeLessThan(1e-7)
      const jv = obj.crossJvp(W, lam, mu), vj = obj.crossVjp(W, lam, U)
      const lhs = jv.reduce((a, x, k) => a + x * U[k]!, 0), rhs = vj.reduce((a, x, k) => a + x * mu[k]!, 0)
      expect(Math.abs(lhs - rhs)).toBeLessThan(1e-12 * (Math.abs(lhs) + 1))
      // L bounds the Hessian's top eigenvalue.
      const top = (() => {
        let v = Float64Array.from(U)
        let est = 0
        for (let it = 0; it < 300; it++) {
          const hv = obj.hvp(W, lam, v)
          est = norm(hv) / norm(v)
          v = Float64Array.from(hv, (x) => x / norm(hv))
        }
        return est
      })()
      expect(obj.curvature(lam).L).toBeGreaterThanOrEqual(top * (1 - 1e-9))
    })

  it('CSR data give the same bits as dense data for every product, for both objectives', () => {
    const csr: DesignDataset = { X: csrFromDense(dense(train)), y: train.y, nClasses: C }
    const batch = Int32Array.of(0, 9, 9, 21)
    for (const reg of ['scalar', 'perFeature', 'perClass'] as const) {
      const a = softmaxObjective(train, reg), b = softmaxObjective(csr, reg)
      const lam = lams[reg]
      for (const bt of [undefined, batch]) {
        expect(Object.is(a.value(W, lam, bt), b.value(W, lam, bt))).toBe(true)
        expect(same(a.grad(W, lam, bt), b.grad(W, lam, bt))).toBe(true)
        expect(same(a.hvp(W, lam, U, bt), b.hvp(W, lam, U, bt))).toBe(true)
      }
      expect(same(a.hessian(W, lam).data, b.hessian(W, lam).data)).toBe(true)
      // σ_max(X)² by power iteration: the CSR passes scatter row by row, so the same to rounding.
      expect(Math.abs(a.curvature(lam).L / b.curvature(lam).L - 1)).toBeLessThan(1e-12)
    }
    const [l] = R.normals(R.seed(5), n)
    const [mu] = R.normals(R.seed(6), n)
    const a = softmaxCleaningObjective(train, { rho: 0.2 }), b = softmaxCleaningObjective(csr, { rho: 0.2 })
    for (const bt of [undefined, batch]) {
      expect(same(a.grad(W, l, bt), b.grad(W, l, bt))).toBe(true)
      expect(same(a.crossJvp(W, l, mu, bt), b.crossJvp(W, l, mu, bt))).toBe(true)
      expect(same(a.crossVjp(W, l, U, bt), b.crossVjp(W, l, U, bt))).toBe(true)
    }
  })

  it('data cleaning: the weights σ(λᵢ) against the plain computation, and its cross term against finite differences', () => {
    const [l] = R.normals(R.seed(7), n)
    const obj = softmaxCleaningObjective(train, { rho: 0.2 })
    const sig = (t: number): number => 1 / (1 + Math.exp(-t))
    const want = plain(train, C, W, U, (i) => sig(l[i]!))
    for (let k = 0; k < d * C; k++) want.g[k] = want.g[k]! + 0.2 * W[k]!
    expect(relErr(obj.grad(W, l), want.g)).toBeLessThan(1e-12)
    const [mu] = R.normals(R.seed(8), n)
    const h = 1e-6
    const gp = obj.grad(W, Float64Array.from(l, (x, i) => x + h * mu[i]!))
    const gm = obj.grad(W, Float64Array.from(l, (x, i) => x - h * mu[i]!))
    expect(relErr(obj.crossJvp(W, l, mu), Float64Array.from(gp, (x, k) => (x - gm[k]!) / (2 * h)))).toBeLessThan(1e-7)
  })
})

describe('softmax hypergradients', () => {
  const C = 10, d = 6
  const train = dataset(11, 80, d, C)
  const validation = dataset(12, 50, d, C)

  it('exact matches central differences of f(λ) = E(w(λ)) for each regularization', () => {
    const lams: Record<SoftmaxRegularization, Vec> = {
      scalar: Float64Array.of(0.8),
      perFeature: Float64Array.from({ length: d }, (_, j) => 0.3 + 0.2 * j),
      perClass: Float64Array.from({ length: C }, (_, c) => 0.4 + 0.1 * c),
    }
    for (const reg of ['scalar', 'perFeature', 'perClass'] as const) {
      const lam = lams[reg]
      const f = (l: RVec): number => orThrow(exact(orThrow(softmaxProblem(train, validation, l, { regularization: reg })), l)).value!
      const g = orThrow(exact(orThrow(softmaxProblem(train, validation, lam, { regularization: reg })), lam))
      expect(g.status).toBe('converged')
      const k = lam.length - 1
      const h = 1e-4 * lam[k]!
      const fd = (f(Float64Array.from(lam, (x, j) => (j === k ? x + h : x))) - f(Float64Array.from(lam, (x, j) => (j === k ? x - h : x)))) / (2 * h)
      expect(Math.abs(g.gradient![k]! - fd)).toBeLessThan(1e-6 * Math.abs(fd) + 1e-10)
    }
  })

  it('AID (heavy ball + conjugate gradient) meets exact to 1e-8, scalar and per-feature λ', () => {
    for (const [reg, lam] of [['scalar', Float64Array.of(0.5)], ['perFeature', Float64Array.from({ length: d }, (_, j) => 0.2 + 0.1 * j)]] as const) {
      const prob = orThrow(softmaxProblem(train, validation, lam, { regularization: reg }))
      const want = orThrow(exact(prob, lam)).gradient!
      const { tau, L } = prob.lower.curvature(lam)
      const q = (Math.sqrt(L) - Math.sqrt(tau)) / (Math.sqrt(L) + Math.sqrt(tau))
      const lower = solvers.lower.heavyBall({ beta: q * q, eta: 4 / (Math.sqrt(L) + Math.sqrt(tau)) ** 2 / prob.alpha })
      const got = aid(prob, lam, { t: 2000, k: 500, lower, linear: solvers.linear.conjugateGradient({ tol: 1e-14 }) })
      if (E.isLeft(got)) throw new Error(got.left.message)
      expect(got.right.status === 'diverged').toBe(false)
      expect(relErr(got.right.gradient!, want)).toBeLessThan(1e-8)
    }
  })
})

describe('softmaxProblem refuses bad input with a one-line Left', () => {
  const train = dataset(21, 12, 3, 3)
  const validation = dataset(22, 6, 3, 3)
  const lam = Float64Array.of(1)
  const left = (r: E.Either<{ readonly kind: string; readonly message: string }, unknown>): string => {
    if (E.isRight(r)) throw new Error('expected a Left')
    expect(r.left.message).not.toContain('\n')
    return r.left.message
  }

  it('labels outside 0…C−1, a missing class count, an empty validation set, a wrong regularization', () => {
    const bad = { ...validation, y: Float64Array.from(validation.y, (v, i) => (i === 2 ? 3 : v)) }
    expect(left(softmaxProblem(train, bad, lam, { regularization: 'scalar' }))).toBe('softmaxProblem: validation: y[2] = 3 is not a class index in 0…2')
    expect(left(softmaxProblem({ X: train.X, y: train.y }, validation, lam, { regularization: 'scalar' }))).toMatch(/number of classes/)
    expect(E.isRight(softmaxProblem({ X: train.X, y: train.y }, validation, lam, { regularization: 'scalar', nClasses: 3 }))).toBe(true)
    const empty: DesignDataset = { X: matrix(0, 3, new Float64Array(0)), y: new Float64Array(0), nClasses: 3 }
    expect(left(softmaxProblem(train, empty, lam, { regularization: 'scalar' }))).toBe('softmaxProblem: validation: needs at least 1 row, got 0')
    expect(left(softmaxProblem(train, validation, lam, { regularization: 'perSample' as SoftmaxRegularization }))).toMatch(/regularization must be/)
    expect(left(softmaxCleaningProblem(train, validation, new Float64Array(11)))).toMatch(/λ must have length 12/)
  })

  it('an overflowing step size names λ or the data scale, with both values', () => {
    expect(left(softmaxProblem(train, validation, Float64Array.of(1e308), { regularization: 'scalar' }))).toMatch(
      /^softmaxProblem: the step 2\/\(L \+ τ\) is 0 because λ reaches 1e\+308 \(data scale σ_max\(X\)² = [0-9.e+]+, largest λ = 1e\+308\): lower λ$/,
    )
    const huge = { ...train, X: matrix(12, 3, Float64Array.from((train.X as Matrix).data, (x) => x * 1e308)) }
    expect(left(softmaxProblem(huge, validation, lam, { regularization: 'scalar' }))).toMatch(/the data scale σ_max\(X\)² = Infinity is too large \(largest λ = 1\): rescale the data/)
  })
})
