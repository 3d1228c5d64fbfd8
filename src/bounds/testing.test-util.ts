/**
 * Test helpers of the bounds: evenly spread draws and records of them, the rounding allowance
 * of a comparison with a computed error, and diagonal linear systems with conjugate gradient on
 * them (the methods tested are orthogonally invariant, so a diagonal matrix is general).
 */
import fc from 'fast-check'

/**
 * Numbers spread evenly over [min, max] (ends included). fc.double would mostly draw values near
 * 0 and denormals, where absolute comparisons pass whatever the formula says.
 */
export const unit = (min = 0, max = 0.999): fc.Arbitrary<number> => fc.integer({ min: 0, max: 1 << 20 }).map((i) => min + ((max - min) * i) / (1 << 20))

/** The fields `names`, each drawn by `unit(min, max)` (spread into an `fc.record` model, in order). */
export const unitFields = <const K extends string>(min: number, max: number, names: ReadonlyArray<K>): Record<K, fc.Arbitrary<number>> =>
  Object.fromEntries(names.map((k) => [k, unit(min, max)])) as Record<K, fc.Arbitrary<number>>

/** Rounding allowance: the bounds hold in exact arithmetic, the iterations run in floating point. */
export const floor = (scale: number): number => 1e-12 * (1 + scale)

/** The Euclidean norm, summed here (independently of the library's kernels). */
export const norm = (x: ArrayLike<number>): number => Math.sqrt(Array.from(x).reduce((s, z) => s + z * z, 0))

/** A diagonal system diag·x = rhs, a start x0 and a step count k. */
export interface DiagonalSystem<P> {
  readonly params: P
  readonly diag: Float64Array
  readonly rhs: Float64Array
  readonly x0: Float64Array
  readonly k: number
}

/**
 * Diagonal systems of 2 to `maxN` unknowns whose spectrum [lo, hi] = `ends(params)` has both ends
 * attained (the other entries lo + (hi − lo)·u, u uniform); right-hand side and start in [−2, 2]ⁿ.
 */
export const diagonalSystem = <P>(
  params: fc.Arbitrary<P>,
  ends: (p: P) => readonly [number, number],
  maxN: number,
  maxK: number,
): fc.Arbitrary<DiagonalSystem<P>> => {
  const entries = (min: number, max: number) => fc.array(fc.double({ min, max, noNaN: true }), { minLength: maxN, maxLength: maxN })
  return fc
    .record({ params, n: fc.integer({ min: 2, max: maxN }), u: entries(0, 1), rhs: entries(-2, 2), x0: entries(-2, 2), k: fc.integer({ min: 0, max: maxK }) })
    .map(({ params: p, n, u, rhs, x0, k }) => {
      const [lo, hi] = ends(p)
      const diag = Float64Array.from({ length: n }, (_, i) => (i === 0 ? lo : i === 1 ? hi : lo + (hi - lo) * u[i]!))
      return { params: p, diag, rhs: Float64Array.from(rhs.slice(0, n)), x0: Float64Array.from(x0.slice(0, n)), k }
    })
}

/** k steps of conjugate gradient on diag·x = b from x0 (stopped early at a zero residual or curvature). */
export const cgDiagonal = (diag: Float64Array, b: Float64Array, x0: Float64Array, k: number): Float64Array => {
  const n = diag.length
  const x = Float64Array.from(x0)
  const r = Float64Array.from(b, (bi, i) => bi - diag[i]! * x0[i]!)
  const p = Float64Array.from(r)
  let rr = r.reduce((s, z) => s + z * z, 0)
  for (let j = 0; j < k && rr > 1e-250; j++) {
    let pAp = 0
    for (let i = 0; i < n; i++) pAp += p[i]! * diag[i]! * p[i]!
    if (!(pAp > 0)) break
    const a = rr / pAp
    for (let i = 0; i < n; i++) {
      x[i] = x[i]! + a * p[i]!
      r[i] = r[i]! - a * diag[i]! * p[i]!
    }
    const rrNext = r.reduce((s, z) => s + z * z, 0)
    for (let i = 0; i < n; i++) p[i] = r[i]! + (rrNext / rr) * p[i]!
    rr = rrNext
  }
  return x
}
