/**
 * Exact hypergradients on MNIST (odd/even, 5000 × 784, scalar λ = 1), the workloads of the
 * peers' numpy_ref.py:
 *
 *  - CG: at the exact w(λ), conjugate gradient on (I − ∂₁Φᵀ)v = ∇₁E with Hessian-vector
 *    products to relative residual 1e-10, then ∇f = ∇₂E + ∂₂Φᵀv — through the public `aid`
 *    (t = 0 lower steps from w₀ = w(λ), conjugateGradient({ tol: 1e-10 })). scipy's cg with the
 *    same tolerance takes 243 iterations here.
 *  - exact given w: `exact` started at w(λ) (Newton stops at once): the dense I − ∂₁Φ = α∇²ℓ
 *    from the sparse Gram matrix, Cholesky, one solve. numpy: XᵀDX by gemm + Cholesky.
 *  - exact from w = 0: Newton with the dense Hessian and Cholesky, then the same.
 *
 * Each result is checked against the peers' ground truth ∇f(1) = −72.29292724230 (numpy_ref.py,
 * central differences agree to 1e-9) before timing.
 */
import * as E from 'fp-ts/lib/Either.js'
import { mnistOddEven } from '../src/data/mnist.js'
import { aid } from '../src/hypergrad/aid.js'
import { exact } from '../src/hypergrad/exact.js'
import { logisticProblem } from '../src/problems/logistic.js'
import { conjugateGradient } from '../src/solvers/linear/conjugateGradient.js'
import { fixedPointIteration } from '../src/solvers/lower/fixedPoint.js'
import { timingRow, type BenchContext, type Row } from './harness.js'

/** ∇f(1) on the reference split, from the peers' numpy_ref.py (RESULTS.md). */
export const TRUTH_LAMBDA_1 = -72.2929272423

export default function exactBench(ctx: BenchContext): ReadonlyArray<Row> {
  const data = mnistOddEven()
  if (E.isLeft(data)) throw new Error(data.left.message)
  const { train, validation } = data.right
  const lam = Float64Array.of(1)
  const built = logisticProblem(train, validation, lam, { regularization: 'scalar' })
  if (E.isLeft(built)) throw new Error(built.left.message)
  const problem = built.right

  const ex = exact(problem, lam)
  if (E.isLeft(ex)) throw new Error(ex.left.message)
  if (ex.right.status === 'diverged') throw new Error(`exact diverged: ${ex.right.reason}`)
  const wStar = ex.right.w
  const relErr = (g: number): number => Math.abs(g - TRUTH_LAMBDA_1) / Math.abs(TRUTH_LAMBDA_1)
  if (!(relErr(ex.right.gradient[0]!) < 1e-9)) throw new Error(`exact: ∇f(1) = ${ex.right.gradient[0]} disagrees with the ground truth`)

  const cgOpts = { lower: fixedPointIteration(), linear: conjugateGradient({ tol: 1e-10 }), t: 0, k: 100_000, w0: wStar }
  const cgRun = aid(problem, lam, cgOpts)
  if (E.isLeft(cgRun)) throw new Error(cgRun.left.message)
  if (cgRun.right.status === 'diverged') throw new Error(`CG diverged: ${cgRun.right.reason}`)
  const iters = cgRun.right.k
  const cgErr = relErr(cgRun.right.gradient[0]!)
  if (!(cgErr < 1e-8)) throw new Error(`CG: ∇f(1) = ${cgRun.right.gradient[0]} is off by ${cgErr}`)

  const m = ctx.measure
  const long = { repeats: 5, warmup: 1, minMs: 1 }
  const cg = m('exact hypergradient by CG to 1e-10 relative residual, λ = 1 (given w)', () => {
    const r = aid(problem, lam, cgOpts)
    return E.isRight(r) ? r.right.gradient : 0
  }, long)
  const given = m('exact hypergradient given w: dense Hessian + Cholesky, λ = 1', () => {
    const r = exact(problem, lam, { w: wStar })
    return E.isRight(r) ? r.right.gradient : 0
  }, long)
  const fromZero = m('exact from w = 0: Newton (dense Hessian, Cholesky) + solve, λ = 1', () => {
    const r = exact(problem, lam)
    return E.isRight(r) ? r.right.gradient : 0
  }, long)
  return [
    timingRow(cg, {
      notes: `${iters} CG iterations (${(cg.medianMs / (iters + 1)).toFixed(2)} ms per HVP + CG step), rel. error ${cgErr.toExponential(1)} vs the ground truth`,
    }),
    timingRow(given, { notes: 'Xᵀ diag(D) X over the sparse rows (WebAssembly, same bits as weightedGram) + Cholesky (linalg/matrix.ts) + one solve' }),
    timingRow(fromZero, { notes: `${ex.right.t} Newton steps, final ‖w − Φ(w)‖ = ${ex.right.lowerResiduals.at(-1)?.toExponential(1)}` }),
  ]
}
