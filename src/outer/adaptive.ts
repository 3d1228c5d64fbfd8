/**
 * AID with accuracy control: instead of fixed t and k, the inner solvers stop when the
 * a posteriori bound of Ehrhardt & Roberts on ‖∇̂f − ∇f‖ (src/bounds/ehrhardtRoberts.ts) falls
 * below a target. The bound splits into a lower-level part, increasing in g = ‖∇₁ℓ(ŵ)‖, and a
 * linear-system part β‖r‖/τ (β = ‖∇²_{wλ}ℓ(ŵ)‖, r the residual). Each half of the target sets a
 * stopping tolerance for one solver (from the quantities at the start point); after the run
 * the bound is recomputed at the returned (ŵ, v) — that is the certificate — and, if it still
 * exceeds the target, AID continues from (ŵ, v) with tighter tolerances.
 */
import * as E from 'fp-ts/lib/Either.js'
import { aPosterioriInputsAt } from '../bounds/constants.js'
import { aPosterioriBound, type APosterioriInputs } from '../bounds/ehrhardtRoberts.js'
import { hgError, type HypergradError } from '../errors.js'
import { aid } from '../hypergrad/aid.js'
import type { HypergradResult } from '../hypergrad/types.js'
import type { RVec } from '../linalg/types.js'
import type { ErmProblem } from '../problem/erm.js'
import type { LinearSolver, LowerSolver } from '../solvers/types.js'

export interface AdaptiveOptions {
  readonly lower: LowerSolver
  readonly linear: LinearSolver
  /** Target: the certified bound on ‖∇̂f − ∇f‖. */
  readonly tolerance: number
  /** Caps on the total inner iterations. */
  readonly maxT: number
  readonly maxK: number
  readonly w0?: RVec
  readonly v0?: RVec
  /** Continuation rounds when the certificate misses the target (default 6). */
  readonly maxRounds?: number
}

/** AID's result with its certificate: the a posteriori bound at the returned (ŵ, v), and the rounds run. */
export type AdaptiveResult = HypergradResult & {
  readonly bound: number
  readonly rounds: number
}

/** A result that did not diverge (its gradient and value are numbers). */
type Finite = Exclude<HypergradResult, { readonly status: 'diverged' }>

/** The g-dependent terms of the a posteriori bound (everything except β‖r‖/τ), as a·g² + b·g. */
const lowerCoefficients = (x: APosterioriInputs): { a: number; b: number } => {
  const { tau, LB, Lf } = x
  const LH = x.LH ?? 0
  const mu2 = x.mu2 ?? 0
  const beta = x.BNorm
  const G = x.gradUpperNorm
  return {
    a: (LB * Lf) / tau ** 3,
    b: (G * LB) / tau ** 2 + (beta * Lf) / tau ** 2 + (beta * LH * G) / tau ** 3 + mu2 / tau,
  }
}

/** The largest g with a·g² + b·g ≤ c. */
const solveQuadratic = (a: number, b: number, c: number): number =>
  a > 0 ? (-b + Math.sqrt(b * b + 4 * a * c)) / (2 * a) : b > 0 ? c / b : Infinity

/** AID run until its a posteriori bound is ≤ tolerance (or the iteration caps are reached). */
export const aidAdaptive = (problem: ErmProblem, lambda: RVec, opts: AdaptiveOptions): E.Either<HypergradError, AdaptiveResult> => {
  if (!(Number.isFinite(opts.tolerance) && opts.tolerance > 0))
    return E.left(hgError('domain', `aidAdaptive: tolerance must be positive, got ${opts.tolerance}`))
  if (opts.maxRounds !== undefined && !(Number.isInteger(opts.maxRounds) && opts.maxRounds >= 1))
    return E.left(hgError('domain', `aidAdaptive: maxRounds must be an integer ≥ 1, got ${opts.maxRounds}`))
  const d = problem.dim
  let w: RVec = opts.w0 ?? new Float64Array(d)
  let v: RVec = opts.v0 ?? new Float64Array(d)
  let usedT = 0
  let usedK = 0
  let share = 1
  const rounds = opts.maxRounds ?? 6
  let last: Finite | undefined
  let bound = Infinity
  const counts = { phi: 0, jacW: 0, jacLambda: 0 }
  for (let round = 0; round < rounds; round++) {
    const at = aPosterioriInputsAt(problem, lambda, w, v)
    if (E.isLeft(at)) return at
    const { a, b } = lowerCoefficients(at.right)
    const target = opts.tolerance * share
    const g = solveQuadratic(a, b, target / 2)
    const tolLower = Math.max(problem.alpha * g, 1e-300)
    const rTol = (target / 2) * at.right.tau / Math.max(at.right.BNorm, 1e-300)
    const tolLinear = Math.max(rTol / Math.max(at.right.gradUpperNorm, 1e-300), 1e-16)
    const r = aid(problem, lambda, {
      lower: opts.lower,
      linear: opts.linear,
      t: Math.max(0, opts.maxT - usedT),
      k: Math.max(0, opts.maxK - usedK),
      w0: w,
      v0: v,
      tolLower,
      tolLinear,
    })
    if (E.isLeft(r)) return r
    const res = r.right
    usedT += res.t
    usedK += res.k
    counts.phi += res.counts.phi
    counts.jacW += res.counts.jacW
    counts.jacLambda += res.counts.jacLambda
    if (res.status === 'diverged') return E.right({ ...res, t: usedT, k: usedK, counts, bound: Infinity, rounds: round + 1 })
    last = res
    w = res.w
    v = res.v
    const cert = aPosterioriInputsAt(problem, lambda, w, v)
    if (E.isLeft(cert)) return cert
    const bb = aPosterioriBound(cert.right)
    if (E.isLeft(bb)) return bb
    bound = bb.right
    if (bound <= opts.tolerance || (usedT >= opts.maxT && usedK >= opts.maxK))
      return E.right({ ...res, t: usedT, k: usedK, counts, bound, rounds: round + 1, status: bound <= opts.tolerance ? 'converged' : 'maxIter' })
    share *= Math.min(0.5, (0.5 * opts.tolerance) / bound)
  }
  const res = last!
  return E.right({ ...res, t: usedT, k: usedK, counts, bound, rounds, status: bound <= opts.tolerance ? 'converged' : 'maxIter' })
}
