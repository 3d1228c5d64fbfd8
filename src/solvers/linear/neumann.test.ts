import { describe, expect, it } from 'vitest'
import { denseAt, diff, gaussianVec, linearFP, norm, quadratic } from '../../hypergrad/fixtures.test-util.js'
import { matVec } from '../../linalg/matrix.js'
import { seed } from '../../random/rng.js'
import { take, toArray } from '../../stream/stream.js'
import { linearSystemAt } from '../linearSystem.js'
import { fixedPointLinear } from './fixedPoint.js'
import { neumann } from './neumann.js'
import { iter } from '../testing.test-util.js'

const rng = seed(0)

describe('neumann', () => {
  const p = linearFP(7, 0.8)
  const lambda = Float64Array.of(0.1, 0.2, -0.3)
  const w = gaussianVec(1, p.dim)
  const system = linearSystemAt(p, lambda, w)
  const dense = denseAt(p, w, lambda)
  it('state k is Σ_{i=0}^{k−1} (∂₁Φᵀ)ⁱ b (k terms; state 0 is the start), computed here by dense powers', () => {
    const s = toArray(take(7)(iter(neumann(), system, new Float64Array(p.dim), rng)))
    // Jᵀ = I − A densely; the series by explicit dense powers.
    const JT = { rows: p.dim, cols: p.dim, data: Float64Array.from(dense.A.data, (x, idx) => (idx % (p.dim + 1) === 0 ? 1 : 0) - x) }
    let term: Float64Array = Float64Array.from(dense.b)
    const sum = new Float64Array(p.dim)
    for (let k = 0; k < 7; k++) {
      expect(diff(s[k]!.v, sum)).toBeLessThanOrEqual(1e-13 * norm(sum))
      expect(s[k]!.iter).toBe(k)
      expect(s[k]!.counts.jacW).toBe(k)
      // residual of state k = ‖(∂₁Φᵀ)ᵏ b‖ = the true residual.
      expect(s[k]!.residual!).toBeCloseTo(norm(term), 12)
      expect(s[k]!.residual!).toBeCloseTo(diff(matVec(dense.A, s[k]!.v), dense.b), 12)
      for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + term[i]!
      term = matVec(JT, term)
    }
  })
  it('Neumann with K terms (state K) equals the fixed point with K steps (state K) from v₀ = 0, to 1e-12', () => {
    const K = 25
    const nm = toArray(take(K + 1)(iter(neumann(), system, new Float64Array(p.dim), rng)))
    const fp = toArray(take(K + 1)(iter(fixedPointLinear(), system, new Float64Array(p.dim), rng)))
    for (let terms = 0; terms <= K; terms++) expect(diff(nm[terms]!.v, fp[terms]!.v)).toBeLessThanOrEqual(1e-12 * norm(fp[terms]!.v))
  })
  it('with a warm start v₀, state k equals the fixed point from the same v₀ at step k', () => {
    const v0 = gaussianVec(3, p.dim)
    const nm = toArray(take(10)(iter(neumann(), system, v0, rng)))
    const fp = toArray(take(10)(iter(fixedPointLinear(), system, v0, rng)))
    nm.forEach((s, k) => expect(diff(s.v, fp[k]!.v)).toBeLessThanOrEqual(1e-12 * norm(fp[k]!.v)))
    expect(Array.from(nm[0]!.v)).toEqual(Array.from(v0))
    expect(nm[0]!.counts.jacW).toBe(1) // the product for r₀
  })
  it('converges to the dense solution on a symmetric (ERM) system: ‖vₖᴺ − v*‖ ≤ qᵏ‖v*‖', () => {
    const qp = quadratic(3)
    const l = Float64Array.of(1, 2, 3)
    const ww = gaussianVec(4, qp.dim)
    const d = denseAt(qp, ww, l)
    const q = qp.contraction(l)
    const states = toArray(take(80)(iter(neumann(), linearSystemAt(qp, l, ww), new Float64Array(qp.dim), rng)))
    states.forEach((s, k) => expect(diff(s.v, d.v)).toBeLessThanOrEqual(q ** k * norm(d.v) * (1 + 1e-10) + 1e-13))
  })
})
