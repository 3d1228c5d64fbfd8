import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../errors.js'
import { denseOf, matTVec, matVec, spectralNorm } from '../linalg/matrix.js'
import { matrix, type Matrix } from '../linalg/types.js'
import { norm } from '../linalg/vector.js'
import { dataCleaningProblem } from '../problems/dataCleaning.js'
import { logisticProblem } from '../problems/logistic.js'
import * as R from '../random/rng.js'
import { aPosterioriInputsAt, crossHessianNorm, crossJacobianNorm } from './constants.js'
import { GRAM_SIDE, operatorNorm } from './norms.js'

const randomMatrix = (seed: number, rows: number, cols: number): Matrix => matrix(rows, cols, R.normals(R.seed(seed), rows * cols)[0])

/** The products of a dense matrix, counting how often they are called. */
const productsOf = (a: Matrix) => {
  const calls = { apply: 0, applyT: 0 }
  return {
    calls,
    map: {
      rows: a.rows,
      cols: a.cols,
      apply: (x: Float64Array) => (calls.apply++, matVec(a, x)),
      applyT: (y: Float64Array) => (calls.applyT++, matTVec(a, y)),
    },
  }
}

describe('operatorNorm', () => {
  it('equals the dense spectral norm on either side of GRAM_SIDE, for tall and wide maps', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 80 }), (seed, rows, cols) => {
        const a = randomMatrix(seed, rows, cols)
        const exact = spectralNorm(a)
        const got = operatorNorm(productsOf(a).map)
        expect(got).toBeGreaterThanOrEqual(exact * (1 - 1e-12))
        expect(got).toBeLessThanOrEqual(exact * (1 + 1e-8))
        // Forced power iteration: an upper bound within the stopping tolerance.
        const viaPower = operatorNorm(productsOf(a).map, { gramSide: 0 })
        expect(viaPower).toBeGreaterThanOrEqual(exact * (1 - 1e-12))
        expect(viaPower).toBeLessThanOrEqual(exact * (1 + 1e-8))
      }),
      { numRuns: 10 },
    )
  })
  it('builds the Gram matrix of the smaller side: min(rows, cols) products each way, one for a vector', () => {
    const wide = productsOf(randomMatrix(3, 5, 40))
    operatorNorm(wide.map)
    expect(wide.calls).toEqual({ apply: 5, applyT: 5 })
    const tall = productsOf(randomMatrix(4, 40, 5))
    operatorNorm(tall.map)
    expect(tall.calls).toEqual({ apply: 5, applyT: 5 })
    const column = randomMatrix(5, 7, 1)
    const c = productsOf(column)
    expect(operatorNorm(c.map)).toBeCloseTo(norm(column.data), 14)
    expect(c.calls).toEqual({ apply: 1, applyT: 0 })
    const row = randomMatrix(6, 1, 7)
    const r = productsOf(row)
    expect(operatorNorm(r.map)).toBeCloseTo(norm(row.data), 14)
    expect(r.calls).toEqual({ apply: 0, applyT: 1 })
    expect(GRAM_SIDE).toBe(64)
    const sixtyFour = productsOf(randomMatrix(7, 64, 70))
    operatorNorm(sixtyFour.map)
    expect(sixtyFour.calls).toEqual({ apply: 64, applyT: 64 })
  })
  it('falls back to the Frobenius norm when power iteration does not converge within its cap', () => {
    const a = randomMatrix(8, 30, 20)
    const fro = norm(a.data)
    expect(operatorNorm(productsOf(a).map, { gramSide: 0, maxIter: 1 })).toBeCloseTo(fro * (1 + 1e-9), 12)
    expect(operatorNorm(productsOf(a).map, { gramSide: 0, maxIter: 1, tol: 1 })).toBeLessThan(fro)
  })
  it('is 0 for a zero or empty map and NaN for a non-finite one', () => {
    expect(operatorNorm(productsOf(matrix(3, 4, new Float64Array(12))).map)).toBe(0)
    expect(operatorNorm(productsOf(matrix(100, 90, new Float64Array(9000))).map)).toBe(0)
    expect(operatorNorm({ rows: 0, cols: 3, apply: () => new Float64Array(0), applyT: () => new Float64Array(3) })).toBe(0)
    expect(operatorNorm({ rows: 3, cols: 0, apply: () => new Float64Array(3), applyT: () => new Float64Array(0) })).toBe(0)
    const nan = matrix(3, 4, Float64Array.from({ length: 12 }, (_, i) => (i === 5 ? Number.NaN : 1)))
    expect(operatorNorm(productsOf(nan).map)).toBeNaN()
    const bigNan = matrix(70, 80, Float64Array.from({ length: 5600 }, (_, i) => (i === 5 ? Number.NaN : 1)))
    expect(operatorNorm(productsOf(bigNan).map)).toBeNaN()
  })
})

describe('operatorNorm: overflow, the iteration cap and the residual bound', () => {
  // A = diag(2^600, 1): the products are finite but AᵀA overflows, so a Gram product is not finite.
  const big = 2 ** 600
  const overflow = {
    rows: 2,
    cols: 2,
    apply: (x: Float64Array) => Float64Array.of(big * x[0]!, x[1]!),
    applyT: (y: Float64Array) => Float64Array.of(big * y[0]!, y[1]!),
  }
  it('is NaN, not ∞ or a finite guess, when a Gram product overflows (dense Gram and power iteration)', () => {
    expect(operatorNorm(overflow)).toBeNaN()
    expect(operatorNorm(overflow, { gramSide: 0, maxIter: 3 })).toBeNaN()
  })
  it('makes at most maxIter Gram products before the Frobenius fallback', () => {
    const a = randomMatrix(8, 30, 20)
    for (const maxIter of [1, 2, 5]) {
      const p = productsOf(a)
      operatorNorm(p.map, { gramSide: 0, maxIter })
      expect(p.calls).toEqual({ apply: maxIter + 20, applyT: maxIter })
    }
  })
  it('for a rank-one map, √(ρ + r) is an upper bound even at tol = 1 (stopping at r ≤ ρ means cos² ≥ ½, and then ρ + r ≥ ‖A‖²)', () => {
    // Gram λwwᵀ (‖w‖ = 1), unit iterate v with c = wᵀv: ρ = λc², r = λ|c|√(1 − c²).
    for (let s = 0; s < 12; s++) {
      const [u, r1] = R.normals(R.seed(100 + s), 3)
      const [w] = R.normals(r1, 2)
      const a = matrix(3, 2, Float64Array.from({ length: 6 }, (_, k) => u[Math.floor(k / 2)]! * w[k % 2]!))
      expect(operatorNorm(productsOf(a).map, { gramSide: 0, tol: 1 })).toBeGreaterThanOrEqual(norm(u) * norm(w) * (1 - 1e-12))
    }
  })
})

describe('the cross norms of the bounds come from structure or products, never a dense d × m matrix', () => {
  const dataset = (seed: number, n: number, p: number) => {
    const [x, r] = R.normals(R.seed(seed), n * p)
    const [z] = R.normals(r, n)
    return { X: matrix(n, p, x), y: z.map((s) => (s >= 0 ? 1 : -1)) }
  }
  it('per-feature logistic regression: ‖B(w)‖ = maxⱼ|wⱼ|, ‖∂₂Φ(w)‖ = α maxⱼ|wⱼ|; scalar λ: ‖w‖', () => {
    const train = dataset(1, 10, 6)
    const w = Float64Array.of(0.5, -3, 2, 0, 1, -2.5)
    const per = orThrow(logisticProblem(train, dataset(2, 5, 6), Float64Array.of(1, 2, 3, 1, 2, 3), { regularization: 'perFeature' }))
    expect(crossHessianNorm(per, Float64Array.of(1, 2, 3, 1, 2, 3), w)).toBe(3)
    expect(crossJacobianNorm(per, Float64Array.of(1, 2, 3, 1, 2, 3), w)).toBeCloseTo(3 * per.alpha, 14)
    const sca = orThrow(logisticProblem(train, dataset(2, 5, 6), Float64Array.of(1), { regularization: 'scalar' }))
    expect(crossHessianNorm(sca, Float64Array.of(1), w)).toBeCloseTo(norm(w), 14)
  })
  it('data cleaning with more than GRAM_SIDE samples and features (power iteration): within 1e-8 of the dense norm, above it', () => {
    const n = 90, p = 70
    const lambda = R.uniformsIn(R.seed(3), n, -2, 2)[0]
    const prob = orThrow(dataCleaningProblem(dataset(4, n, p), dataset(5, 10, p), lambda))
    const w = R.normals(R.seed(6), p)[0]
    const dense = spectralNorm(denseOf(n, (mu) => prob.lower.crossJvp(w, lambda, mu), p))
    const got = crossHessianNorm(prob, lambda, w)
    expect(got).toBeGreaterThanOrEqual(dense * (1 - 1e-12))
    expect(got).toBeLessThanOrEqual(dense * (1 + 1e-8))
  })
  it('the a posteriori inputs of a 5,000-feature per-feature problem: O(d) work and memory (a dense B would take 200 MB and a 5,000² eigensolve)', () => {
    const p = 5_000
    const train = dataset(7, 8, p)
    const lambda = new Float64Array(p).fill(2)
    const prob = orThrow(logisticProblem(train, dataset(8, 4, p), lambda, { regularization: 'perFeature' }))
    const w = R.normals(R.seed(9), p)[0]
    const v = R.normals(R.seed(10), p)[0]
    let maxAbs = 0
    for (const x of w) maxAbs = Math.max(maxAbs, Math.abs(x))
    const inputs = orThrow(aPosterioriInputsAt(prob, lambda, w, v))
    expect(inputs.BNorm).toBe(maxAbs)
  })
})
