/**
 * One-dimensional model steps shared by the line search of L-BFGS and the secant method:
 * the root of the secant through two derivative values, the minimizer of the cubic that
 * interpolates two values and two derivatives (Nocedal & Wright 2006, eq. 3.59), and the
 * safeguard that keeps a model step inside a bracket, away from its ends.
 */

/** The zero of the line through (a, ga) and (b, gb); NaN when ga = gb. */
export const secantRoot = (a: number, ga: number, b: number, gb: number): number => (ga === gb ? NaN : a - (ga * (b - a)) / (gb - ga))

/**
 * The minimizer of the cubic through (a, fa, ga) and (b, fb, gb) (values and derivatives);
 * NaN when the cubic has no minimizer there (negative discriminant).
 */
export const cubicMin = (a: number, fa: number, ga: number, b: number, fb: number, gb: number): number => {
  const d1 = ga + gb - (3 * (fa - fb)) / (a - b)
  const disc = d1 * d1 - ga * gb
  if (!(disc >= 0)) return NaN
  const d2 = Math.sign(b - a) * Math.sqrt(disc)
  return b - ((b - a) * (gb + d2 - d1)) / (gb - ga + 2 * d2)
}

/**
 * x if it lies in the bracket with at least `margin`·|b − a| to spare on each side, else the
 * nearest such point; the midpoint when x is not a number.
 */
export const safeguard = (x: number, a: number, b: number, margin: number): number => {
  const lo = Math.min(a, b)
  const hi = Math.max(a, b)
  const w = hi - lo
  if (!Number.isFinite(x)) return lo + w / 2
  return Math.min(hi - margin * w, Math.max(lo + margin * w, x))
}

/** A point of a one-dimensional search: position, value and derivative. */
export interface Knot {
  readonly t: number
  readonly f: number
  readonly g: number
}

/**
 * The model step between two knots: the minimizer of the interpolating cubic while the values
 * differ by more than `noise` (they carry curvature information then), else the secant root of
 * the derivative (near a minimum the values are flat and only the derivatives resolve it); NaN
 * when the model has no minimizer.
 */
export const modelStep = (a: Knot, b: Knot, noise: number): number => {
  if (Math.abs(a.f - b.f) > noise) {
    const c = cubicMin(a.t, a.f, a.g, b.t, b.f, b.g)
    if (Number.isFinite(c)) return c
  }
  return secantRoot(a.t, a.g, b.t, b.g)
}
