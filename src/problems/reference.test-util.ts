/**
 * Independent references for the problems' tests: vector norms and relative errors, central
 * differences (gradients, Jacobians, directional derivatives), seeded random vectors and
 * datasets, and the exact sampling spaces of the mini-batch estimators (all subsets, all tuples).
 */
import { expect } from 'vitest'
import type { Dataset } from '../data/dataset.js'
import type { LowerObjective } from '../problem/erm.js'
import { matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import * as R from '../random/rng.js'

export const norm = (x: RVec): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0))
export const diff = (x: RVec, y: RVec): Vec => Float64Array.from(x, (v, i) => v - y[i]!)
/** ‖x − y‖ / max(‖y‖, tiny). */
export const relErr = (x: RVec, y: RVec): number => norm(diff(x, y)) / Math.max(norm(y), 1e-300)
export const matRelErr = (a: Matrix, b: Matrix): number => relErr(a.data, b.data)
export const relErrNum = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300)
/** ‖a − b‖ ≤ rel·‖b‖ + abs (abs covers vectors whose entries cancel to near zero). */
export const within = (a: RVec, b: RVec, rel: number, abs: number): boolean => norm(diff(a, b)) <= rel * norm(b) + abs

export const axpby = (a: number, x: RVec, y: RVec): Vec => Float64Array.from(y, (v, i) => v + a * x[i]!)
export const dot = (x: RVec, y: RVec): number => x.reduce((s, v, i) => s + v * y[i]!, 0)
/** Copies, to check later that a call left its inputs as they were. */
export const snapshot = (...xs: ReadonlyArray<RVec>): ReadonlyArray<Vec> => xs.map((x) => Float64Array.from(x))
export const unit = (n: number, j: number): Vec => {
  const e = new Float64Array(n)
  e[j] = 1
  return e
}
/** x with h added to coordinate j. */
export const shift = (x: RVec, j: number, h: number): Vec => {
  const y = Float64Array.from(x)
  y[j] = y[j]! + h
  return y
}

/** Central-difference gradient of a scalar function (h a step, or a step per coordinate). */
export const fdGrad = (f: (x: RVec) => number, x: RVec, h: number | ((j: number) => number)): Vec =>
  Float64Array.from(x, (_, j) => {
    const hj = typeof h === 'number' ? h : h(j)
    return (f(shift(x, j, hj)) - f(shift(x, j, -hj))) / (2 * hj)
  })
/** Central-difference Jacobian (rows = outputs) of a vector function. */
export const fdJac = (F: (x: RVec) => RVec, x: RVec, outDim: number, h: number): Matrix => {
  const n = x.length
  const d = new Float64Array(outDim * n)
  for (let j = 0; j < n; j++) {
    const a = F(shift(x, j, h))
    const b = F(shift(x, j, -h))
    for (let i = 0; i < outDim; i++) d[i * n + j] = (a[i]! - b[i]!) / (2 * h)
  }
  return matrix(outDim, n, d)
}
/** Central difference of a vector function of one variable t at step h. */
export const cdVec = (f: (t: number) => RVec, h: number): Vec => {
  const a = f(h), b = f(-h)
  return Float64Array.from(a, (v, i) => (v - b[i]!) / (2 * h))
}
export const cdNum = (f: (t: number) => number, h: number): number => (f(h) - f(-h)) / (2 * h)

/** m standard normals (times scale) from the seed. */
export const randVec = (seed: number, m: number, scale = 1): Vec => Float64Array.from(R.normals(R.seed(seed), m)[0], (v) => scale * v)

/**
 * A ±1-labelled dataset with Gaussian features, labels the signs of x·w* + noise; optionally one
 * all-zero column (rank deficiency) and labels of magnitude in [0.5, 2] instead of 1 (to
 * exercise the yᵢ² factors).
 */
export const classificationData = (seed: number, n: number, p: number, zeroCol = false, scaledLabels = false): Dataset => {
  const [rx, rw, ry] = R.split(R.seed(seed), 3) as [R.Rng, R.Rng, R.Rng]
  const [x] = R.normals(rx, n * p)
  if (zeroCol) for (let i = 0; i < n; i++) x[i * p + (p - 1)] = 0
  const [wt] = R.normals(rw, p)
  const [e] = R.normals(ry, n)
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = 0; j < p; j++) s += x[i * p + j]! * wt[j]!
    y[i] = (s + e[i]! >= 0 ? 1 : -1) * (scaledLabels ? 0.5 + 1.5 * Math.abs(Math.sin(7 * i + seed)) : 1)
  }
  return { X: matrix(n, p, x), y }
}

/** All b-subsets of {0, …, n−1} (the without-replacement sampling space). */
export const subsets = (n: number, b: number): Int32Array[] => {
  const out: Int32Array[] = []
  const rec = (start: number, acc: number[]): void => {
    if (acc.length === b) {
      out.push(Int32Array.from(acc))
      return
    }
    for (let i = start; i < n; i++) rec(i + 1, [...acc, i])
  }
  rec(0, [])
  return out
}
/** All ordered b-tuples with repetition (the with-replacement sampling space). */
export const tuples = (n: number, b: number): Int32Array[] => {
  if (b === 0) return [new Int32Array(0)]
  return tuples(n, b - 1).flatMap((t) => Array.from({ length: n }, (_, i) => Int32Array.from([...t, i])))
}
export const meanVec = (vs: ReadonlyArray<RVec>): Vec => {
  const out = new Float64Array(vs[0]!.length)
  for (const v of vs) for (let i = 0; i < out.length; i++) out[i] = out[i]! + v[i]!
  return out.map((x) => x / vs.length)
}

/**
 * Checks that the mini-batch estimates of a lower objective are unbiased: over all b-subsets of n
 * samples (b = 1…6) and all ordered 2- and 3-tuples, the averages of value, grad, hvp, crossJvp and
 * crossVjp equal the full sums to 1e-12.
 */
export const expectUnbiasedOverSamplingSpaces = (obj: LowerObjective, n: number, w: RVec, lam: RVec, u: RVec, v: RVec, mu: RVec): void => {
  const spaces = [1, 2, 3, 4, 5, 6].map((b) => subsets(n, b)).concat([tuples(n, 2), tuples(n, 3)])
  for (const space of spaces) {
    expect(relErrNum(space.reduce((s, b) => s + obj.value(w, lam, b), 0) / space.length, obj.value(w, lam))).toBeLessThan(1e-12)
    expect(relErr(meanVec(space.map((b) => obj.grad(w, lam, b))), obj.grad(w, lam))).toBeLessThan(1e-12)
    expect(relErr(meanVec(space.map((b) => obj.hvp(w, lam, u, b))), obj.hvp(w, lam, u))).toBeLessThan(1e-12)
    expect(relErr(meanVec(space.map((b) => obj.crossJvp(w, lam, mu, b))), obj.crossJvp(w, lam, mu))).toBeLessThan(1e-12)
    expect(relErr(meanVec(space.map((b) => obj.crossVjp(w, lam, v, b))), obj.crossVjp(w, lam, v))).toBeLessThan(1e-12)
  }
}
