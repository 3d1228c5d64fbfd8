// The laws of the `ad` engine: every operation against central finite differences (value →
// gradient → Hessian products, and the Jacobian products of maps, with adjointness); the
// engine's products against the hand-written ones of the library's problems (a table: one
// entry per problem and dataset); checkProblem on problems built by the engine; purity and
// determinism.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import * as ad from '../src/ad/index.js'
import type { BatchView, Node } from '../src/ad/index.js'
import type { DesignDataset } from '../src/data/dataset.js'
import type { FunctionSpec } from '../src/ad/tapes.js'
import { hgError, orThrow } from '../src/errors.js'
import { spectralNorm } from '../src/linalg/matrix.js'
import { adFixedPointProblem } from '../src/problem/adFixedPoint.js'
import { csrFromDense } from '../src/linalg/csr.js'
import { matrix, type Matrix, type RVec, type Vec } from '../src/linalg/types.js'
import { checkProblem, formatFailures } from '../src/laws/index.js'
import { directional, fdMismatch, inner, norm2, vecArb, type Tolerance } from '../src/laws/numeric.js'
import type { BilevelProblem } from '../src/problem/bilevel.js'
import type { ErmProblem } from '../src/problem/erm.js'
import { dataCleaningProblem } from '../src/problems/dataCleaning.js'
import { logisticProblem } from '../src/problems/logistic.js'
import { ridgeProblem } from '../src/problems/ridge.js'
import { softmaxCleaningProblem, softmaxProblem, type SoftmaxRegularization } from '../src/problems/softmax.js'
import * as rng from '../src/random/rng.js'
import { adDataCleaningProblem, adLogisticProblem, adRidgeProblem, adSoftmaxCleaningProblem, adSoftmaxProblem } from './adModels.js'
import { syntheticDataset } from './fixtures.js'

const SEED = fc.readConfigureGlobal().seed ?? 20210413
const FD: Tolerance = { rtol: 1e-6, atol: 1e-9 }

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

const normals = (s: number, n: number): Vec => rng.normals(rng.seed(s), n)[0]
const dense = (s: number, r: number, c: number): Matrix => matrix(r, c, normals(s, r * c))
/** M with about a third of its entries set to zero, at random (so that its CSR form is not dense). */
const thinMatrix = (M: Matrix, s: number): Matrix => {
  const u = rng.uniforms(rng.seed(s), M.rows * M.cols)[0]
  return matrix(M.rows, M.cols, M.data.map((x, k) => (u[k]! < 0.35 ? 0 : x)))
}
/** A dense matrix with about a third of its entries zero. */
const sparse = (s: number, r: number, c: number): Matrix => thinMatrix(dense(s, r, c), s + 1)

// ------------------------------------------------------------------------------------------
// Finite differences of every operation

/** One operation under test: a function of (w, λ[, batch]) of any shape, and where to evaluate it. */
interface OpCase {
  readonly name: string
  readonly spec: FunctionSpec
  readonly f: (w: Node, l: Node, b: BatchView) => Node
  /** Map raw draws in [−1, 1] into the domain (default: as they are). */
  readonly w?: (x: number) => number
  readonly l?: (x: number) => number
  /** Minibatch size to test with (the case needs nSamples). */
  readonly batch?: number
}

const X46 = dense(11, 4, 6)
const X43 = dense(12, 4, 3)
const S56 = sparse(13, 5, 6)
const S43 = sparse(14, 4, 3)
const c6 = normals(15, 6)
const y5 = normals(16, 5)
const labels4 = Float64Array.of(0, 2, 1, 2)
const labels5 = Float64Array.of(1, 0, 2, 2, 1)
const pos = (x: number): number => 1 + 0.5 * x
const small = (x: number): number => 0.7 * x

const OPS: ReadonlyArray<OpCase> = [
  { name: 'neg', spec: { w: 6, lambda: 6 }, f: (w, l) => ad.neg(ad.mul(w, l)) },
  { name: 'exp', spec: { w: 6, lambda: 6 }, f: (w, l) => ad.exp(ad.mul(w, l)) },
  { name: 'log', spec: { w: 6, lambda: 6 }, f: (w, l) => ad.log(ad.add(w, ad.square(l))), w: pos },
  { name: 'log1p', spec: { w: 6, lambda: 6 }, f: (w, l) => ad.log1p(ad.mul(w, l)), w: small, l: small },
  { name: 'softplus', spec: { w: 6, lambda: 6 }, f: (w, l) => ad.softplus(ad.mul(3, ad.mul(w, l))) },
  { name: 'sigmoid', spec: { w: 6, lambda: 6 }, f: (w, l) => ad.sigmoid(ad.mul(3, ad.sub(w, l))) },
  { name: 'tanh', spec: { w: 6, lambda: 6 }, f: (w, l) => ad.tanh(ad.mul(2, ad.mul(w, l))) },
  { name: 'square', spec: { w: 6, lambda: 6 }, f: (w, l) => ad.square(ad.sub(w, l)) },
  { name: 'sqrt', spec: { w: 6, lambda: 6 }, f: (w, l) => ad.sqrt(ad.add(w, ad.square(l))), w: pos },
  { name: 'add, sub, mul (two nodes)', spec: { w: 6, lambda: 6 }, f: (w, l) => ad.mul(ad.add(w, l), ad.sub(l, ad.mul(w, w))) },
  { name: 'div (two nodes)', spec: { w: 6, lambda: 6 }, f: (w, l) => ad.div(ad.mul(w, l), ad.add(w, ad.square(l))), w: pos },
  {
    name: 'scalar constants: c + x, c − x, x − c, c·x, x/c, c/x',
    spec: { w: 6, lambda: 6 },
    f: (w, l) => ad.mul(ad.add(2, ad.sub(3, ad.mul(ad.sub(w, 0.5), 1.5))), ad.add(ad.div(l, 4), ad.div(3, w))),
    w: pos,
  },
  {
    name: 'constant vectors: a + x, a − x, x − a, a·x, x/a, a/x',
    spec: { w: 6, lambda: 6 },
    f: (w, l) => ad.mul(ad.sub(ad.add(c6, ad.sub(c6, ad.mul(c6, w))), c6), ad.add(ad.div(l, ad.add(3, ad.square(c6)) as Node), ad.div(c6, w))),
    w: pos,
  },
  {
    name: 'broadcast: a row, a column and a scalar against a matrix',
    spec: { w: [3, 2], lambda: 6 },
    f: (w, l) => {
      const row = ad.reshape(ad.mul(l, c6), 6, 1)
      const r = ad.sum(ad.reshape(row, 3, 2), 'cols') // 1×2
      const col = ad.sum(ad.reshape(l, 3, 2), 'rows') // 3×1
      const s = ad.sum(ad.mul(l, l)) // 1×1
      return ad.div(ad.add(ad.mul(w, r), ad.sub(col, ad.mul(s, w))), ad.add(2, ad.square(r)))
    },
  },
  { name: 'sum (all, rows, cols), mean, dot (of two nodes and of a node with itself)', spec: { w: [3, 2], lambda: [3, 2] }, f: (w, l) => {
      const p = ad.mul(w, ad.exp(l))
      return ad.add(ad.mul(ad.sum(p, 'rows'), ad.sum(p, 'cols')), ad.add(ad.mul(ad.sum(p), ad.mean(w)), ad.add(ad.dot(w, l), ad.mul(ad.sum(l), ad.dot(w, w)))))
    } },
  { name: 'matvec, matvecT with a dense matrix', spec: { w: 6, lambda: 4 }, f: (w, l) => ad.matvecT(X46, ad.mul(l, ad.tanh(ad.matvec(X46, w)))) },
  { name: 'matvec, matvecT with a CSR matrix', spec: { w: 6, lambda: 5 }, f: (w, l) => ad.matvecT(csrFromDense(S56), ad.mul(l, ad.tanh(ad.matvec(csrFromDense(S56), w)))) },
  {
    name: 'matmul of two nodes, every transposition',
    spec: { w: [3, 2], lambda: [2, 3] },
    f: (w, l) => {
      const a = ad.matmul(w, l) // 3×3
      const b = ad.matmul(w, l, { transA: true, transB: true }) // 2×2
      const c = ad.matmul(l, w, { transA: true, transB: true }) // 3×3
      const d = ad.matmul(ad.tanh(l), ad.square(l), { transB: true }) // 2×2
      return ad.add(ad.reshape(ad.add(a, c), 9, 1), ad.sum(ad.mul(b, d)))
    },
  },
  {
    name: 'matmul with data on the left and on the right, dense and CSR, transposed',
    spec: { w: [3, 2], lambda: 3 },
    f: (w, l) => {
      const W = ad.mul(w, ad.reshape(ad.exp(l), 3, 1))
      const a = ad.matmul(X43, W) // 4×2
      const b = ad.matmul(csrFromDense(S43), W) // 4×2
      const c = ad.matmul(X43, ad.tanh(a), { transA: true }) // 3×2
      const d = ad.matmul(csrFromDense(S43), ad.square(b), { transA: true }) // 3×2
      const e = ad.matmul(W, X43, { transA: true, transB: true }) // 2×4 (data on the right)
      return ad.add(ad.reshape(ad.add(c, d), 6, 1), ad.sum(ad.mul(e, ad.transpose(a))))
    },
  },
  { name: 'transpose and reshape', spec: { w: [3, 2], lambda: 6 }, f: (w, l) => ad.mul(ad.transpose(ad.exp(w)), ad.reshape(l, 2, 3)) },
  { name: 'logsumexp (rows)', spec: { w: [4, 3], lambda: 3 }, f: (w, l) => ad.logsumexp(ad.mul(3, ad.mul(w, ad.reshape(l, 1, 3)))) },
  {
    name: 'softmaxCrossEntropy',
    spec: { w: [4, 3], lambda: 3 },
    f: (w, l) => ad.softmaxCrossEntropy(ad.mul(3, ad.add(w, ad.reshape(ad.square(l), 1, 3))), labels4),
  },
  {
    name: 'minibatch rows of a dense matrix, a vector and a node',
    spec: { w: 6, lambda: 5, nSamples: 5 },
    f: (w, l, b) => ad.mul(ad.sigmoid(b.rows(l)), ad.softplus(ad.mul(b.rows(y5), ad.matvec(b.rows(S56), w)))),
    batch: 4,
  },
  {
    name: 'minibatch rows of a CSR matrix, transposed product',
    spec: { w: 6, lambda: 5, nSamples: 5 },
    f: (w, l, b) => ad.matvecT(b.rows(csrFromDense(S56)), ad.mul(ad.exp(b.rows(l)), ad.tanh(ad.matvec(b.rows(csrFromDense(S56)), w)))),
    batch: 3,
  },
  {
    name: 'minibatch softmaxCrossEntropy (the labels of the batch)',
    spec: { w: [6, 3], lambda: 5, nSamples: 5 },
    f: (w, l, b) => ad.mul(ad.exp(b.rows(l)), ad.softmaxCrossEntropy(ad.matmul(b.rows(S56), w), b.rows(labels5))),
    batch: 4,
  },
]

const sizeOf = (s: FunctionSpec['w']): number => (typeof s === 'number' ? s : s[0] * s[1])

/** Every product of the map of `c` and of the scalar dot(k, square(map)) against finite differences at one point. */
const checkOp = (c: OpCase, V: ad.VectorFunction, S: ad.ScalarFunction, w: RVec, l: RVec, u: RVec, mu: RVec, v: RVec, vw: RVec, batch: Int32Array | undefined): void => {
  const fd = (what: string, jv: RVec, f: (x: RVec) => RVec, x: RVec, dir: RVec, floor = 0): void => {
    const m = fdMismatch(jv, directional(f, x, dir), FD, floor)
    if (m !== undefined) throw new Error(`${c.name}: ${what}: ${m}`)
  }
  const val = (ww: RVec, ll: RVec): RVec => right(V.value(ww, ll, batch))
  fd('∂₁Φ u', right(V.jvpW(w, l, u, batch)), (x) => val(x, l), w, u)
  fd('∂₂Φ μ', right(V.jvpLambda(w, l, mu, batch)), (x) => val(w, x), l, mu)
  const adjoint = (what: string, a: number, b: number, scale: number): void => {
    if (!(Math.abs(a - b) <= 1e-12 * scale + 1e-300)) throw new Error(`${c.name}: ${what}: ${a} vs ${b}`)
  }
  const ju = right(V.jvpW(w, l, u, batch))
  const jtv = right(V.vjpW(w, l, v, batch))
  adjoint('⟨∂₁Φ u, v⟩ = ⟨u, ∂₁Φᵀ v⟩', inner(ju, v), inner(u, jtv), norm2(ju) * norm2(v) + norm2(u) * norm2(jtv))
  const jm = right(V.jvpLambda(w, l, mu, batch))
  const jtl = right(V.vjpLambda(w, l, v, batch))
  adjoint('⟨∂₂Φ μ, v⟩ = ⟨μ, ∂₂Φᵀ v⟩', inner(jm, v), inner(mu, jtl), norm2(jm) * norm2(v) + norm2(mu) * norm2(jtl))
  const both = right(V.jvp(w, l, u, mu, batch))
  const sum = ju.map((x, i) => x + jm[i]!)
  if (!(norm2(both.map((x, i) => x - sum[i]!)) <= 1e-12 * (norm2(sum) + 1e-300))) throw new Error(`${c.name}: jvp ≠ jvpW + jvpLambda`)
  // the scalar: gradients, then second-order products against differences of the gradients
  const s = (ww: RVec, ll: RVec): RVec => Float64Array.of(right(S.value(ww, ll, batch)))
  const g = right(S.gradient(w, l, batch))
  fd('⟨∇_w ℓ, u⟩', Float64Array.of(inner(g.w, u)), (x) => s(x, l), w, u, 1e-3 * norm2(g.w) * norm2(u))
  fd('⟨∇_λ ℓ, μ⟩', Float64Array.of(inner(g.lambda, mu)), (x) => s(w, x), l, mu, 1e-3 * norm2(g.lambda) * norm2(mu))
  const gw = (ww: RVec, ll: RVec): RVec => right(S.gradW(ww, ll, batch))
  const gl = (ww: RVec, ll: RVec): RVec => right(S.gradLambda(ww, ll, batch))
  const hu = right(S.hvp(w, l, u, batch))
  fd('∇²_ww ℓ u', hu, (x) => gw(x, l), w, u)
  const cj = right(S.crossJvp(w, l, mu, batch))
  fd('∇²_wλ ℓ μ', cj, (x) => gw(w, x), l, mu)
  const cv = right(S.crossVjp(w, l, vw, batch))
  fd('(∇²_wλ ℓ)ᵀ v', cv, (x) => gl(x, l), w, vw)
  const hv = right(S.hessianVector(w, l, u, mu, batch))
  fd('∇²ℓ (u, μ), λ-block', hv.lambda, (t) => gl(w.map((x, i) => x + t[0]! * u[i]!), l.map((x, i) => x + t[0]! * mu[i]!)), Float64Array.of(0), Float64Array.of(1))
  const wsum = hu.map((x, i) => x + cj[i]!)
  if (!(norm2(hv.w.map((x, i) => x - wsum[i]!)) <= 1e-12 * (norm2(wsum) + norm2(hu) + norm2(cj)) + 1e-300))
    throw new Error(`${c.name}: hessianVector's w-block ≠ hvp + crossJvp`)
}

describe('ad: finite differences of every operation (values → first → second order; maps and adjoints)', () => {
  for (const c of OPS)
    it(c.name, () => {
      const V = right(ad.vectorFunction(c.spec, c.f))
      const k = V.outSize
      const weights = normals(99, k)
      const S = right(ad.scalarFunction(c.spec, (w, l, b) => (c.batch === undefined ? ad.dot(weights, ad.square(c.f(w, l, b))) : ad.sum(ad.square(c.f(w, l, b))))))
      const d = sizeOf(c.spec.w)
      const m = sizeOf(c.spec.lambda)
      const n = c.spec.nSamples ?? 1
      const vec = (len: number, f: (x: number) => number = (x) => x): fc.Arbitrary<Float64Array> => vecArb(len).map((a) => a.map(f))
      const batchArb = c.batch === undefined ? fc.constant(undefined) : fc.array(fc.integer({ min: 0, max: n - 1 }), { minLength: c.batch, maxLength: c.batch }).map((a) => Int32Array.from(a))
      fc.assert(
        fc.property(vec(d, c.w), vec(m, c.l), vec(d), vec(m), vec(Math.max(k, d)), batchArb, (w, l, u, mu, v, batch) => {
          checkOp(c, V, S, w, l, u, mu, v.subarray(0, V.outSizeFor(batch)), v.subarray(0, d), batch)
          if (batch !== undefined) checkOp(c, V, S, w, l, u, mu, v.subarray(0, k), v.subarray(0, d), undefined)
        }),
        { seed: SEED, numRuns: 4 },
      )
    })
})

// ------------------------------------------------------------------------------------------
// Errors

describe('ad: errors are Lefts naming the fault', () => {
  const leftOf = <A>(e: E.Either<{ message: string; kind: string }, A>): { message: string; kind: string } => {
    if (E.isRight(e)) throw new Error('expected a Left')
    return e.left
  }
  it('a shape mismatch while recording', () => {
    expect(leftOf(ad.scalarFunction({ w: 3, lambda: 2 }, (w, l) => ad.sum(ad.add(w, l)))).message).toMatch(/do not broadcast/)
    expect(leftOf(ad.scalarFunction({ w: 3, lambda: 2 }, (w) => ad.sum(ad.matvec(X46, w)))).message).toMatch(/inner dimensions/)
    expect(leftOf(ad.scalarFunction({ w: 3, lambda: 2 }, (w) => w)).message).toMatch(/scalar/)
    expect(leftOf(ad.vectorFunction({ w: 3, lambda: 2, outSize: 3 }, (_w, l) => l)).message).toMatch(/expected 3/)
  })
  it('non-differentiable points: sqrt at 0, log at ≤ 0, log1p at ≤ −1, a zero divisor', () => {
    const f = (op: (x: Node) => Node) => right(ad.scalarFunction({ w: 2, lambda: 1 }, (w) => ad.sum(op(w))))
    expect(leftOf(f(ad.sqrt).gradW(Float64Array.of(1, 0), Float64Array.of(0))).message).toMatch(/sqrt needs x > 0.*entry 1/)
    expect(E.isRight(f(ad.sqrt).value(Float64Array.of(1, 0), Float64Array.of(0)))).toBe(true)
    expect(leftOf(f(ad.log).value(Float64Array.of(1, -2), Float64Array.of(0))).message).toMatch(/log needs x > 0.*is -2/)
    expect(leftOf(f(ad.log1p).hvp(Float64Array.of(-1, 0), Float64Array.of(0), Float64Array.of(1, 1))).message).toMatch(/log1p/)
    expect(leftOf(f((x) => ad.div(1, x)).gradW(Float64Array.of(0, 1), Float64Array.of(0))).kind).toBe('domain')
    const g = right(ad.scalarFunction({ w: 2, lambda: 2 }, (w, l) => ad.sum(ad.div(w, l))))
    expect(leftOf(g.gradLambda(Float64Array.of(1, 1), Float64Array.of(1, 0))).message).toMatch(/non-zero divisor/)
  })
  it('bad arguments: lengths, non-finite entries, minibatches, labels', () => {
    const f = right(ad.scalarFunction({ w: 2, lambda: 1, nSamples: 3 }, (w, l, b) => ad.mul(b.scale, ad.sum(ad.mul(l, ad.matvec(b.rows(dense(1, 3, 2)), w))))))
    expect(leftOf(f.gradW(Float64Array.of(1), Float64Array.of(0))).message).toMatch(/w has length 1, expected 2/)
    expect(leftOf(f.gradW(Float64Array.of(1, Number.NaN), Float64Array.of(0))).message).toMatch(/not finite/)
    expect(leftOf(f.gradW(Float64Array.of(1, 1), Float64Array.of(0), Int32Array.of(0, 3))).message).toMatch(/outside \[0, 3\)/)
    expect(leftOf(f.gradW(Float64Array.of(1, 1), Float64Array.of(0), new Int32Array(0))).message).toMatch(/empty/)
    const ce = right(ad.scalarFunction({ w: [2, 3], lambda: 1 }, (w) => ad.sum(ad.softmaxCrossEntropy(w, Float64Array.of(0, 3)))))
    expect(leftOf(ce.value(new Float64Array(6), Float64Array.of(0))).message).toMatch(/labels in \[0, 3\), but row 1 has label 3/)
    expect(leftOf(ad.scalarFunction({ w: 2, lambda: 1 }, (w) => ad.sum(ad.mul(Float64Array.of(1, Number.NaN), w)))).kind).toBe('data')
  })
  it('an operation outside a recording throws a RangeError', () => {
    expect(() => ad.exp(1)).toThrow(RangeError)
  })
})

// ------------------------------------------------------------------------------------------
// The engine's products against the hand-written ones

/** One problem and dataset: the hand-written problem and the same model written with the engine (same α). */
interface EqualityEntry {
  readonly name: string
  readonly hand: () => ErmProblem
  readonly engine: (alpha: number) => ErmProblem
  /** The hand-written problem on the same data in dense layout, with the given α: compared too. */
  readonly twin?: (alpha: number) => ErmProblem
  /** λ in the domain, from raw draws in [−1, 1]. */
  readonly lambda: (raw: RVec) => Vec
  readonly batchSize: number
}

interface Split {
  readonly train: DesignDataset
  readonly validation: DesignDataset
}

/** A dataset of n rows, d features and C classes: labels the argmax of fixed linear scores W₀ᵀx. */
const multiclass = (seed: number, n: number, d: number, C: number): DesignDataset => {
  const X = dense(seed, n, d)
  const W0 = normals(seed + 1, d * C)
  const y = Float64Array.from({ length: n }, (_, i) => {
    const z = Array.from({ length: C }, (_c, c) => {
      let t = 0
      for (let j = 0; j < d; j++) t += X.data[i * d + j]! * W0[j * C + c]!
      return t
    })
    return z.indexOf(Math.max(...z))
  })
  return { X, y, nClasses: C }
}

const ridgeData = { train: syntheticDataset(21, 10, 4), validation: syntheticDataset(121, 6, 4) }
const logisticData = { train: syntheticDataset(31, 12, 5, true), validation: syntheticDataset(131, 7, 5, true) }
const cleaningData = { train: syntheticDataset(41, 9, 3, true), validation: syntheticDataset(141, 6, 3, true) }
// d = 4 features, C = 3 classes (d ≠ C, so that a per-feature and a per-class λ differ in shape)
const softmaxData = { train: multiclass(51, 10, 4, 3), validation: multiclass(151, 6, 4, 3) }

/** The same split with about a third of the entries of X set to zero: dense, and in CSR layout. */
const thinned = (s: Split, seed: number): { readonly dense: Split; readonly csr: Split } => {
  const thin = (ds: DesignDataset, k: number): DesignDataset => ({ ...ds, X: thinMatrix(ds.X as Matrix, seed + k) })
  const dn = { train: thin(s.train, 0), validation: thin(s.validation, 1) }
  const csr = (ds: DesignDataset): DesignDataset => ({ ...ds, X: csrFromDense(ds.X as Matrix) })
  return { dense: dn, csr: { train: csr(dn.train), validation: csr(dn.validation) } }
}

const positive = (raw: RVec): Vec => Float64Array.from(raw, (x) => Math.exp(x))
const ones = (n: number): Vec => new Float64Array(n).fill(1)
const signed = (raw: RVec): Vec => Float64Array.from(raw, (x) => 3 * x)
/** The option `alpha` when given. */
const at = (alpha: number | undefined): { alpha?: number } => (alpha === undefined ? {} : { alpha })

/** One model: the hand-written and the engine's problem on a split, λ from raw draws, the minibatch size. */
interface Model {
  readonly name: string
  readonly data: Split
  /** The hand-written problem; its default α unless `alpha` is given. */
  readonly hand: (s: Split, alpha?: number) => ErmProblem
  readonly engine: (s: Split, alpha: number) => ErmProblem
  readonly lambda: (raw: RVec) => Vec
  readonly batchSize: number
}

const softmaxModel = (reg: SoftmaxRegularization, m: number): Model => ({
  name: `softmax, ${{ scalar: 'scalar', perFeature: 'per-feature', perClass: 'per-class' }[reg]} λ`,
  data: softmaxData,
  hand: (s, alpha) => orThrow(softmaxProblem(s.train, s.validation, ones(m), { regularization: reg, ...at(alpha) })),
  engine: (s, alpha) => orThrow(adSoftmaxProblem(s.train, s.validation, reg, ones(m), { alpha })),
  lambda: (r) => positive(r.subarray(0, m)),
  batchSize: 4,
})

const MODELS: ReadonlyArray<Model> = [
  {
    name: 'ridge, scalar λ',
    data: ridgeData,
    hand: (s, alpha) => orThrow(ridgeProblem(s.train, s.validation, ones(1), { regularization: 'scalar', ...at(alpha) })),
    engine: (s, alpha) => orThrow(adRidgeProblem(s.train, s.validation, 1, ones(1), { alpha })),
    lambda: (r) => positive(r.subarray(0, 1)),
    batchSize: 3,
  },
  {
    name: 'ridge, per-feature λ',
    data: ridgeData,
    hand: (s, alpha) => orThrow(ridgeProblem(s.train, s.validation, ones(4), { regularization: 'perFeature', ...at(alpha) })),
    engine: (s, alpha) => orThrow(adRidgeProblem(s.train, s.validation, 'perFeature', ones(4), { alpha })),
    lambda: (r) => positive(r.subarray(0, 4)),
    batchSize: 4,
  },
  {
    name: 'logistic, scalar λ',
    data: logisticData,
    hand: (s, alpha) => orThrow(logisticProblem(s.train, s.validation, ones(1), { regularization: 'scalar', ...at(alpha) })),
    engine: (s, alpha) => orThrow(adLogisticProblem(s.train, s.validation, 1, ones(1), { alpha })),
    lambda: (r) => positive(r.subarray(0, 1)),
    batchSize: 5,
  },
  {
    name: 'logistic, per-feature λ',
    data: logisticData,
    hand: (s, alpha) => orThrow(logisticProblem(s.train, s.validation, ones(5), { regularization: 'perFeature', ...at(alpha) })),
    engine: (s, alpha) => orThrow(adLogisticProblem(s.train, s.validation, 'perFeature', ones(5), { alpha })),
    lambda: (r) => positive(r.subarray(0, 5)),
    batchSize: 3,
  },
  {
    name: 'data cleaning',
    data: cleaningData,
    hand: (s, alpha) => orThrow(dataCleaningProblem(s.train, s.validation, new Float64Array(9), at(alpha))),
    engine: (s, alpha) => orThrow(adDataCleaningProblem(s.train, s.validation, new Float64Array(9), 1, { alpha })),
    lambda: signed,
    batchSize: 4,
  },
  softmaxModel('scalar', 1),
  softmaxModel('perFeature', 4),
  softmaxModel('perClass', 3),
  {
    name: 'softmax data cleaning',
    data: softmaxData,
    hand: (s, alpha) => orThrow(softmaxCleaningProblem(s.train, s.validation, new Float64Array(10), at(alpha))),
    engine: (s, alpha) => orThrow(adSoftmaxCleaningProblem(s.train, s.validation, new Float64Array(10), 1, { alpha })),
    lambda: signed,
    batchSize: 4,
  },
]

/**
 * Every model on its dense data, and on the same data thinned to CSR: there the engine is also
 * compared with the hand-written problem on the thinned data in dense layout.
 */
const EQUALITY: ReadonlyArray<EqualityEntry> = MODELS.flatMap((m, k) => {
  const thin = thinned(m.data, 300 + 10 * k)
  const entry = (layout: string, s: Split, twin?: Split): EqualityEntry => ({
    name: `${m.name} (${layout})`,
    hand: () => m.hand(s),
    engine: (alpha) => m.engine(s, alpha),
    ...(twin !== undefined ? { twin: (alpha: number) => m.hand(twin, alpha) } : {}),
    lambda: m.lambda,
    batchSize: m.batchSize,
  })
  return [entry('dense', m.data), entry('CSR', thin.csr, thin.dense)]
})

/** ‖a − b‖ ≤ 1e-12·max(‖a‖, ‖b‖) (+ a floor for vectors that vanish). */
const closeRel = (what: string, a: RVec, b: RVec): void => {
  let d = 0
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!))
  const scale = Math.max(norm2(a), norm2(b))
  if (a.length !== b.length || !(d <= 1e-12 * scale + 1e-300)) throw new Error(`${what}: engine ${Array.from(a.subarray(0, 4))} vs hand-written ${Array.from(b.subarray(0, 4))} (max gap ${d}, scale ${scale})`)
}

/** Every product of an ERM problem at one point, named, in a fixed order. */
const products = (P: ErmProblem, w: RVec, l: RVec, u: RVec, v: RVec, mu: RVec, B: Int32Array): ReadonlyArray<readonly [string, RVec]> => {
  const H = P.lower
  return [
    ['∇ℓ', H.grad(w, l)],
    ['∇ℓ̂', H.grad(w, l, B)],
    ['∇²ℓ u', H.hvp(w, l, u)],
    ['∇²ℓ̂ u', H.hvp(w, l, u, B)],
    ['∇²_wλ ℓ μ', H.crossJvp(w, l, mu)],
    ['∇²_wλ ℓ̂ μ', H.crossJvp(w, l, mu, B)],
    ['(∇²_wλ ℓ)ᵀ v', H.crossVjp(w, l, v)],
    ['(∇²_wλ ℓ̂)ᵀ v', H.crossVjp(w, l, v, B)],
    ['ℓ', Float64Array.of(H.value(w, l))],
    ['ℓ̂', Float64Array.of(H.value(w, l, B))],
    ['Φ', P.phi(w, l)],
    ['∂₁Φ u', P.jvpW(w, l, u)],
    ['∂₁Φᵀ v', P.vjpW(w, l, v)],
    ['∂₂Φ μ', P.jvpLambda(w, l, mu)],
    ['∂₂Φᵀ v', P.vjpLambda(w, l, v)],
    ['Φ̂', P.phiHat(w, l, B)],
    ['∂₁Φ̂ u', P.jvpWHat(w, l, B, u)],
    ['∂₂Φ̂ᵀ v', P.vjpLambdaHat(w, l, B, v)],
    ['E', Float64Array.of(P.upper(w, l))],
    ['∇₁E', P.gradUpperW(w, l)],
    ['∇₂E', P.gradUpperLambda(w, l)],
  ]
}

describe('ad: the engine equals the hand-written products (1e-12 relative)', () => {
  for (const entry of EQUALITY)
    it(entry.name, () => {
      const hand = entry.hand()
      const eng = entry.engine(hand.alpha)
      // the default α of the two layouts may differ in the last bit (σ_max(X)² is estimated per layout)
      const twin = entry.twin?.(hand.alpha)
      const { dim: d, hyperDim: m, nSamples: n } = hand
      const raw = (len: number): fc.Arbitrary<Float64Array> => vecArb(len)
      const batch = fc.array(fc.integer({ min: 0, max: n - 1 }), { minLength: entry.batchSize, maxLength: entry.batchSize }).map((a) => Int32Array.from(a))
      fc.assert(
        fc.property(raw(d), raw(m), raw(d), raw(d), raw(m), batch, (w0, l0, u, v, mu, B) => {
          const w = w0.map((x) => 2 * x)
          const l = entry.lambda(l0)
          const ours = products(eng, w, l, u, v, mu, B)
          const compare = (label: string, other: ErmProblem): void =>
            products(other, w, l, u, v, mu, B).forEach(([what, b], i) => closeRel(`${entry.name}: ${what}${label}`, ours[i]![1], b))
          compare('', hand)
          if (twin !== undefined) compare(' (against the dense hand-written problem)', twin)
        }),
        { seed: SEED, numRuns: 10 },
      )
    })
})

// ------------------------------------------------------------------------------------------
// checkProblem on problems built by the engine

interface LawEntry {
  readonly name: string
  readonly build: () => BilevelProblem
  readonly lambda0: Vec
  readonly data?: unknown
}

const softmaxCsr = thinned(softmaxData, 400).csr

/** Build with α from the builder, then again with 0.9·α (the laws perturb λ by e^{±0.1}: Φ must still contract). */
const safe = (build: (alpha?: number) => ErmProblem): (() => ErmProblem) => () => build(0.9 * build().alpha)

// Φ(w, λ) = tanh(A w + B x + c) with λ = (A (3×3), B (3×3), c (3)) packed in one vector; q = ‖A‖₂.
const FP_X = normals(7, 3)
const FP_LAMBDA0 = Float64Array.from([...normals(8, 9).map((t) => 0.2 * t), ...normals(9, 9), ...normals(10, 3)])
const normA = (l: RVec): number => spectralNorm(matrix(3, 3, l.subarray(0, 9)))
const tanhFixedPoint = (): BilevelProblem =>
  orThrow(
    adFixedPointProblem({
      name: 'tanhFixedPoint',
      dim: 3,
      hyperDim: 21,
      phi: (w, l) => ad.tanh(ad.add(ad.add(ad.matvec(ad.slice(l, 0, 3, 3), w), ad.matvec(ad.slice(l, 9, 3, 3), FP_X)), ad.slice(l, 18, 3))),
      upper: (w, l) => ad.add(ad.sum(ad.square(ad.sub(w, 0.3))), ad.mul(0.01, ad.dot(l, l))),
      lambda0: FP_LAMBDA0,
      contraction: normA,
      checkLambda: (l) => (l.length === 21 && l.every(Number.isFinite) && normA(l) < 1 ? E.right(l) : E.left(hgError('domain', 'tanhFixedPoint: ‖A‖ must be < 1'))),
    }),
  )

const LAWS: ReadonlyArray<LawEntry> = [
  {
    name: 'ridge, per-feature λ (τ and L by power iteration)',
    build: safe((alpha) => orThrow(adRidgeProblem(ridgeData.train, ridgeData.validation, 'perFeature', Float64Array.of(0.5, 1, 0.3, 2), alpha === undefined ? {} : { alpha }))),
    lambda0: Float64Array.of(0.5, 1, 0.3, 2),
    data: ridgeData,
  },
  {
    name: 'logistic, per-feature λ',
    build: safe((alpha) => orThrow(adLogisticProblem(logisticData.train, logisticData.validation, 'perFeature', Float64Array.of(0.1, 0.2, 0.05, 0.3, 0.1), alpha === undefined ? {} : { alpha }))),
    lambda0: Float64Array.of(0.1, 0.2, 0.05, 0.3, 0.1),
    data: logisticData,
  },
  {
    name: 'data cleaning',
    build: safe((alpha) => orThrow(adDataCleaningProblem(cleaningData.train, cleaningData.validation, normals(42, 9), 1, alpha === undefined ? {} : { alpha }))),
    lambda0: normals(42, 9),
    data: cleaningData,
  },
  {
    name: 'softmax, per-class λ, on CSR data (τ = min λ, L = σ_max(X)²/2 + max λ)',
    build: safe((alpha) => orThrow(adSoftmaxProblem(softmaxCsr.train, softmaxCsr.validation, 'perClass', Float64Array.of(0.4, 0.1, 0.3), at(alpha)))),
    lambda0: Float64Array.of(0.4, 0.1, 0.3),
    data: softmaxCsr,
  },
  {
    name: 'a fixed-point map w ↦ tanh(A w + B x + c) (not a gradient step)',
    build: () => tanhFixedPoint(),
    lambda0: FP_LAMBDA0,
  },
]

describe('ad: checkProblem passes for problems built by the engine', () => {
  for (const entry of LAWS)
    it(entry.name, () => {
      const problem = entry.build()
      const r = checkProblem(problem, {
        seed: SEED,
        numRuns: 8,
        lambda0: entry.lambda0,
        batchSize: 2,
        ...(entry.data !== undefined ? { data: entry.data } : {}),
      })
      expect(formatFailures(r, entry.name)).toBe('')
      for (const x of r.results.filter((x) => x.skipped)) expect(['symmetry', 'stochastic.separable']).toContain(x.law)
    })
})

// ------------------------------------------------------------------------------------------
// Purity and determinism

describe('ad: purity and determinism', () => {
  it('no argument is written, results are fresh, and the same inputs give the same bits (also from a new recording)', () => {
    const build = (): ad.ScalarFunction =>
      right(ad.scalarFunction({ w: 6, lambda: 5, nSamples: 5 }, (w, l, b) => ad.add(ad.mul(b.scale, ad.dot(ad.sigmoid(b.rows(l)), ad.softplus(ad.matvec(b.rows(S56), w)))), ad.dot(w, w))))
    const f = build()
    const g = build()
    fc.assert(
      fc.property(vecArb(22), fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }), (xs, bs) => {
        const w = xs.slice(0, 6), l = xs.slice(6, 11), u = xs.slice(11, 17), mu = xs.slice(17, 22)
        const B = Int32Array.from(bs)
        const before = [w, l, u, mu, B].map((a) => a.slice())
        const calls: Array<(h: ad.ScalarFunction) => ReadonlyArray<RVec>> = [
          (h) => [right(h.gradW(w, l, B))],
          (h) => [right(h.gradLambda(w, l))],
          (h) => [right(h.hvp(w, l, u, B))],
          (h) => [right(h.crossJvp(w, l, mu, B))],
          (h) => [right(h.crossVjp(w, l, u))],
          (h) => { const r = right(h.hessianVector(w, l, u, mu, B)); return [r.w, r.lambda] },
        ]
        for (const call of calls) {
          const a = call(f), b = call(f), c = call(g)
          a.forEach((x, i) => {
            expect(x.buffer).not.toBe(b[i]!.buffer)
            expect(Buffer.from(x.buffer).equals(Buffer.from(b[i]!.buffer))).toBe(true)
            expect(Buffer.from(x.buffer).equals(Buffer.from(c[i]!.buffer))).toBe(true)
          })
        }
        ;[w, l, u, mu, B].forEach((a, i) => expect(Buffer.from(a.buffer).equals(Buffer.from(before[i]!.buffer))).toBe(true))
        expect(Array.from(S56.data).every((x, k) => Object.is(x, sparse(13, 5, 6).data[k]))).toBe(true)
      }),
      { seed: SEED, numRuns: 10 },
    )
  })
})
