// Fast paths against their references. The WebAssembly row engine (src/linalg/rows/engine.ts)
// must return the bits of the TypeScript row kernels (src/linalg/rows/reference.ts) on every input —
// dense rows, sparse rows built from dense data and CSR input (whose kernels scatter row by row:
// the same numbers as the dense layout to rounding), any p, partial blocks, batches with repeats, every row weighting, and
// non-finite values too — without changing any input; the objectives must switch to it by
// themselves on large data and still return the reference's bits; the dense Hessian behind
// `exact` must equal the matrix of Hessian-vector products, and `exact` must give the same
// hypergradient through it as through d Jacobian-vector products.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Dataset } from '../src/data/dataset.js'
import { exact } from '../src/hypergrad/exact.js'
import { weightedGram } from '../src/linalg/gram.js'
import { gemvT } from '../src/linalg/kernels.js'
import { denseOf } from '../src/linalg/matrix.js'
import { csrFromDense, type DesignMatrix } from '../src/linalg/csr.js'
import { csrWeightedGram } from '../src/linalg/gram.js'
import {
  autoRowEngine, gradPassOn, gradPassReference, gramVecReference, hvpPassOn, hvpPassReference, ROW_ENGINE_MIN_ENTRIES, ROW_ENGINE_SLOTS, rowEngine,
  rowEngineAvailable, type RowCoef,
} from '../src/linalg/rows/index.js'
import { squaredSpectralNorm } from '../src/problem/spectral.js'
import { logisticUpper } from '../src/problems/logistic.js'
import { d2psi, dpsi } from '../src/problems/losses.js'
import { matrix, type RVec } from '../src/linalg/types.js'
import type { BilevelProblem } from '../src/problem/bilevel.js'
import { dataCleaningObjective } from '../src/problems/dataCleaning.js'
import {
  logisticObjective,
  logisticProblem,
  rowGradPassOn,
  rowGradPassReference,
  rowHvpPassOn,
  rowHvpPassReference,
  type RowWeight,
} from '../src/problems/logistic.js'
import { normals, seed, uniforms } from '../src/random/rng.js'

const sameBits = (a: RVec, b: RVec): boolean => a.length === b.length && a.every((x, i) => Object.is(x, b[i]))

/** A decimal in [−a, a] (rounded in binary, so that sums depend on their order). */
const dec = (a: number) => fc.noBias(fc.integer({ min: -1000, max: 1000 })).map((k) => (a * k) / 1000)

/** A multiple of 1/7 (rounded, so that sums depend on their order), or exactly 0 with probability 1 − density. */
const entry = (density: number) =>
  fc.tuple(fc.noBias(fc.integer({ min: 0, max: 999 })), fc.integer({ min: -512, max: 512 })).map(([u, k]) => (u < 1000 * density ? k / 7 : 0))

/** An input of the row passes: X (n × p) with a chosen density, labels, w, u, batch, weights. */
const passInput = fc
  .record({
    n: fc.integer({ min: 1, max: 21 }),
    p: fc.integer({ min: 1, max: 23 }),
    density: fc.constantFrom(0.05, 0.15, 0.3, 1),
  })
  .chain(({ n, p, density }) =>
    fc.record({
      n: fc.constant(n),
      p: fc.constant(p),
      X: fc.array(entry(density), { minLength: n * p, maxLength: n * p }).map((a) => Float64Array.from(a)),
      y: fc.array(fc.oneof(fc.constantFrom(-1, 1), dec(3)), { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
      w: fc.array(dec(2), { minLength: p, maxLength: p }).map((a) => Float64Array.from(a)),
      u: fc.array(dec(2), { minLength: p, maxLength: p }).map((a) => Float64Array.from(a)),
      batch: fc.option(fc.array(fc.integer({ min: 0, max: n - 1 }), { minLength: 0, maxLength: 11 }).map((a) => Int32Array.from(a)), { nil: undefined }),
      scale: dec(100).map((x) => Math.abs(x) + 0.1),
      weight: fc.constantFrom<RowWeight>(0, 1, 2),
      lam: fc.array(dec(4), { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
      mu: fc.array(dec(2), { minLength: n, maxLength: n }).map((a) => Float64Array.from(a)),
      // Sometimes poison one entry of w, u or λ, to check that non-finite values give the same bits too.
      poison: fc.option(fc.tuple(fc.constantFrom('w', 'u', 'lam'), fc.nat(), fc.constantFrom(NaN, Infinity, -Infinity)), { nil: undefined, freq: 4 }),
    }),
  )
  .map((c) => {
    if (c.poison !== undefined) {
      const [where, at, v] = c.poison
      const target = where === 'w' ? c.w : where === 'u' ? c.u : c.lam
      target[at % target.length] = v
    }
    return c
  })

type PassInput = typeof passInput extends fc.Arbitrary<infer T> ? T : never

const copies = (c: PassInput) => [c.X, c.y, c.w, c.u, c.lam, c.mu, ...(c.batch === undefined ? [] : [c.batch])].map((a) => a.slice())
const unchanged = (c: PassInput, before: ReadonlyArray<Float64Array | Int32Array>): boolean =>
  [c.X, c.y, c.w, c.u, c.lam, c.mu, ...(c.batch === undefined ? [] : [c.batch])].every((a, k) => {
    const b = before[k]!
    return a.length === b.length && a.every((x, i) => Object.is(x, b[i]))
  })

describe('the WebAssembly row engine equals the TypeScript row kernels bit for bit', () => {
  it('is available on this runtime (WebAssembly with fixed-width SIMD)', () => {
    expect(rowEngineAvailable()).toBe(true)
  })

  it('grad-type pass: every density, p, block remainder, batch, weighting and non-finite input', () => {
    fc.assert(
      fc.property(passInput, (c) => {
        const engine = rowEngine(matrix(c.n, c.p, c.X))
        expect(engine).toBeDefined()
        const before = copies(c)
        const ref = rowGradPassReference(c.X, c.n, c.p, c.y, c.w, c.batch, c.scale, c.weight, c.lam, c.mu, new Float64Array(c.p))
        for (let pass = 0; pass < 2; pass++) {
          const fast = rowGradPassOn(engine!, c.X, c.n, c.p, c.y, c.w, c.batch, c.scale, c.weight, c.lam, c.mu, new Float64Array(c.p).fill(7))
          expect(sameBits(fast, ref)).toBe(true)
        }
        expect(unchanged(c, before)).toBe(true)
      }),
      { numRuns: 150 },
    )
  })

  it('hvp-type pass: every density, p, block remainder, batch, weighting and non-finite input', () => {
    fc.assert(
      fc.property(passInput, (c) => {
        const engine = rowEngine(matrix(c.n, c.p, c.X))
        expect(engine).toBeDefined()
        const before = copies(c)
        const ref = rowHvpPassReference(c.X, c.n, c.p, c.y, c.w, c.u, c.batch, c.scale, c.weight, c.lam, c.mu, new Float64Array(c.p))
        for (let pass = 0; pass < 2; pass++) {
          const fast = rowHvpPassOn(engine!, c.X, c.n, c.p, c.y, c.w, c.u, c.batch, c.scale, c.weight, c.lam, c.mu, new Float64Array(c.p).fill(7))
          expect(sameBits(fast, ref)).toBe(true)
        }
        expect(unchanged(c, before)).toBe(true)
      }),
      { numRuns: 150 },
    )
  })

  it('covers both layouts: sparse rows for sparse data, dense rows otherwise', () => {
    const [u, r1] = uniforms(seed(11), 9 * 10)
    const [g, r2] = normals(r1, 9 * 10)
    const sparse = Float64Array.from(u, (x, i) => (x < 0.15 ? g[i]! : 0))
    const dense = Float64Array.from(g)
    const [w] = normals(r2, 10)
    const y = Float64Array.from({ length: 9 }, (_, i) => (i % 3 === 0 ? -1 : 1))
    const E0 = new Float64Array(0)
    const batch = Int32Array.of(3, 8, 3, 0, 5, 1, 7)
    for (const [X, layout] of [[sparse, 'sparseRows'], [dense, 'dense']] as const) {
      const engine = rowEngine(matrix(9, 10, X))!
      expect(engine.layout()).toBe(layout)
      for (const b of [undefined, batch]) {
        const fast = rowGradPassOn(engine, X, 9, 10, y, w, b, 1.5, 0, E0, E0, new Float64Array(10))
        expect(sameBits(fast, rowGradPassReference(X, 9, 10, y, w, b, 1.5, 0, E0, E0, new Float64Array(10)))).toBe(true)
        const hv = rowHvpPassOn(engine, X, 9, 10, y, w, g.subarray(0, 10), b, 1.5, 0, E0, E0, new Float64Array(10))
        expect(sameBits(hv, rowHvpPassReference(X, 9, 10, y, w, g.subarray(0, 10), b, 1.5, 0, E0, E0, new Float64Array(10)))).toBe(true)
      }
    }
  })

  it('keeps the bits when more engines are in use than memory slots (each rebuilds its copy when it gets one back)', () => {
    const E0 = new Float64Array(0)
    const engines = Array.from({ length: ROW_ENGINE_SLOTS + 2 }, (_, e) => {
      const [u, r1] = uniforms(seed(100 + e), 13 * 7)
      const [g, r2] = normals(r1, 13 * 7)
      const X = Float64Array.from(u, (x, i) => (x < (e % 2 === 0 ? 0.2 : 1) ? g[i]! : 0))
      const [w] = normals(r2, 7)
      const y = Float64Array.from({ length: 13 }, (_, i) => (i % 2 === 0 ? -1 : 1))
      return { X, w, y, engine: rowEngine(matrix(13, 7, X))! }
    })
    for (let round = 0; round < 3; round++) {
      for (const { X, w, y, engine } of engines) {
        const b = Int32Array.of(12, 0, 5, 5, 3)
        for (const batch of [undefined, b]) {
          const fast = rowGradPassOn(engine, X, 13, 7, y, w, batch, 2, 0, E0, E0, new Float64Array(7))
          expect(sameBits(fast, rowGradPassReference(X, 13, 7, y, w, batch, 2, 0, E0, E0, new Float64Array(7)))).toBe(true)
        }
        const gram = engine.gram(Float64Array.from({ length: 13 }, (_, i) => 0.1 * i))
        if (engine.layout() === 'sparseRows') expect(sameBits(gram!.data, weightedGram(matrix(13, 7, X), Float64Array.from({ length: 13 }, (_, i) => 0.1 * i)).data)).toBe(true)
      }
    }
  })

  it('rejects a batch index outside [0, n) instead of reading past the matrix', () => {
    const X = new Float64Array(12).fill(1)
    const engine = rowEngine(matrix(4, 3, X))!
    const E0 = new Float64Array(0)
    expect(() => rowGradPassOn(engine, X, 4, 3, new Float64Array(4).fill(1), new Float64Array(3), Int32Array.of(0, 4), 1, 0, E0, E0, new Float64Array(3))).toThrow(RangeError)
  })
})

/** A synthetic sparse dataset large enough for the objectives to switch to the engine. */
const bigData = (n: number, p: number, s: number): Dataset => {
  const [u, r1] = uniforms(seed(s), n * p)
  const [g, r2] = normals(r1, n * p)
  const [l] = uniforms(r2, n)
  return {
    X: matrix(n, p, Float64Array.from(u, (x, i) => (x < 0.2 ? g[i]! : 0))),
    y: Float64Array.from(l, (x) => (x < 0.5 ? -1 : 1)),
  }
}

describe('the objectives switch to the engine on large data and keep the reference bits', () => {
  const n = 300
  const p = 224 // n·p = 67,200 ≥ ROW_ENGINE_MIN_ENTRIES
  const train = bigData(n, p, 3)
  const [w0] = normals(seed(5), p)
  const w = Float64Array.from(w0, (x) => 0.1 * x)
  const [u] = normals(seed(6), p)
  const batch = Int32Array.of(5, 17, 17, 299, 0, 42, 8)
  const E0 = new Float64Array(0)

  it('logistic gradInto / hvpInto: full batch and minibatch, before and after the engine takes over', () => {
    const obj = logisticObjective(train, 'scalar')
    const lam = Float64Array.of(0.3)
    const refGrad = (b?: Int32Array) => {
      const out = rowGradPassReference(train.X.data, n, p, train.y, w, b, b === undefined ? 1 : n / b.length, 0, E0, E0, new Float64Array(p))
      for (let j = 0; j < p; j++) out[j] = out[j]! + 0.3 * w[j]!
      return out
    }
    const refHvp = (b?: Int32Array) => {
      const out = rowHvpPassReference(train.X.data, n, p, train.y, w, u, b, b === undefined ? 1 : n / b.length, 0, E0, E0, new Float64Array(p))
      for (let j = 0; j < p; j++) out[j] = out[j]! + 0.3 * u[j]!
      return out
    }
    for (let call = 0; call < 3; call++) {
      expect(sameBits(obj.grad(w, lam), refGrad())).toBe(true)
      expect(sameBits(obj.grad(w, lam, batch), refGrad(batch))).toBe(true)
      expect(sameBits(obj.hvp(w, lam, u), refHvp())).toBe(true)
      expect(sameBits(obj.hvp(w, lam, u, batch), refHvp(batch))).toBe(true)
    }
    // The law above is not vacuous: by now the engine serves this matrix.
    expect(autoRowEngine(obj.train.X)).toBeDefined()
  })

  it('data cleaning grad / hvp / crossJvp through the engine equal the reference kernels', () => {
    const obj = dataCleaningObjective(train, { rho: 0.5 })
    const [l] = normals(seed(8), n)
    const [mu] = normals(seed(9), n)
    for (let call = 0; call < 3; call++) {
      const g = rowGradPassReference(train.X.data, n, p, train.y, w, batch, n / batch.length, 1, l, E0, new Float64Array(p))
      for (let j = 0; j < p; j++) g[j] = g[j]! + 0.5 * w[j]!
      expect(sameBits(obj.grad(w, l, batch), g)).toBe(true)
      const h = rowHvpPassReference(train.X.data, n, p, train.y, w, u, undefined, 1, 1, l, E0, new Float64Array(p))
      for (let j = 0; j < p; j++) h[j] = h[j]! + 0.5 * u[j]!
      expect(sameBits(obj.hvp(w, l, u), h)).toBe(true)
      const cj = rowGradPassReference(train.X.data, n, p, train.y, w, undefined, 1, 2, l, mu, new Float64Array(p))
      expect(sameBits(obj.crossJvp(w, l, mu), cj)).toBe(true)
    }
  })
})

describe('the Gram matrix of the engine equals weightedGram bit for bit', () => {
  it('on sparse matrices, with zero, negative and repeated weights', () => {
    fc.assert(
      fc.property(passInput, (c) => {
        const engine = rowEngine(matrix(c.n, c.p, c.X))!
        const d = Float64Array.from(c.mu, (x, i) => (i % 5 === 2 ? 0 : x))
        const fast = engine.gram(d)
        if (engine.layout() === 'dense') {
          expect(fast).toBeUndefined()
          return
        }
        expect(fast).toBeDefined()
        const ref = weightedGram(matrix(c.n, c.p, c.X), d)
        expect(sameBits(fast!.data, ref.data)).toBe(true)
      }),
      { numRuns: 60 },
    )
  })
})

describe('the dense Hessian and exact', () => {
  const train = bigData(60, 12, 21)
  const validation = bigData(40, 12, 22)
  const [w0] = normals(seed(23), 12)

  it('logistic and data-cleaning Hessians equal the matrix of their Hessian-vector products', () => {
    const lam = Float64Array.of(0.7)
    const obj = logisticObjective(train, 'scalar')
    const dc = dataCleaningObjective(train, { rho: 0.2 })
    const [l] = normals(seed(24), 60)
    for (const [o, L] of [[obj, lam], [logisticObjective(train, 'perFeature'), Float64Array.from({ length: 12 }, (_, j) => 0.1 + j)], [dc, l]] as const) {
      const H = o.hessian(w0, L)
      const cols = denseOf(12, (v) => o.hvp(w0, L, v))
      let scale = 0
      for (const x of cols.data) scale = Math.max(scale, Math.abs(x))
      for (let k = 0; k < 144; k++) expect(Math.abs(H.data[k]! - cols.data[k]!)).toBeLessThanOrEqual(1e-12 * scale)
      for (let a = 0; a < 12; a++) for (let b = 0; b < 12; b++) expect(H.data[a * 12 + b]).toBe(H.data[b * 12 + a])
    }
  })

  it('exact through the dense system matrix equals exact through d Jacobian-vector products', () => {
    for (const lamv of [0.05, 2]) {
      const lam = Float64Array.of(lamv)
      const problem = logisticProblem(train, validation, lam, { regularization: 'scalar' })
      if (E.isLeft(problem)) throw new Error(problem.left.message)
      const p = problem.right
      expect(p.denseSystemMatrix(w0, lam)).toBeDefined()
      // The same problem without its dense builder: exact falls back to jvpW columns.
      const viaColumns: BilevelProblem = {
        name: p.name, dim: p.dim, hyperDim: p.hyperDim, symmetric: p.symmetric,
        checkLambda: (l) => p.checkLambda(l), contraction: (l) => p.contraction(l),
        phi: (w, l) => p.phi(w, l), jvpW: (w, l, v) => p.jvpW(w, l, v), vjpW: (w, l, v) => p.vjpW(w, l, v),
        jvpLambda: (w, l, m) => p.jvpLambda(w, l, m), vjpLambda: (w, l, v) => p.vjpLambda(w, l, v),
        upper: (w, l) => p.upper(w, l), gradUpperW: (w, l) => p.gradUpperW(w, l), gradUpperLambda: (w, l) => p.gradUpperLambda(w, l),
      }
      const a = exact(p, lam)
      const b = exact(viaColumns, lam)
      if (E.isLeft(a) || E.isLeft(b) || a.right.status === 'diverged' || b.right.status === 'diverged') throw new Error('exact failed')
      expect(a.right.status).toBe('converged')
      const g = a.right.gradient[0]!, h = b.right.gradient[0]!
      expect(Math.abs(g - h)).toBeLessThanOrEqual(1e-9 * Math.abs(h))
    }
  })
})

describe('gemvT four rows at a time', () => {
  it('skips rows whose coefficient is 0 even when they hold non-finite entries, and matches the row-by-row sum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (M, N, s) => {
          const [a0, r1] = normals(seed(s), M * N)
          const [x0] = normals(r1, M)
          const a = Float64Array.from(a0)
          const x = Float64Array.from(x0, (v, i) => (i % 3 === 1 ? 0 : v))
          for (let i = 1; i < M; i += 3) a[i * N] = NaN // rows with x = 0 hold a NaN
          const y = gemvT(M, N, 1.5, a, N, 0, x, 1, 0, 0, new Float64Array(N), 1, 0)
          for (let j = 0; j < N; j++) {
            let sum = 0, abs = 0
            for (let i = 0; i < M; i++) {
              if (x[i] === 0) continue
              sum += 1.5 * x[i]! * a[i * N + j]!
              abs += Math.abs(1.5 * x[i]! * a[i * N + j]!)
            }
            expect(Number.isFinite(y[j]!)).toBe(true)
            expect(Math.abs(y[j]! - sum)).toBeLessThanOrEqual(4 * M * Number.EPSILON * abs)
          }
        },
      ),
    )
  })
})

/** Logistic-type coefficients over the rows of a pass (c = scale·y·ψ'(y z), or scale·y²ψ''(y z)·s). */
const gradCoef = (y: RVec, batch: Int32Array | undefined, scale: number): RowCoef => (z, _s, c) => {
  for (let k = 0; k < c.length; k++) {
    const yi = y[batch === undefined ? k : batch[k]!]!
    c[k] = scale * yi * dpsi(yi * z[k]!)
  }
}
const hvpCoef = (y: RVec, batch: Int32Array | undefined, scale: number): RowCoef => (z, s, c) => {
  for (let k = 0; k < c.length; k++) {
    const yi = y[batch === undefined ? k : batch[k]!]!
    c[k] = scale * yi * yi * d2psi(yi * z[k]!) * s[k]!
  }
}

/** ‖a − b‖∞ ≤ tol·(‖b‖∞ + 1e-300): the same numbers to rounding. */
const close = (a: RVec, b: RVec, tol = 1e-12): boolean => {
  let d = 0, m = 0
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!))
    m = Math.max(m, Math.abs(b[i]!))
  }
  return a.length === b.length && d <= tol * (m + 1e-300)
}

describe('CSR input: the engine consumes it as it is; dense and CSR give the same numbers', () => {
  it('engine on CSR = TypeScript CSR kernels bit for bit on every input (non-finite w and u included); = dense kernels to rounding on finite input', () => {
    fc.assert(
      fc.property(passInput, (c) => {
        const D = matrix(c.n, c.p, c.X)
        const C = csrFromDense(D)
        const engine = rowEngine(C)
        if (C.indptr[C.rows] === 0) return
        expect(engine).toBeDefined()
        expect(engine!.layout()).toBe('sparseRows')
        const before = copies(c)
        const g = gradCoef(c.y, c.batch, c.scale), h = hvpCoef(c.y, c.batch, c.scale)
        const refG = gradPassReference(C, c.w, c.batch, g, new Float64Array(c.p))
        const refH = hvpPassReference(C, c.w, c.u, c.batch, h, new Float64Array(c.p))
        for (let pass = 0; pass < 2; pass++) {
          expect(sameBits(gradPassOn(engine!, C, c.w, c.batch, g, new Float64Array(c.p).fill(7)), refG)).toBe(true)
          expect(sameBits(hvpPassOn(engine!, C, c.w, c.u, c.batch, h, new Float64Array(c.p).fill(7)), refH)).toBe(true)
        }
        if (c.poison === undefined) {
          expect(close(refG, gradPassReference(D, c.w, c.batch, g, new Float64Array(c.p)))).toBe(true)
          expect(close(refH, hvpPassReference(D, c.w, c.u, c.batch, h, new Float64Array(c.p)))).toBe(true)
        }
        expect(unchanged(c, before)).toBe(true)
      }),
      { numRuns: 150 },
    )
  })

  it('Xᵀ diag(d) X u (gramVec): engine = TypeScript = the hvp-type pass with coefficients dᵢ·sᵢ, bit for bit, every layout', () => {
    fc.assert(
      fc.property(passInput, (c) => {
        const D = matrix(c.n, c.p, c.X)
        for (const X of [D, csrFromDense(D)] as DesignMatrix[]) {
          const d = c.mu
          const linear: RowCoef = (_z, s, cf) => {
            for (let k = 0; k < cf.length; k++) cf[k] = d[k]! * s[k]!
          }
          const want = hvpPassReference(X, c.u, c.u, undefined, linear, new Float64Array(c.p))
          expect(sameBits(gramVecReference(X, d, c.u, new Float64Array(c.p)), want)).toBe(true)
          const engine = rowEngine(X)
          const fast = engine?.gramVec(d, c.u, new Float64Array(c.p).fill(7))
          if (fast !== undefined) expect(sameBits(fast, want)).toBe(true)
        }
      }),
      { numRuns: 80 },
    )
  })

  it('gramVec on wide CSR data (dots first, then axpys) equals the TypeScript kernels bit for bit', () => {
    const n = 40, p = 300_000
    const [cols, r1] = uniforms(seed(61), n * 12)
    const [vals, r2] = normals(r1, n * 12)
    const indptr = Int32Array.from({ length: n + 1 }, (_, i) => 12 * i)
    const indices = new Int32Array(n * 12)
    for (let i = 0; i < n; i++) {
      const row = Array.from(new Set(Array.from(cols.subarray(12 * i, 12 * i + 12), (x) => Math.floor(x * p)))).sort((a, b) => a - b)
      while (row.length < 12) row.push(row.at(-1)! + 1)
      indices.set(row, 12 * i)
    }
    const X = { layout: 'csr', rows: n, cols: p, indptr, indices, values: vals } as const
    const [u, r3] = normals(r2, p)
    const [d] = normals(r3, n)
    const want = gramVecReference(X, d, u, new Float64Array(p))
    const fast = rowEngine(X)!.gramVec(d, u, new Float64Array(p))
    expect(fast).toBeDefined()
    expect(sameBits(fast!, want)).toBe(true)
  })

  it('a logistic Hessian product at the w of the previous one (its curvature weights kept) has the bits of a fresh one', () => {
    const d = bigData(300, 250, 41)
    for (const X of [d.X, csrFromDense(d.X)] as DesignMatrix[]) {
      const ds = { X, y: d.y }
      const [w] = normals(seed(42), 250)
      const lam = Float64Array.of(0.2)
      const kept = logisticObjective(ds, 'scalar')
      for (let k = 0; k < 4; k++) {
        const [u] = normals(seed(50 + k), 250)
        const fresh = logisticObjective(ds, 'scalar').hvp(w, lam, u)
        expect(sameBits(kept.hvp(w, lam, u), fresh)).toBe(true)
      }
    }
  })

  it('the Gram matrix of CSR input (engine and TypeScript) equals weightedGram of the dense matrix', () => {
    fc.assert(
      fc.property(passInput, (c) => {
        const D = matrix(c.n, c.p, c.X)
        const C = csrFromDense(D)
        if (C.indptr[C.rows] === 0) return
        const d = Float64Array.from(c.mu, (x, i) => (i % 5 === 2 ? 0 : x))
        const ref = weightedGram(D, d)
        expect(sameBits(rowEngine(C)!.gram(d)!.data, ref.data)).toBe(true)
        expect(sameBits(csrWeightedGram(C, d).data, ref.data)).toBe(true)
      }),
      { numRuns: 40 },
    )
  })

  const layouts = (n: number, p: number, s: number): { dense: Dataset; csr: Dataset<DesignMatrix> } => {
    const dense = bigData(n, p, s)
    return { dense, csr: { X: csrFromDense(dense.X), y: dense.y } }
  }

  for (const [label, n, p] of [['below', 40, 30], ['above', 300, 1100]] as const) {
    it(`logistic and data-cleaning objectives: CSR = dense (values and per-sample terms bit for bit, vectors to rounding), ${label} the engine's threshold`, () => {
      const tr = layouts(n, p, 31)
      const va = layouts(Math.ceil(n / 2), p, 32)
      const nnz = (tr.csr.X as { indptr: Int32Array }).indptr[n]!
      expect(label === 'above' ? nnz >= ROW_ENGINE_MIN_ENTRIES : n * p < ROW_ENGINE_MIN_ENTRIES).toBe(true)
      const [w0] = normals(seed(33), p)
      const w = Float64Array.from(w0, (x) => 0.2 * x)
      const [u] = normals(seed(34), p)
      const [l] = normals(seed(35), n)
      const [mu] = normals(seed(36), n)
      const batch = Int32Array.of(3, 0, n - 1, 3, 7, 11, 2)
      const lam = Float64Array.from({ length: p }, (_, j) => 0.1 + 0.01 * j)
      for (const reg of ['scalar', 'perFeature'] as const) {
        const L = reg === 'scalar' ? Float64Array.of(0.4) : lam
        const a = logisticObjective(tr.dense, reg), b = logisticObjective(tr.csr, reg)
        for (let call = 0; call < 3; call++) {
          for (const bt of [undefined, batch]) {
            expect(close(a.grad(w, L, bt), b.grad(w, L, bt))).toBe(true)
            expect(close(a.hvp(w, L, u, bt), b.hvp(w, L, u, bt))).toBe(true)
            expect(Object.is(a.value(w, L, bt), b.value(w, L, bt))).toBe(true)
          }
        }
        if (label === 'below') expect(Math.abs(a.curvature(L).L / b.curvature(L).L - 1)).toBeLessThan(1e-12)
      }
      const ua = logisticUpper(va.dense, 1), ub = logisticUpper(va.csr, 1)
      const one = Float64Array.of(1)
      for (let call = 0; call < 3; call++) {
        expect(close(ua.gradW(w, one), ub.gradW(w, one))).toBe(true)
        expect(Object.is(ua.value(w, one), ub.value(w, one))).toBe(true)
      }
      const ca = dataCleaningObjective(tr.dense, { rho: 0.3 }), cb = dataCleaningObjective(tr.csr, { rho: 0.3 })
      for (let call = 0; call < 3; call++) {
        for (const bt of [undefined, batch]) {
          expect(close(ca.grad(w, l, bt), cb.grad(w, l, bt))).toBe(true)
          expect(close(ca.hvp(w, l, u, bt), cb.hvp(w, l, u, bt))).toBe(true)
          expect(close(ca.crossJvp(w, l, mu, bt), cb.crossJvp(w, l, mu, bt))).toBe(true)
          expect(sameBits(ca.crossVjp(w, l, u, bt), cb.crossVjp(w, l, u, bt))).toBe(true)
          expect(Object.is(ca.value(w, l, bt), cb.value(w, l, bt))).toBe(true)
        }
      }
      if (label === 'below') {
        expect(sameBits(ca.hessian(w, l).data, cb.hessian(w, l).data)).toBe(true)
        expect(Math.abs(squaredSpectralNorm(tr.dense.X) / squaredSpectralNorm(tr.csr.X) - 1)).toBeLessThan(1e-9)
      } else expect(autoRowEngine(cb.train.X)?.layout()).toBe('sparseRows')
    })
  }
})
