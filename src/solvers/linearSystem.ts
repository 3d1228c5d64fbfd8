/**
 * Linear systems A v = b as linear solvers consume them (an operator and a right-hand side),
 * and the one adapter from the fixed-point system of AID/SID,
 *
 *   (I − ∂₁Φ(w, λ)ᵀ) v = ∇₁E(w, λ)      (SID eq. 6),
 *
 * which is given through M = ∂₁Φᵀ (so A = I − M, `complement` = M).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { HypergradError } from '../errors.js'
import { transpose } from '../linalg/matrix.js'
import { matrix, type LinOp, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import { isStochastic, type Batch, type BilevelProblem } from '../problem/bilevel.js'
import type { DenseSystemMatrix } from '../problem/erm.js'
import { checkStart, fail } from './check.js'
import type { LinearSystem } from './types.js'

/** I − M as an operator, v ↦ v − M v (fresh; the form every solver of the library uses). */
const iMinus =
  (m: (v: RVec) => Vec): LinOp =>
  (v) => {
    const out = m(v)
    for (let i = 0; i < out.length; i++) out[i] = v[i]! - out[i]!
    return out
  }

/** v ↦ (I − A) v: the system's own complement, or v − A v. */
export const complementOf = (s: LinearSystem): LinOp => s.complement ?? iMinus(s.matvec)

/** ‖b − A v‖ from scratch: one product, in the fixed-point form (I − A)v − v + b when A = I − M (no added rounding). */
export const trueResidual = (system: LinearSystem, v: RVec): number => {
  const r = complementOf(system)(v)
  let s = 0
  for (let i = 0; i < r.length; i++) {
    const x = r[i]! - v[i]! + system.rhs[i]!
    s += x * x
  }
  return Math.sqrt(s)
}

/** (B, v) ↦ (I − Â_B) v: the system's own minibatch complement, or v − Â_B v. */
export const complementHatOf = (s: LinearSystem): ((batch: Batch, v: RVec) => Vec) | undefined => {
  if (s.complementHat !== undefined) return s.complementHat
  const hat = s.matvecHat
  if (hat === undefined) return undefined
  return (batch, v) => {
    const out = hat(batch, v)
    for (let i = 0; i < out.length; i++) out[i] = v[i]! - out[i]!
    return out
  }
}

/** Options of `linearSystem`. */
export interface LinearSystemOptions {
  /** A is symmetric positive definite (conjugate gradient applies). Default false. */
  readonly symmetric?: boolean
  /** A finite sum A = (1/n) Σᵢ Aᵢ: n and the minibatch operator (B, v) ↦ (1/|B|) Σ_{i∈B} Aᵢ v. */
  readonly stochastic?: { readonly nSamples: number; readonly matvecHat: (batch: Batch, v: RVec) => Vec }
  /** A dense copy of A, for direct solves. */
  readonly dense?: () => Matrix | undefined
}

/**
 * The system A v = b from its operator (jaxopt's `solve(matvec, b)`): `matvec(v)` must return a
 * fresh vector of the same length. b is copied. Left when b is empty or not finite, or the
 * options are malformed.
 */
export const linearSystem = (matvec: LinOp, b: RVec, opts: LinearSystemOptions = {}): E.Either<HypergradError, LinearSystem> => {
  const who = 'linearSystem'
  if (typeof matvec !== 'function') return fail('config', who, 'matvec must be a function v ↦ A v')
  if (b.length === 0) return fail('dimension', who, 'the right-hand side is empty')
  const rhs = checkStart(who, 'b', b, b.length)
  if (E.isLeft(rhs)) return rhs
  const st = opts.stochastic
  if (st !== undefined && !(Number.isInteger(st.nSamples) && st.nSamples >= 1 && typeof st.matvecHat === 'function'))
    return fail('config', who, `stochastic needs nSamples (an integer ≥ 1, got ${st.nSamples}) and matvecHat (a function)`)
  return E.right({
    dim: b.length,
    matvec,
    rhs: rhs.right,
    symmetric: opts.symmetric === true,
    ...(st === undefined ? {} : { nSamples: st.nSamples, matvecHat: st.matvecHat }),
    ...(opts.dense === undefined ? {} : { dense: opts.dense }),
  })
}

const hasDenseJacobian = (p: BilevelProblem): p is BilevelProblem & DenseSystemMatrix =>
  typeof (p as Partial<DenseSystemMatrix>).denseSystemMatrix === 'function'

/**
 * The dense Jacobian J = I − ∂₁Φ(w, λ) (d × d, row-major): from the problem's own dense builder
 * when it has one (an ERM problem: J = α∇²ℓ from a Gram matrix), else from d products ∂₁Φ eⱼ.
 * O(d²) memory: for direct solves of small problems.
 */
export const jacobianMatrix = (problem: BilevelProblem, w: RVec, lambda: RVec): Matrix => {
  if (hasDenseJacobian(problem)) {
    const J = problem.denseSystemMatrix(w, lambda)
    if (J !== undefined) return J
  }
  const d = problem.dim
  const data = new Float64Array(d * d)
  const e = new Float64Array(d)
  for (let j = 0; j < d; j++) {
    e.fill(0)
    e[j] = 1
    const col = problem.jvpW(w, lambda, e)
    for (let i = 0; i < d; i++) data[i * d + j] = (i === j ? 1 : 0) - col[i]!
  }
  return matrix(d, d, data)
}

/**
 * The AID/SID system (I − ∂₁Φ(w, λ)ᵀ) v = ∇₁E(w, λ) at a lower iterate w (SID eq. 6), with
 * M = ∂₁Φᵀ as its complement (and ∂₁Φ̂ᵀ on minibatches for stochastic problems), symmetric
 * when the problem is, q = the contraction constant of Φ(·, λ), and the dense matrix Jᵀ
 * (J = I − ∂₁Φ) on demand. λ and w are held as given: the caller passes values it will not change.
 */
export const linearSystemAt = (problem: BilevelProblem, lambda: RVec, w: RVec): LinearSystem => {
  const symmetric = problem.symmetric
  return fixedPointSystem((v) => problem.vjpW(w, lambda, v), problem.gradUpperW(w, lambda), {
    symmetric,
    q: problem.contraction(lambda),
    dense: () => {
      const J = jacobianMatrix(problem, w, lambda)
      return symmetric ? J : transpose(J)
    },
    ...(isStochastic(problem) ? { stochastic: { nSamples: problem.nSamples, complementHat: (batch: Batch, v: RVec) => problem.vjpWHat(w, lambda, batch, v) } } : {}),
  })
}

/** Options of `fixedPointSystem`. */
export interface FixedPointSystemOptions {
  /** M is symmetric (so is A = I − M; positive definite when ‖M‖ < 1). */
  readonly symmetric: boolean
  /** A bound q < 1 on ‖M‖, when known. */
  readonly q?: number
  /** A finite sum M = (1/n) Σᵢ Mᵢ: n and (B, v) ↦ the minibatch average of Mᵢv. */
  readonly stochastic?: { readonly nSamples: number; readonly complementHat: (batch: Batch, v: RVec) => Vec }
  /** A dense copy of A = I − M, for direct solves. */
  readonly dense?: () => Matrix | undefined
}

/**
 * The adapter from the fixed-point form v = M v + b to A v = b with A = I − M: the system keeps
 * M as its `complement` (so fixed-point solvers apply M itself) and forms A v as v − M v. Used by
 * `linearSystemAt` (M = ∂₁Φᵀ); b is held as given.
 */
export const fixedPointSystem = (complement: (v: RVec) => Vec, b: RVec, opts: FixedPointSystemOptions): LinearSystem => {
  const st = opts.stochastic
  return {
    dim: b.length,
    matvec: iMinus(complement),
    complement,
    rhs: b,
    symmetric: opts.symmetric,
    ...(opts.q === undefined ? {} : { q: opts.q }),
    ...(opts.dense === undefined ? {} : { dense: opts.dense }),
    ...(st === undefined
      ? {}
      : { nSamples: st.nSamples, complementHat: st.complementHat, matvecHat: (batch: Batch, v: RVec) => iMinus((u) => st.complementHat(batch, u))(v) }),
  }
}
