import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { csrFromDense } from '../linalg/csr.js'
import { autoRowEngine } from '../linalg/rows/index.js'
import { matrix, type Matrix, type RVec } from '../linalg/types.js'
import * as R from '../random/rng.js'
import * as ad from './index.js'
import { batchView } from './batch.js'
import { Program } from './program.js'
import { DEP_W, Recording, record } from './recording.js'

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

/** Record fn on (w: d, λ: m) and compile it (for looking inside). */
const compile = (d: number, m: number, fn: (w: ad.Node, l: ad.Node) => ad.Node): Program => {
  const rec = new Recording(0, null)
  const out = right(record(rec, 'test', () => fn(rec.leaf('w', d, 1), rec.leaf('lambda', m, 1))))
  return new Program(rec, out.id)
}

describe('compiling a tape', () => {
  it('fuses a chain of elementwise steps into one instruction and evaluates constants once', () => {
    const y = Float64Array.of(1, -1, 1)
    const p = compile(3, 1, (w) => ad.sum(ad.softplus(ad.neg(ad.mul(ad.exp(ad.mul(2, y)), ad.tanh(ad.mul(y, w)))))))
    const names = p.instrs.map((i) => i.name)
    // exp(2y) is a constant: evaluated at compile time; y ⊙ w → tanh is one chain, the product with the constant,
    // the negation and softplus another step of the same chain.
    expect(names).toEqual(['mulBy∘tanh∘mulBy∘neg∘softplus', 'sum'])
  })
  it('keeps an intermediate result that has another use', () => {
    const p = compile(3, 1, (w) => {
      const t = ad.tanh(w)
      return ad.add(ad.sum(ad.exp(t)), ad.sum(t))
    })
    expect(p.instrs.map((i) => i.name)).toEqual(['tanh', 'exp', 'sum', 'sum', 'add'])
  })
  it('plans compute only what a product needs: an HVP computes no gradient of w and no tangent of the loss', () => {
    const X = matrix(4, 3, R.normals(R.seed(1), 12)[0])
    const p = compile(3, 1, (w, l) => ad.add(ad.sum(ad.softplus(ad.matvec(X, w))), ad.mul(l, ad.dot(w, w))))
    const hvp = p.plan({ tan: DEP_W, adj: 0, at: DEP_W, jvp: false })
    expect(hvp.needAdj[p.wId]).toBe(0)
    expect(hvp.needAT[p.wId]).toBe(1)
    expect(hvp.needTan[p.out]).toBe(0)
    expect(hvp.needAdj[p.lambdaId]).toBe(0)
    const grad = p.plan({ tan: 0, adj: DEP_W, at: 0, jvp: false })
    expect(grad.needTan.every((f) => f === 0)).toBe(true)
    expect(grad.needAT.every((f) => f === 0)).toBe(true)
  })
})

describe('the row engine path', () => {
  // 300 × 240 = 72,000 entries (≥ the row engine's threshold), about 20% non-zero like MNIST.
  const n = 300, p = 240
  const [vals, r1] = R.normals(R.seed(11), n * p)
  const [mask, r2] = R.uniforms(r1, n * p)
  const X: Matrix = matrix(n, p, vals.map((v, k) => (mask[k]! < 0.2 ? v : 0)))
  const Xcsr = csrFromDense(X)
  const y = R.normals(r2, n)[0].map((t) => (t >= 0 ? 1 : -1))
  const lower = (data: Matrix | ad.Factor) => (w: ad.Node, l: ad.Node, b: ad.BatchView) =>
    ad.add(ad.mul(b.scale, ad.sum(ad.softplus(ad.neg(ad.mul(b.rows(y), ad.matvec(b.rows(data as Matrix), w)))))), ad.mul(ad.mul(0.5, l), ad.sum(ad.exp(ad.mul(0.1, w)))))
  it('gives the products of the plain kernels (dense rows on WebAssembly against CSR in TypeScript)', () => {
    const f = right(ad.scalarFunction({ w: p, lambda: 1, nSamples: n }, lower(X)))
    const g = right(ad.scalarFunction({ w: p, lambda: 1, nSamples: n }, lower(Xcsr)))
    const [w, r] = R.uniformsIn(R.seed(3), p, -0.2, 0.2)
    const [u, r3] = R.uniformsIn(r, p, -1, 1)
    const B = R.minibatch(r3, n, 40, true)[0]
    const lam = Float64Array.of(0.7)
    for (let k = 0; k < 3; k++) right(f.gradW(w, lam))
    expect(autoRowEngine(X)).toBeDefined()
    const close = (a: RVec, b: RVec): void => {
      let d = 0, s = 0
      for (let i = 0; i < a.length; i++) ((d = Math.max(d, Math.abs(a[i]! - b[i]!))), (s += b[i]! * b[i]!))
      expect(d).toBeLessThanOrEqual(1e-12 * Math.sqrt(s))
    }
    for (const batch of [undefined, B]) {
      close(right(f.gradW(w, lam, batch)), right(g.gradW(w, lam, batch)))
      close(right(f.hvp(w, lam, u, batch)), right(g.hvp(w, lam, u, batch)))
      close(right(f.crossVjp(w, lam, u, batch)), right(g.crossVjp(w, lam, u, batch)))
      close(right(f.crossJvp(w, lam, Float64Array.of(1.5), batch)), right(g.crossJvp(w, lam, Float64Array.of(1.5), batch)))
      // both the gradient and the Hessian product of w: two passes (Xᵀ of z̄̇, then of z̄)
      const a = right(f.hessianVector(w, lam, u, Float64Array.of(0.3), batch))
      const b = right(g.hessianVector(w, lam, u, Float64Array.of(0.3), batch))
      close(a.w, b.w)
      close(a.lambda, b.lambda)
      const ga = right(f.gradient(w, lam, batch))
      const gb = right(g.gradient(w, lam, batch))
      close(ga.w, gb.w)
      expect(Math.abs(ga.value - gb.value)).toBeLessThanOrEqual(1e-12 * Math.abs(gb.value))
    }
    // X·tanh(w): the Hessian product needs both the adjoint of tanh(w) and its tangent: two passes.
    const h = (data: Matrix | ad.Factor) => right(ad.scalarFunction({ w: p, lambda: 1 }, (w, l) => ad.mul(l, ad.sum(ad.softplus(ad.matvec(data as Matrix, ad.tanh(w)))))))
    const [hf, hg] = [h(X), h(Xcsr)]
    for (let k = 0; k < 3; k++) right(hf.gradW(w, lam))
    close(right(hf.hvp(w, lam, u)), right(hg.hvp(w, lam, u)))
  })
})

describe('overflow', () => {
  it('a non-finite result is a Left, on the row engine (which declines: the plain pass takes over) and off it', () => {
    const n = 300, p = 240
    const X = matrix(n, p, R.uniforms(R.seed(4), n * p)[0])
    const small = matrix(3, 2, Float64Array.of(1, 2, 3, 4, 5, 6))
    for (const [A, d] of [[X, p], [small, 2]] as const) {
      const f = right(ad.scalarFunction({ w: d, lambda: 1 }, (w) => ad.sum(ad.exp(ad.matvec(A, w)))))
      const ok = new Float64Array(d).fill(0.001)
      const big = new Float64Array(d).fill(100)
      const l = Float64Array.of(0)
      for (let k = 0; k < 3; k++) right(f.gradW(ok, l))
      const e = f.gradW(big, l)
      expect(E.isLeft(e) && e.left.message).toMatch(/not finite.*overflow/)
      expect(E.isLeft(f.value(big, l))).toBe(true)
      expect(f.hvpInto(big, l, ok, new Float64Array(d))?.kind).toBe('domain')
      expect(E.isRight(f.gradW(ok, l))).toBe(true)
    }
  })
})

describe('tapes', () => {
  it('are recorded once per minibatch size and replayed; at most MAX_TAPES sizes are kept', () => {
    let calls = 0
    const X = matrix(30, 2, R.normals(R.seed(2), 60)[0])
    const f = right(
      ad.scalarFunction({ w: 2, lambda: 1, nSamples: 30 }, (w, l, b) => {
        calls++
        return ad.mul(l, ad.mul(b.scale, ad.sum(ad.square(ad.matvec(b.rows(X), w)))))
      }),
    )
    const w = Float64Array.of(1, 2), l = Float64Array.of(1)
    expect(calls).toBe(1)
    for (let k = 0; k < 3; k++) right(f.gradW(w, l))
    right(f.gradW(w, l, Int32Array.of(1, 2)))
    right(f.hvp(w, l, w, Int32Array.of(5, 7)))
    expect(calls).toBe(2)
    for (let m = 3; m <= ad.MAX_TAPES + 2; m++) right(f.value(w, l, new Int32Array(m)))
    expect(calls).toBe(ad.MAX_TAPES + 2)
    right(f.value(w, l, Int32Array.of(0, 1))) // size 2 was the oldest: recorded again
    expect(calls).toBe(ad.MAX_TAPES + 3)
  })
  it('a minibatch estimate is n/|B| times the sum over the batch (repeated indices count twice)', () => {
    const X = matrix(4, 2, Float64Array.of(1, 0, 0, 1, 1, 1, 2, -1))
    const f = right(ad.scalarFunction({ w: 2, lambda: 1, nSamples: 4 }, (w, _l, b) => ad.mul(b.scale, ad.sum(ad.matvec(b.rows(X), w)))))
    const w = Float64Array.of(3, 5), l = Float64Array.of(0)
    expect(right(f.value(w, l))).toBe(3 + 5 + 8 + 1)
    expect(right(f.value(w, l, Int32Array.of(2, 2, 3)))).toBeCloseTo((4 / 3) * (8 + 8 + 1), 12)
    expect(Array.from(right(f.gradW(w, l, Int32Array.of(2, 2, 3))))).toEqual([(4 / 3) * 4, (4 / 3) * 1])
  })
  it('batchView checks the leading dimension of what it selects', () => {
    const rec = new Recording(5, 2)
    const r = record(rec, 'test', () => batchView(rec).rows(Float64Array.of(1, 2, 3)))
    expect(E.isLeft(r) && r.left.message).toMatch(/one entry per sample \(5\)/)
  })
})
