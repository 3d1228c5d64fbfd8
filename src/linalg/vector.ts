/** Pure vector operations: they allocate their result and never change their arguments. */
import { axpy, copy, dot as kdot, nrm2, scal } from './kernels.js'
import { assertDim, type RVec, type Vec } from './types.js'

export const zeros = (n: number): Vec => new Float64Array(n)
export const fill = (n: number, value: number): Vec => new Float64Array(n).fill(value)
export const clone = (x: RVec): Vec => Float64Array.from(x)
export const fromArray = (xs: ReadonlyArray<number>): Vec => Float64Array.from(xs)

export const dot = (x: RVec, y: RVec): number => {
  assertDim('dot', x.length, y.length)
  return kdot(x.length, x, 1, 0, y, 1, 0)
}
export const norm = (x: RVec): number => nrm2(x.length, x, 1, 0)
export const normSq = (x: RVec): number => kdot(x.length, x, 1, 0, x, 1, 0)

/** a·x + y, fresh. */
export const axpby = (a: number, x: RVec, y: RVec): Vec => {
  assertDim('axpy', x.length, y.length)
  return axpy(x.length, a, x, 1, 0, copy(y.length, y, 1, 0, new Float64Array(y.length), 1, 0), 1, 0)
}
export const add = (x: RVec, y: RVec): Vec => axpby(1, x, y)
export const sub = (x: RVec, y: RVec): Vec => axpby(-1, y, x)
export const scale = (a: number, x: RVec): Vec => scal(x.length, a, clone(x), 1, 0)

/** ‖x − y‖ without allocating. */
export const distance = (x: RVec, y: RVec): number => {
  assertDim('distance', x.length, y.length)
  let s = 0
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! - y[i]!
    s += d * d
  }
  return Math.sqrt(s)
}

/** True when every entry is finite (no NaN, no ±Infinity). */
export const isFiniteVec = (x: RVec): boolean => {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false
  return true
}

/** The largest value (−∞ for none); unlike Math.max(...xs), any length (no spread onto the stack). */
export const maxOf = (xs: ArrayLike<number>): number => {
  let m = -Infinity
  for (let i = 0; i < xs.length; i++) m = Math.max(m, xs[i]!)
  return m
}

/** The smallest value (+∞ for none), for any length. */
export const minOf = (xs: ArrayLike<number>): number => {
  let m = Infinity
  for (let i = 0; i < xs.length; i++) m = Math.min(m, xs[i]!)
  return m
}
