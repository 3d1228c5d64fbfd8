import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import * as ad from './index.js'
import type { Node } from './node.js'

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

/** f(x), f'(x), f''(x) entrywise, from the engine: value, gradient of Σf, and the Hessian diagonal (Σf is separable). */
const derivs = (op: (x: Node) => Node, xs: ReadonlyArray<number>): { f: Float64Array; d1: Float64Array; d2: Float64Array } => {
  const n = xs.length
  const V = right(ad.vectorFunction({ w: n, lambda: 1 }, (w) => op(w)))
  const S = right(ad.scalarFunction({ w: n, lambda: 1 }, (w) => ad.sum(op(w))))
  const x = Float64Array.from(xs)
  const l = Float64Array.of(0)
  return { f: right(V.value(x, l)), d1: right(S.gradW(x, l)), d2: right(S.hvp(x, l, new Float64Array(n).fill(1))) }
}

const rel = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b))

describe('stable elementwise forms: no overflow, full relative precision in the tails', () => {
  it('softplus and its derivatives at ±800 and in between', () => {
    const { f, d1, d2 } = derivs(ad.softplus, [-800, -40, 0, 40, 800])
    expect(rel(f[0]!, Math.exp(-800))).toBeLessThan(1e-15) // log(1 + e^{-800}) = e^{-800} (subnormal-free: 0 here)
    expect(rel(f[1]!, Math.exp(-40))).toBeLessThan(1e-15)
    expect(f[2]).toBe(Math.LN2)
    expect(rel(f[3]!, 40 + Math.exp(-40))).toBeLessThan(1e-15)
    expect(f[4]).toBe(800)
    expect(rel(d1[1]!, Math.exp(-40))).toBeLessThan(1e-15) // σ(−40)
    expect(d1[4]).toBe(1)
    expect(rel(d2[1]!, Math.exp(-40))).toBeLessThan(1e-14) // σ(40)σ(−40) ≈ e^{−40}
    expect(rel(d2[3]!, Math.exp(-40))).toBeLessThan(1e-14)
    expect(d2[2]).toBe(0.25)
    for (const a of [f, d1, d2]) expect(a.every(Number.isFinite)).toBe(true)
  })
  it('sigmoid: σ(−40) and its derivatives to full relative precision', () => {
    const { f, d1, d2 } = derivs(ad.sigmoid, [-40, 0, 40])
    expect(rel(f[0]!, Math.exp(-40) / (1 + Math.exp(-40)))).toBeLessThan(1e-15)
    expect(rel(d1[0]!, Math.exp(-40))).toBeLessThan(1e-14)
    expect(rel(d1[2]!, Math.exp(-40))).toBeLessThan(1e-14)
    expect(rel(d2[0]!, Math.exp(-40))).toBeLessThan(1e-14) // σ'' = σ'(1 − 2σ) → e^{−40} on the left
    expect(rel(d2[2]!, -Math.exp(-40))).toBeLessThan(1e-14)
    expect(f[1]).toBe(0.5)
  })
  it("tanh' = 1 − tanh² keeps its relative precision where tanh ≈ ±1", () => {
    const { d1, d2 } = derivs(ad.tanh, [20, -20])
    const sech2 = 4 * Math.exp(-40) / (1 + Math.exp(-40)) ** 2
    expect(rel(d1[0]!, sech2)).toBeLessThan(1e-14)
    expect(rel(d1[1]!, sech2)).toBeLessThan(1e-14)
    expect(rel(d2[0]!, -2 * Math.tanh(20) * sech2)).toBeLessThan(1e-14)
  })
  it('log1p, log, sqrt, exp and square: values and derivatives', () => {
    const a = derivs(ad.log1p, [1e-12, 3])
    expect(rel(a.f[0]!, 1e-12 - 5e-25)).toBeLessThan(1e-15)
    expect(rel(a.d2[1]!, -1 / 16)).toBeLessThan(1e-15)
    const b = derivs(ad.log, [2])
    expect([b.f[0], b.d1[0], b.d2[0]]).toEqual([Math.LN2, 0.5, -0.25])
    const c = derivs(ad.sqrt, [4])
    expect([c.f[0], c.d1[0], c.d2[0]]).toEqual([2, 0.25, -1 / 32])
    const d = derivs((x) => ad.mul(3, ad.exp(x)), [1])
    expect([d.f[0], d.d1[0], d.d2[0]]).toEqual([3 * Math.E, 3 * Math.E, 3 * Math.E])
    const e = derivs(ad.square, [-3])
    expect([e.f[0], e.d1[0], e.d2[0]]).toEqual([9, -6, 2])
  })
  it('a fused chain equals the same steps kept apart (an intermediate with another use is not fused)', () => {
    const x = Float64Array.of(-2, -0.3, 0.5, 4)
    const l = Float64Array.of(0)
    const fused = right(ad.scalarFunction({ w: 4, lambda: 1 }, (w) => ad.sum(ad.softplus(ad.neg(ad.mul(2, ad.tanh(w)))))))
    const apart = right(
      ad.scalarFunction({ w: 4, lambda: 1 }, (w) => {
        const t = ad.tanh(w)
        const s = ad.softplus(ad.neg(ad.mul(2, t)))
        return ad.add(ad.sum(s), ad.mul(0, ad.sum(t)))
      }),
    )
    const u = Float64Array.of(1, -1, 2, 0.5)
    const [a, b] = [right(fused.hvp(x, l, u)), right(apart.hvp(x, l, u))]
    a.forEach((v, i) => expect(rel(v, b[i]!)).toBeLessThan(1e-15))
  })
})

describe('row-wise softmax forms', () => {
  it('logsumexp of huge and of very negative scores does not overflow or underflow', () => {
    const f = right(ad.vectorFunction({ w: [2, 2], lambda: 1 }, (w) => ad.logsumexp(w)))
    const v = right(f.value(Float64Array.of(1000, 1000, -1000, -1001), Float64Array.of(0)))
    expect(v[0]).toBe(1000 + Math.LN2)
    expect(rel(v[1]!, -1000 + Math.log1p(Math.exp(-1)))).toBeLessThan(1e-15)
  })
  it('softmaxCrossEntropy of a well-classified row keeps its tiny loss (log1p of the rest)', () => {
    const f = right(ad.vectorFunction({ w: [1, 3], lambda: 1 }, (w) => ad.softmaxCrossEntropy(w, Int32Array.of(1))))
    const v = right(f.value(Float64Array.of(0, 40, -5), Float64Array.of(0)))
    expect(rel(v[0]!, Math.log1p(Math.exp(-40) + Math.exp(-45)))).toBeLessThan(1e-15)
    const g = right(ad.scalarFunction({ w: [1, 3], lambda: 1 }, (w) => ad.sum(ad.softmaxCrossEntropy(w, Int32Array.of(1)))))
    const grad = right(g.gradW(Float64Array.of(0, 40, -5), Float64Array.of(0)))
    expect(rel(grad[0]!, Math.exp(-40) / (1 + Math.exp(-40) + Math.exp(-45)))).toBeLessThan(1e-14)
  })
})
