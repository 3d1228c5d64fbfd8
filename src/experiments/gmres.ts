/**
 * GMRES (Saad & Schultz 1986) as a linear solver value, for the linear systems where conjugate
 * gradient does not apply: (I − ∂₁Φᵀ)v = ∇₁E with ∂₁Φ not symmetric (an equilibrium model).
 * vₖ minimizes ‖b − A v‖ over v₀ + the Krylov space span{r₀, Ar₀, …, A^{k−1}r₀}: the Arnoldi
 * process (modified Gram–Schmidt) builds an orthonormal basis Q and the Hessenberg matrix H
 * with A Qₖ = Qₖ₊₁ Hₖ, Givens rotations keep H triangular, and vₖ = v₀ + Qₖ yₖ.
 *
 * Rate. For A = I − M with ‖M‖ ≤ q < 1 the polynomial (1 − z)ᵏ is admissible, so
 * ‖rₖ‖ ≤ ‖Mᵏ r₀‖ ≤ qᵏ‖r₀‖: GMRES's residual is never above the bound of the fixed-point
 * iteration (AID-FP), and it adapts to the spectrum as conjugate gradient does for symmetric A.
 * Cost: one product with A per step, and O(k·d) work and memory for the basis (no restart).
 *
 * The states are values: a step appends to copies of the basis and of the rotations (the
 * vectors already in the basis are shared, never written).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Vec } from '../linalg/types.js'
import type { LinearSolver, LinearState } from '../solvers/types.js'

/** A GMRES state: vₖ, the basis q₀…qₖ, the rotated columns of H, the rotations and the rotated right-hand side g. */
export interface GmresState extends LinearState {
  readonly v0: Vec
  readonly basis: ReadonlyArray<Vec>
  /** Column j of the rotated (upper triangular) H: entries 0…j. */
  readonly columns: ReadonlyArray<Float64Array>
  readonly cs: ReadonlyArray<number>
  readonly sn: ReadonlyArray<number>
  /** g = Qₖ₊₁ᵀ r₀ rotated: |g[k]| = ‖rₖ‖. */
  readonly g: ReadonlyArray<number>
  readonly residual: number
}

const scaled = (a: number, x: Vec): Vec => x.map((t) => a * t)

/** GMRES without restarts (see the module comment); no options. */
export const gmres = (): LinearSolver<GmresState> => ({
  kind: 'linear',
  name: 'gmres',
  stochastic: false,
  check: () => E.right(undefined), // applies to every nonsingular system
  init: (system, v0, rng) => {
    const v = Float64Array.from(v0)
    const r = system.matvec(v).map((x, i) => system.rhs[i]! - x)
    let beta = 0
    for (const x of r) beta += x * x
    beta = Math.sqrt(beta)
    const counts = { phi: 0, jacW: 1, jacLambda: 0 }
    const base = { v, v0: v, columns: [], cs: [], sn: [], g: [beta], residual: beta, iter: 0, rng, counts }
    // r₀ = 0: v₀ solves the system.
    if (beta === 0) return { ...base, basis: [], stop: 'converged', reason: 'zero residual' }
    return { ...base, basis: [scaled(1 / beta, r)] }
  },
  step: (system, s) => {
    const j = s.iter
    const counts = { ...s.counts, jacW: s.counts.jacW + 1 }
    // Arnoldi: w = A qⱼ orthogonalized against q₀…qⱼ (modified Gram–Schmidt).
    const w = system.matvec(s.basis[j]!)
    let wn = 0
    for (const x of w) wn += x * x
    const h = new Float64Array(j + 2)
    for (let i = 0; i <= j; i++) {
      const q = s.basis[i]!
      let d = 0
      for (let l = 0; l < w.length; l++) d += w[l]! * q[l]!
      h[i] = d
      for (let l = 0; l < w.length; l++) w[l] = w[l]! - d * q[l]!
    }
    let hn = 0
    for (const x of w) hn += x * x
    hn = Math.sqrt(hn)
    h[j + 1] = hn
    // The earlier rotations, then a new one that zeroes h[j + 1].
    for (let i = 0; i < j; i++) {
      const a = h[i]!, b = h[i + 1]!
      h[i] = s.cs[i]! * a + s.sn[i]! * b
      h[i + 1] = -s.sn[i]! * a + s.cs[i]! * b
    }
    const rho = Math.hypot(h[j]!, h[j + 1]!)
    if (!(rho > 0) || !Number.isFinite(rho)) return { ...s, iter: j + 1, counts, stop: 'diverged', reason: 'GMRES breakdown: a singular or non-finite Hessenberg column' }
    const c = h[j]! / rho, sn = h[j + 1]! / rho
    h[j] = rho
    const column = h.slice(0, j + 1)
    const g = [...s.g]
    const gj = g[j]!
    g[j] = c * gj
    g.push(-sn * gj)
    const columns = [...s.columns, column]
    // y solves the triangular system R y = g[0…j]; vₖ = v₀ + Σ yᵢ qᵢ.
    const y = new Float64Array(j + 1)
    for (let i = j; i >= 0; i--) {
      let t = g[i]!
      for (let l = i + 1; l <= j; l++) t -= columns[l]![i]! * y[l]!
      y[i] = t / columns[i]![i]!
    }
    const v = Float64Array.from(s.v0)
    for (let i = 0; i <= j; i++) {
      const q = s.basis[i]!
      for (let l = 0; l < v.length; l++) v[l] = v[l]! + y[i]! * q[l]!
    }
    const residual = Math.abs(g[j + 1]!)
    const next = { v, v0: s.v0, columns, cs: [...s.cs, c], sn: [...s.sn, sn], g, residual, iter: j + 1, rng: s.rng, counts }
    // hₖ₊₁ = 0 (to rounding: below 1e-13‖A qⱼ‖): the Krylov space is invariant and vₖ solves
    // the system (a lucky breakdown); going on would orthogonalize rounding errors.
    if (hn <= 1e-13 * Math.sqrt(wn)) return { ...next, basis: s.basis, stop: 'converged', reason: 'invariant Krylov space: exact solution' }
    return { ...next, basis: [...s.basis, scaled(1 / hn, w)] }
  },
})
