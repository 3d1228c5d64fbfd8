import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import type { Dataset } from '../data/dataset.js'
import { orThrow } from '../errors.js'
import { denseOf, matTVec, matVec, spectralNorm, symmetricEigenvalues } from '../linalg/matrix.js'
import { matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import * as R from '../random/rng.js'
import {
  d2psi, dpsi, logisticObjective, logisticProblem, logisticUpper, psi, rowHvpPassReference, squaredSpectralNorm,
  type LogisticObjective, type Regularization,
} from './logistic.js'
import {
  callEveryMethod, cdNum, classificationData as makeData, denseHessian, denseImplicitHypergradient, expectCrossTerms, expectIntoMatches,
  itChecksValueGradientAndHvp, expectUnbiasedOverSamplingSpaces, fdGrad, newtonSolution, norm, randVec as vecOf, relErr, relErrNum, snapshot,
  within,
} from './reference.test-util.js'

// ---------------------------------------------------------------------------------------------
// Helpers (independent references: plain loops, dense algebra, central differences)

/** Σᵢ (|yᵢ| + yᵢ²)‖xᵢ‖(1 + ‖xᵢ‖): the size of the summands of the data sums (for rounding slack). */
const summandScale = (d: Dataset): number => {
  let t = 0
  for (let i = 0; i < d.X.rows; i++) {
    let r = 0
    for (let j = 0; j < d.X.cols; j++) r += d.X.data[i * d.X.cols + j]! ** 2
    const yi = Math.abs(d.y[i]!)
    t += (yi + yi * yi) * Math.sqrt(r) * (1 + Math.sqrt(r))
  }
  return t
}

const posLambda = (seed: number, m: number): Vec => Float64Array.from(R.uniformsIn(R.seed(seed), m, 0.05, 3)[0])
const lambdaFor = (reg: Regularization, seed: number, p: number): Vec => posLambda(seed, reg === 'scalar' ? 1 : p)

/** Naive references written from the formulas, sample by sample. */
const zOf = (d: Dataset, i: number, w: RVec): number => {
  let s = 0
  for (let j = 0; j < d.X.cols; j++) s += d.X.data[i * d.X.cols + j]! * w[j]!
  return s
}
const regDiag = (lambda: RVec, p: number): Vec => Float64Array.from({ length: p }, (_, j) => (lambda.length === 1 ? lambda[0]! : lambda[j]!))
const naiveValue = (d: Dataset, w: RVec, lambda: RVec, batch?: Int32Array): number => {
  const n = d.X.rows
  const idx = batch ?? Int32Array.from({ length: n }, (_, i) => i)
  let s = 0
  for (const i of idx) s += Math.log1p(Math.exp(-d.y[i]! * zOf(d, i, w)))
  const lam = regDiag(lambda, d.X.cols)
  return (n / idx.length) * s + 0.5 * w.reduce((a, v, j) => a + lam[j]! * v * v, 0)
}
/** ∇ℓ by two passes (X w, then Xᵀc) with the dense kernels of linalg. */
const twoPassGrad = (d: Dataset, w: RVec, lambda: RVec): Vec => {
  const z = matVec(d.X, w)
  const c = Float64Array.from(z, (zi, i) => -d.y[i]! / (1 + Math.exp(d.y[i]! * zi)))
  const g = matTVec(d.X, c)
  const lam = regDiag(lambda, d.X.cols)
  return Float64Array.from(g, (v, j) => v + lam[j]! * w[j]!)
}
const twoPassHvp = (d: Dataset, w: RVec, lambda: RVec, u: RVec): Vec => {
  const z = matVec(d.X, w)
  const s = matVec(d.X, u)
  const c = Float64Array.from(z, (zi, i) => {
    const sg = 1 / (1 + Math.exp(-d.y[i]! * zi))
    return d.y[i]! ** 2 * sg * (1 - sg) * s[i]!
  })
  const h = matTVec(d.X, c)
  const lam = regDiag(lambda, d.X.cols)
  return Float64Array.from(h, (v, j) => v + lam[j]! * u[j]!)
}

const regs: ReadonlyArray<Regularization> = ['scalar', 'perFeature']
const caseArb = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  n: fc.integer({ min: 1, max: 14 }),
  p: fc.integer({ min: 1, max: 9 }),
  reg: fc.constantFrom<Regularization>('scalar', 'perFeature'),
  scaled: fc.boolean(),
})
/**
 * A case's data (with an all-zero last column when `zeroCol`), objective, w (scale 0.7), λ and a
 * with-replacement batch of 1 + (seed mod 7) samples.
 */
const drawCase = ({ seed, n, p, reg, scaled }: { seed: number; n: number; p: number; reg: Regularization; scaled: boolean }, zeroCol = false) => {
  const d = makeData(seed, n, p, zeroCol, scaled)
  const obj = logisticObjective(d, reg)
  const batch = R.sampleWithReplacement(R.seed(seed + 3), n, 1 + (seed % 7))[0]
  return { d, obj, w: vecOf(seed + 1, p, 0.7), lam: lambdaFor(reg, seed + 2, p), batch }
}

// ---------------------------------------------------------------------------------------------

describe('logistic loss ψ', () => {
  it('is finite and correctly rounded at the extremes u = ±1e4, ±800, 0', () => {
    expect(psi(0)).toBe(Math.LN2)
    // e^{−800} and e^{−1e4} are below the smallest subnormal: the correctly rounded ψ is +0.
    expect(psi(800)).toBe(0)
    expect(psi(1e4)).toBe(0)
    // ψ(u) = −u + log1p(e^{u}) and e^{u} is far below ulp(−u): exactly −u.
    expect(psi(-800)).toBe(800)
    expect(psi(-1e4)).toBe(1e4)
    for (const u of [1e4, 800, -800, -1e4, 0]) {
      expect(Number.isFinite(dpsi(u))).toBe(true)
      expect(Number.isFinite(d2psi(u))).toBe(true)
    }
    expect(dpsi(-1e4)).toBe(-1)
    expect(dpsi(1e4)).toBe(-0)
    expect(d2psi(1e4)).toBe(0)
    expect(d2psi(-1e4)).toBe(0)
    expect(dpsi(0)).toBe(-0.5)
    expect(d2psi(0)).toBe(0.25)
  })

  it('keeps full relative precision where ψ(u) ≈ e^{−u} (series log1p(t) = t − t²/2 + t³/3, t = e^{−u})', () => {
    for (const u of [20, 37, 40, 100, 300, 700, 740]) {
      const t = Math.exp(-u)
      const ref = t - (t * t) / 2 + (t * t * t) / 3
      expect(relErrNum(psi(u), ref)).toBeLessThan(4e-16)
      // ψ'(u) = −t/(1+t) ≈ −(t − t²)
      expect(relErrNum(dpsi(u), -(t - t * t))).toBeLessThan(4e-16)
    }
    // the naive formula loses everything here, the stable one does not
    expect(Math.log(1 + Math.exp(-40))).toBe(0)
    expect(psi(40)).toBeGreaterThan(0)
  })

  it('satisfies ψ(u) − ψ(−u) = −u and matches the direct formula and its derivatives on moderate u', () => {
    fc.assert(
      fc.property(fc.double({ min: -700, max: 700, noNaN: true }), (u) => {
        const big = Math.max(psi(u), psi(-u))
        expect(Math.abs(psi(u) - psi(-u) + u)).toBeLessThanOrEqual(4 * Number.EPSILON * big)
        // ψ'(u) + ψ'(−u) = −1, ψ'' even
        expect(Math.abs(dpsi(u) + dpsi(-u) + 1)).toBeLessThanOrEqual(2 * Number.EPSILON)
        expect(d2psi(u)).toBe(d2psi(-u))
      }),
      { numRuns: 200 },
    )
    fc.assert(
      fc.property(fc.double({ min: -5, max: 5, noNaN: true }), (u) => {
        expect(relErrNum(psi(u), Math.log(1 + Math.exp(-u)))).toBeLessThan(1e-13)
        const h = 1e-5
        expect(Math.abs(cdNum((t) => psi(u + t), h) - dpsi(u))).toBeLessThan(1e-9)
        expect(Math.abs(cdNum((t) => dpsi(u + t), h) - d2psi(u))).toBeLessThan(1e-9)
      }),
      { numRuns: 100 },
    )
  })
})

describe('logisticObjective: derivatives', () => {
  // the value against the sample-by-sample reference, on the full sum and the batch
  itChecksValueGradientAndHvp(caseArb, drawCase, (_c, { d, obj, w, lam, batch }) => {
    for (const b of [undefined, batch]) expect(relErrNum(obj.value(w, lam, b), naiveValue(d, w, lam, b))).toBeLessThan(1e-12)
  })

  it('cross terms = central differences of the gradient along λ, and are adjoint', () => {
    fc.assert(
      fc.property(caseArb, ({ seed, n, p, reg }) => {
        const d = makeData(seed, n, p)
        const obj = logisticObjective(d, reg)
        const m = obj.hyperDim
        const w = vecOf(seed + 1, p, 0.7)
        const lam = lambdaFor(reg, seed + 2, p)
        const mu = vecOf(seed + 6, m)
        const v = vecOf(seed + 7, p)
        const batch = R.sampleWithReplacement(R.seed(seed + 3), n, 1 + (seed % 7))[0]
        expect(mu.length).toBe(m)
        for (const b of [undefined, batch]) expectCrossTerms(obj, w, lam, mu, v, b, 1e-4, 1e-7)
      }),
      { numRuns: 20 },
    )
  })

  it('minibatch estimates averaged over ALL b-subsets (and all with-replacement tuples) equal the full sums', () => {
    const n = 6, p = 5
    for (const reg of regs) {
      const d = makeData(11, n, p)
      const obj = logisticObjective(d, reg)
      const w = vecOf(12, p), u = vecOf(13, p), v = vecOf(14, p)
      const lam = lambdaFor(reg, 15, p)
      const mu = vecOf(16, obj.hyperDim)
      expectUnbiasedOverSamplingSpaces(obj, n, w, lam, u, v, mu)
    }
  })
})

describe('logisticObjective: fused kernels', () => {
  it('gradInto / hvpInto are bit-identical to grad / hvp (any stale out, any batch size), and match a two-pass reference', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 1, max: 11 }), (c, bsize) => {
        const { d, obj, w, lam } = drawCase(c)
        const { seed, n, p } = c
        const u = vecOf(seed + 4, p)
        const batch = R.sampleWithReplacement(R.seed(seed + 3), n, bsize)[0]
        for (const b of [undefined, batch]) {
          expectIntoMatches(obj, w, lam, u, vecOf(seed + 9, p, 1e6), b)
          // a second call gives the same bits (nothing mutable is cached)
          expect(obj.grad(w, lam, b)).toEqual(obj.grad(w, lam, b))
        }
        const slack = 1e-14 * summandScale(d) * (1 + norm(u)) + 1e-14 * norm(lam) * (norm(w) + norm(u))
        expect(within(obj.grad(w, lam), twoPassGrad(d, w, lam), 1e-13, slack)).toBe(true)
        expect(within(obj.hvp(w, lam, u), twoPassHvp(d, w, lam, u), 1e-13, slack)).toBe(true)
      }),
      { numRuns: 25 },
    )
  })

  it('the full-batch product keeps the Hessian factors of the last w: the same bits as the one-pass kernel, at that w and after w changes', () => {
    fc.assert(
      fc.property(caseArb, fc.boolean(), (c, zeroCol) => {
        const { d, obj, lam } = drawCase(c, zeroCol)
        const { seed, n, p } = c
        const reference = (w: RVec, u: RVec): Vec => {
          const out = rowHvpPassReference(d.X.data, n, p, d.y, w, u, undefined, 1, 0, new Float64Array(0), new Float64Array(0), new Float64Array(p))
          for (let j = 0; j < p; j++) out[j] = out[j]! + (lam.length === 1 ? lam[0]! : lam[j]!) * u[j]!
          return out
        }
        const w1 = vecOf(seed + 1, p, 0.7)
        const w2 = vecOf(seed + 5, p, 0.7)
        for (const [w, k] of [[w1, 0], [w1, 1], [w2, 2], [w1, 3], [w1, 4]] as const) {
          const u = vecOf(seed + 10 + k, p)
          expect(obj.hvp(w, lam, u)).toEqual(reference(w, u))
        }
        // The kept w is a copy: writing to the caller's w afterwards changes the product.
        const w = Float64Array.from(w1)
        const u = vecOf(seed + 20, p)
        obj.hvp(w, lam, u)
        w[0] = w[0]! + 1
        expect(obj.hvp(w, lam, u)).toEqual(reference(w, u))
      }),
      { numRuns: 20 },
    )
  })

  it('on the WebAssembly row engine (a sparse 401 × 170 matrix), the kept factors give the same bits as the one-pass kernel', () => {
    const n = 401, p = 170
    const [x] = R.normals(R.seed(77), n * p)
    const [keep] = R.uniforms(R.seed(78), n * p)
    const X = matrix(n, p, Float64Array.from(x, (v, k) => (keep[k]! < 0.2 ? v : 0)))
    const y = Float64Array.from({ length: n }, (_, i) => (x[i * p]! > 0 ? 1 : -1))
    const obj = logisticObjective({ X, y }, 'perFeature')
    const lam = vecOf(79, p, 0.1).map((v) => Math.abs(v) + 0.01)
    for (const k of [0, 1, 2]) {
      const w = vecOf(80 + (k === 2 ? 1 : 0), p, 0.3)
      const u = vecOf(90 + k, p)
      const ref = rowHvpPassReference(X.data, n, p, y, w, u, undefined, 1, 0, new Float64Array(0), new Float64Array(0), new Float64Array(p))
      for (let j = 0; j < p; j++) ref[j] = ref[j]! + lam[j]! * u[j]!
      expect(obj.hvp(w, lam, u)).toEqual(ref)
    }
  })

  it('a minibatch is the scaled sum of its rows, repeats counted (blocks of four and partial blocks)', () => {
    const n = 13, p = 7
    const d = makeData(21, n, p)
    const obj = logisticObjective(d, 'scalar')
    const w = vecOf(22, p), u = vecOf(23, p), lam = Float64Array.of(0.3)
    for (let b = 1; b <= 10; b++) {
      const batch = R.sampleWithReplacement(R.seed(100 + b), n, b)[0]
      // reference: full gradient of a dataset holding the batch rows (repeats included), rescaled
      const rows = new Float64Array(b * p), ys = new Float64Array(b)
      batch.forEach((i, k) => {
        rows.set(d.X.data.subarray(i * p, i * p + p), k * p)
        ys[k] = d.y[i]!
      })
      const sub = { X: matrix(b, p, rows), y: ys }
      const zero = Float64Array.of(0)
      const scale = n / b
      const g = twoPassGrad(sub, w, zero).map((x, j) => scale * x + lam[0]! * w[j]!)
      const h = twoPassHvp(sub, w, zero, u).map((x, j) => scale * x + lam[0]! * u[j]!)
      const slack = 1e-14 * scale * summandScale(sub) * (1 + norm(u)) + 1e-14 * (norm(w) + norm(u))
      expect(within(obj.grad(w, lam, batch), g, 1e-13, slack)).toBe(true)
      expect(within(obj.hvp(w, lam, u, batch), h, 1e-13, slack)).toBe(true)
    }
  })

  it('rejects bad shapes, aliasing and out-of-range batches with a RangeError', () => {
    const d = makeData(31, 8, 4)
    const obj = logisticObjective(d, 'perFeature')
    const w = vecOf(32, 4), lam = posLambda(33, 4)
    expect(() => obj.grad(vecOf(1, 3), lam)).toThrow(RangeError)
    expect(() => obj.grad(w, posLambda(2, 3))).toThrow(RangeError)
    expect(() => obj.gradInto(w, lam, new Float64Array(5))).toThrow(RangeError)
    const buf = Float64Array.from(w)
    expect(() => obj.gradInto(buf, lam, buf)).toThrow(/overlaps/)
    expect(() => obj.hvpInto(w, lam, buf, buf)).toThrow(/overlaps/)
    expect(() => obj.grad(w, lam, Int32Array.of(0, 8))).toThrow(/outside/)
    expect(() => obj.grad(w, lam, Int32Array.of(-1))).toThrow(RangeError)
    expect(() => obj.hvp(w, lam, w, new Int32Array(0))).toThrow(/empty/)
    expect(() => logisticObjective({ X: d.X, y: new Float64Array(7) }, 'scalar')).toThrow(RangeError)
  })

  it('changes none of its inputs', () => {
    const d = makeData(41, 9, 6)
    for (const reg of regs) {
      const obj = logisticObjective(d, reg)
      const w = vecOf(42, 6), u = vecOf(43, 6), lam = lambdaFor(reg, 44, 6), mu = vecOf(45, obj.hyperDim)
      const batch = Int32Array.of(3, 1, 3, 8, 0)
      const before = snapshot(d.X.data, d.y, w, u, lam, mu)
      const beforeBatch = Int32Array.from(batch)
      callEveryMethod(obj, w, u, lam, mu, batch)
      const upper = logisticUpper(d, obj.hyperDim)
      upper.value(w, lam)
      upper.gradW(w, lam)
      upper.gradLambda(w, lam)
      expect(snapshot(d.X.data, d.y, w, u, lam, mu)).toEqual(before)
      expect(batch).toEqual(beforeBatch)
    }
  })
})

describe('logisticObjective: curvature and λ', () => {
  it('τ ≤ λ_min(∇²ℓ(w)) and λ_max(∇²ℓ(w)) ≤ L at random w (dense Hessian eigenvalues), with a zero column', () => {
    fc.assert(
      fc.property(caseArb, fc.boolean(), (c, zeroCol) => {
        const { obj, lam } = drawCase(c, zeroCol)
        const { seed, p, reg } = c
        const { tau, L } = obj.curvature(lam)
        for (const scale of [0, 0.3, 3]) {
          const ev = symmetricEigenvalues(denseHessian(obj, vecOf(seed + 1, p, scale), lam))
          expect(tau).toBeLessThanOrEqual(ev[0]! * (1 + 1e-12) + 1e-14)
          expect(ev[p - 1]!).toBeLessThanOrEqual(L)
        }
        // a zero column makes λ_min(H) = λ for that feature: τ is then attained
        if (zeroCol && reg === 'scalar') {
          expect(relErrNum(symmetricEigenvalues(denseHessian(obj, vecOf(seed + 1, p), lam))[0]!, tau)).toBeLessThan(1e-10)
        }
      }),
      { numRuns: 25 },
    )
  })

  it('L is tight: σ_max(X)² agrees with a dense eigen-solve to 1e-8, and at w = 0 λ_max(H) = σ²/4 + λ', () => {
    fc.assert(
      fc.property(caseArb, ({ seed, n, p }) => {
        const d = makeData(seed, n, p)
        const s2 = squaredSpectralNorm(d.X)
        const ref = spectralNorm(d.X) ** 2
        expect(s2).toBeGreaterThanOrEqual(ref * (1 - 1e-13))
        expect(relErrNum(s2, ref)).toBeLessThan(1e-8)
        const obj = logisticObjective(d, 'scalar')
        const lam = Float64Array.of(0.5)
        const H = denseOf(p, (u) => obj.hvp(new Float64Array(p), lam, u))
        const top = symmetricEigenvalues(H)[p - 1]!
        expect(top).toBeLessThanOrEqual(obj.curvature(lam).L)
        expect(relErrNum(obj.curvature(lam).L, top)).toBeLessThan(1e-8)
      }),
      { numRuns: 25 },
    )
  })

  it('σ_max² stays a safe bound on hard spectra: equal, nearly equal and zero singular values', () => {
    // Q diag(s) Vᵀ with orthogonal Q, V from a QR of Gaussian matrices (modified Gram–Schmidt).
    const orth = (seed: number, k: number): Matrix => {
      const [g] = R.normals(R.seed(seed), k * k)
      const q = new Float64Array(k * k)
      for (let c = 0; c < k; c++) {
        const col = Float64Array.from({ length: k }, (_, r) => g[r * k + c]!)
        for (let c2 = 0; c2 < c; c2++) {
          let s = 0
          for (let r = 0; r < k; r++) s += q[r * k + c2]! * col[r]!
          for (let r = 0; r < k; r++) col[r] = col[r]! - s * q[r * k + c2]!
        }
        const nc = norm(col)
        for (let r = 0; r < k; r++) q[r * k + c] = col[r]! / nc
      }
      return matrix(k, k, q)
    }
    const build = (seed: number, s: ReadonlyArray<number>): Matrix => {
      const k = s.length
      const Q = orth(seed, k), V = orth(seed + 1, k)
      const a = new Float64Array(k * k)
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
        let t = 0
        for (let l = 0; l < k; l++) t += Q.data[i * k + l]! * s[l]! * V.data[j * k + l]!
        a[i * k + j] = t
      }
      return matrix(k, k, a)
    }
    const spectra: ReadonlyArray<ReadonlyArray<number>> = [
      [2, 2, 2, 1, 0.5],
      [3, 3 * (1 - 1e-9), 1, 1, 0],
      [1, 1 - 1e-4, 0.9, 0, 0],
      [5, 0, 0, 0, 0],
    ]
    spectra.forEach((s, k) => {
      const X = build(50 + 2 * k, s)
      const bound = squaredSpectralNorm(X)
      const truth = Math.max(...s) ** 2
      expect(bound).toBeGreaterThanOrEqual(truth * (1 - 1e-12))
      expect(bound).toBeLessThanOrEqual(truth * 5 + 1e-12) // never looser than the Frobenius bound here
    })
    expect(squaredSpectralNorm(matrix(3, 2, new Float64Array(6)))).toBe(0)
  })

  it('checkLambda: length, finiteness and positivity, naming the entry', () => {
    const d = makeData(61, 6, 5)
    const sc = logisticObjective(d, 'scalar')
    const pf = logisticObjective(d, 'perFeature')
    const lamOk = Float64Array.of(0.1, 0.2, 0.3, 0.4, 0.5)
    const r = pf.checkLambda(lamOk)
    expect(E.isRight(r) && r.right).toEqual(lamOk)
    expect(E.isRight(r) && r.right !== lamOk).toBe(true)
    expect(E.isRight(sc.checkLambda(Float64Array.of(2)))).toBe(true)
    const bad = (o: LogisticObjective, lam: RVec) => {
      const e = o.checkLambda(lam)
      if (E.isRight(e)) throw new Error('expected Left')
      return e.left
    }
    expect(bad(sc, Float64Array.of(1, 2)).kind).toBe('dimension')
    expect(bad(pf, Float64Array.of(1)).kind).toBe('dimension')
    for (const x of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, -0]) {
      const e = bad(sc, Float64Array.of(x))
      expect(e.kind).toBe('domain')
      expect(e.message).toContain('λ[0]')
    }
    const e = bad(pf, Float64Array.of(0.1, 0.2, 0.3, -4, 0.5))
    expect(e.kind).toBe('domain')
    expect(e.message).toContain('λ[3]')
  })
})

describe('logisticUpper and logisticProblem', () => {
  it('the upper gradient is the central difference of the validation loss; ∇₂E = 0', () => {
    fc.assert(
      fc.property(caseArb, ({ seed, n, p, reg }) => {
        const val = makeData(seed + 500, n, p)
        const m = reg === 'scalar' ? 1 : p
        const up = logisticUpper(val, m)
        const w = vecOf(seed + 1, p, 0.7)
        const lam = lambdaFor(reg, seed + 2, p)
        const fd = Float64Array.from({ length: p }, (_, j) =>
          cdNum((t) => {
            const wt = Float64Array.from(w)
            wt[j] = wt[j]! + t
            return up.value(wt, lam)
          }, 1e-5),
        )
        expect(within(up.gradW(w, lam), fd, 1e-7, 1e-7)).toBe(true)
        expect(relErrNum(up.value(w, lam), naiveValue(val, w, Float64Array.of(0)))).toBeLessThan(1e-12)
        expect(up.gradLambda(w, lam)).toEqual(new Float64Array(m))
      }),
      { numRuns: 15 },
    )
  })

  it('default α = 2/(L+τ), q = (L−τ)/(L+τ); the implicit hypergradient matches central differences of f(λ)', () => {
    for (const reg of regs) {
      const p = 4
      const train = makeData(71, 12, p), val = makeData(72, 10, p)
      const lam = reg === 'scalar' ? Float64Array.of(0.7) : Float64Array.of(0.3, 0.9, 1.4, 0.5)
      const prob = orThrow(logisticProblem(train, val, lam, { regularization: reg }))
      const { tau, L } = prob.lower.curvature(lam)
      expect(prob.alpha).toBe(2 / (L + tau))
      expect(relErrNum(prob.contraction(lam), (L - tau) / (L + tau))).toBeLessThan(1e-14)
      expect(prob.separable).toBe(true)
      expect(prob.hyperDim).toBe(reg === 'scalar' ? 1 : p)
      // w(λ) by Newton with the dense Hessian; f(λ) = E(w(λ))
      const f = (l: RVec): number => prob.upper(newtonSolution(prob.lower, l), l)
      const hg = denseImplicitHypergradient(prob, newtonSolution(prob.lower, lam), lam)
      expect(relErr(hg, fdGrad(f, lam, (k) => 1e-5 * lam[k]!))).toBeLessThan(1e-6)
    }
  })

  it('returns typed errors for bad data, λ, α and options', () => {
    const train = makeData(81, 8, 3), val = makeData(82, 5, 3)
    const lam = Float64Array.of(1)
    const opts = { regularization: 'scalar' as const }
    const kind = (e: E.Either<{ kind: string }, unknown>) => (E.isLeft(e) ? e.left.kind : 'ok')
    expect(kind(logisticProblem(train, val, lam, opts))).toBe('ok')
    expect(kind(logisticProblem(train, makeData(83, 5, 4), lam, opts))).toBe('dimension')
    expect(kind(logisticProblem({ X: train.X, y: new Float64Array(3) }, val, lam, opts))).toBe('dimension')
    const nanX = Float64Array.from(train.X.data)
    nanX[5] = Number.NaN
    expect(kind(logisticProblem({ X: matrix(8, 3, nanX), y: train.y }, val, lam, opts))).toBe('data')
    const infY = Float64Array.from(val.y)
    infY[2] = Number.POSITIVE_INFINITY
    expect(kind(logisticProblem(train, { X: val.X, y: infY }, lam, opts))).toBe('data')
    expect(kind(logisticProblem({ X: matrix(0, 3, new Float64Array(0)), y: new Float64Array(0) }, val, lam, opts))).toBe('data')
    expect(kind(logisticProblem(train, val, Float64Array.of(-1), opts))).toBe('domain')
    expect(kind(logisticProblem(train, val, Float64Array.of(1, 1), opts))).toBe('dimension')
    expect(kind(logisticProblem(train, val, lam, { regularization: 'scalar', alpha: 0 }))).toBe('domain')
    expect(kind(logisticProblem(train, val, lam, { regularization: 'nope' as Regularization }))).toBe('config')
    const given = orThrow(logisticProblem(train, val, lam, { regularization: 'scalar', alpha: 1e-3 }))
    expect(given.alpha).toBe(1e-3)
  })
})

describe('timing (printed, not asserted)', () => {
  it('full-batch gradient and HVP on a random 5000×784 matrix', () => {
    const n = 5000, p = 784
    const [x] = R.uniforms(R.seed(7), n * p)
    const [ys] = R.uniforms(R.seed(8), n)
    const d = { X: matrix(n, p, x), y: Float64Array.from(ys, (v) => (v < 0.5 ? -1 : 1)) }
    const obj = logisticObjective(d, 'scalar')
    const w = vecOf(9, p, 0.01), u = vecOf(10, p), lam = Float64Array.of(1)
    const out = new Float64Array(p)
    const times = (f: () => void, reps: number): number[] => {
      for (let k = 0; k < 3; k++) f()
      const ts: number[] = []
      for (let k = 0; k < reps; k++) {
        const t0 = performance.now()
        f()
        ts.push(performance.now() - t0)
      }
      return ts.sort((a, b) => a - b)
    }
    const median = (f: () => void, reps: number): number => times(f, reps)[reps >> 1]!
    const g = times(() => obj.gradInto(w, lam, out), 15)
    const h = times(() => obj.hvpInto(w, lam, u, out), 15)
    const tg = g[7]!, th = h[7]!
    const batch = R.minibatch(R.seed(11), n, 50)[0]
    const tb = median(() => {
      for (let k = 0; k < 100; k++) obj.gradInto(w, lam, out, batch)
    }, 9) / 100
    const tbh = median(() => {
      for (let k = 0; k < 100; k++) obj.hvpInto(w, lam, u, out, batch)
    }, 9) / 100
    console.log(
      `logistic 5000×784: gradient ${tg.toFixed(2)} ms, HVP ${th.toFixed(2)} ms (median of 15; min ${g[0]!.toFixed(2)}, ${h[0]!.toFixed(2)} ms); ` +
        `minibatch-50 gradient ${(1000 * tb).toFixed(0)} µs, HVP ${(1000 * tbh).toFixed(0)} µs`,
    )
    expect(Number.isFinite(out[0]!)).toBe(true)
  })
})
