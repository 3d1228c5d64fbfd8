/**
 * The logistic-regression workloads of the SID experiment on MNIST (odd/even, 5000 × 784,
 * scalar λ = 1): the full-batch gradient ∇ℓ(w, λ) and Hessian-vector product ∇²ℓ(w, λ)u, one
 * minibatch-50 gradient step (draw a minibatch, then Φ̂(w) = w − α∇ℓ̂(w, λ, B)) and one
 * minibatch-50 Hessian-vector step (draw, then ∂₁Φ̂ᵀv = v − α∇²ℓ̂ v), as the library runs them
 * (the WebAssembly row engine, src/linalg/rows/engine.ts) next to the TypeScript reference kernels
 * (the same arithmetic, bit for bit) and plain two-pass JavaScript loops (z = Xw, then Xᵀc).
 *
 * Ratio = time ÷ the time of the TypeScript reference kernel for the same work (rows of the
 * reference: ÷ the plain loops). numpy/OpenBLAS and PyTorch figures for the same workloads come
 * from bench/peers.sh; docs/performance.md sets them side by side.
 */
import * as E from 'fp-ts/lib/Either.js'
import { mnistOddEven } from '../src/data/mnist.js'
import { autoRowEngine } from '../src/linalg/rows/engine.js'
import { dpsi, logisticProblem, rowGradPassReference, rowHvpPassReference, type LogisticObjective } from '../src/problems/logistic.js'
import { minibatch, seed, uniformsIn } from '../src/random/rng.js'
import { plainLoops, timingRow, type BenchContext, type Row } from './harness.js'

const BATCH = 50
const E0 = new Float64Array(0)

export default function logistic(ctx: BenchContext): ReadonlyArray<Row> {
  const data = mnistOddEven()
  if (E.isLeft(data)) throw new Error(data.left.message)
  const { train, validation } = data.right
  const n = train.X.rows
  const p = train.X.cols
  const X = train.X.data
  const y = train.y
  const lam = Float64Array.of(1)
  const built = logisticProblem(train, validation, lam, { regularization: 'scalar' })
  if (E.isLeft(built)) throw new Error(built.left.message)
  const problem = built.right
  const obj = problem.lower as LogisticObjective
  const alpha = problem.alpha

  let rng = seed(20240601)
  const [w, r1] = uniformsIn(rng, p, -0.01, 0.01)
  const [u, r2] = uniformsIn(r1, p, -1, 1)
  rng = r2
  const out = new Float64Array(p)

  // References: the TypeScript kernels (bit-identical to the engine) and plain loops.
  const refGrad = (b: Int32Array | undefined, o: Float64Array): Float64Array => {
    rowGradPassReference(X, n, p, y, w, b, b === undefined ? 1 : n / b.length, 0, E0, E0, o)
    for (let j = 0; j < p; j++) o[j] = o[j]! + w[j]!
    return o
  }
  const refHvp = (v: Float64Array, b: Int32Array | undefined, o: Float64Array): Float64Array => {
    rowHvpPassReference(X, n, p, y, w, v, b, b === undefined ? 1 : n / b.length, 0, E0, E0, o)
    for (let j = 0; j < p; j++) o[j] = o[j]! + v[j]!
    return o
  }
  const z = new Float64Array(n)
  const cz = new Float64Array(n)
  const plainGrad = (o: Float64Array): Float64Array => {
    plainLoops.gemv(n, p, X, w, z)
    for (let i = 0; i < n; i++) cz[i] = y[i]! * dpsi(y[i]! * z[i]!)
    plainLoops.gemvT(n, p, X, cz, o)
    for (let j = 0; j < p; j++) o[j] = o[j]! + w[j]!
    return o
  }
  const plainHvp = (o: Float64Array): Float64Array => {
    plainLoops.gemv(n, p, X, w, z)
    plainLoops.gemv(n, p, X, u, cz)
    for (let i = 0; i < n; i++) {
      const e = Math.exp(-Math.abs(y[i]! * z[i]!))
      cz[i] = (e / ((1 + e) * (1 + e))) * cz[i]!
    }
    plainLoops.gemvT(n, p, X, cz, o)
    for (let j = 0; j < p; j++) o[j] = o[j]! + u[j]!
    return o
  }

  // Check before timing: the engine path gives the reference's bits; plain loops agree closely.
  for (let k = 0; k < 3; k++) obj.gradInto(w, lam, out)
  if (autoRowEngine(obj.train.X) === undefined) throw new Error('the row engine did not take over the MNIST matrix')
  const same = (a: Float64Array, b: Float64Array): boolean => a.every((x, i) => Object.is(x, b[i]))
  if (!same(obj.grad(w, lam), refGrad(undefined, new Float64Array(p)))) throw new Error('engine gradient differs from the reference')
  if (!same(obj.hvp(w, lam, u), refHvp(u, undefined, new Float64Array(p)))) throw new Error('engine HVP differs from the reference')
  const b0 = Int32Array.of(3, 4000, 17, 17, 2500, 999, 42)
  if (!same(obj.grad(w, lam, b0), refGrad(b0, new Float64Array(p)))) throw new Error('engine minibatch gradient differs from the reference')
  if (!same(obj.hvp(w, lam, u, b0), refHvp(u, b0, new Float64Array(p)))) throw new Error('engine minibatch HVP differs from the reference')
  const pg = plainGrad(new Float64Array(p))
  const rg = refGrad(undefined, new Float64Array(p))
  for (let j = 0; j < p; j++) if (Math.abs(pg[j]! - rg[j]!) > 1e-9 * (1 + Math.abs(rg[j]!))) throw new Error(`plain gradient disagrees at ${j}`)

  const m = ctx.measure
  const rows: Row[] = []
  const layout = autoRowEngine(obj.train.X)!.layout()

  const gPlain = m(`logistic gradient full batch ${n}×${p}: plain JS loops (2 passes)`, () => plainGrad(out))
  const gRef = m(`logistic gradient full batch ${n}×${p}: TypeScript reference kernel`, () => refGrad(undefined, out))
  const gEng = m(`logistic gradient full batch ${n}×${p}`, () => obj.gradInto(w, lam, out))
  rows.push(timingRow(gPlain, { notes: 'z = Xw, c = yψ\'(yz), Xᵀc + λw: single-accumulator loops' }))
  rows.push(timingRow(gRef, { baseline: gPlain, notes: 'fused one pass over rows, 4 rows per block (the bit-for-bit reference)' }))
  rows.push(timingRow(gEng, { baseline: gRef, notes: `WebAssembly SIMD row engine, layout ${layout}; same bits as the reference` }))

  const hPlain = m(`logistic HVP full batch ${n}×${p}: plain JS loops (3 passes)`, () => plainHvp(out))
  const hRef = m(`logistic HVP full batch ${n}×${p}: TypeScript reference kernel`, () => refHvp(u, undefined, out))
  const hEng = m(`logistic HVP full batch ${n}×${p}`, () => obj.hvpInto(w, lam, u, out))
  rows.push(timingRow(hPlain, { notes: 'Xw, Xu, then Xᵀ(D·Xu) + λu' }))
  rows.push(timingRow(hRef, { baseline: hPlain, notes: 'fused one pass: xᵢᵀw and xᵢᵀu in one loop, then the axpy (the bit-for-bit reference)' }))
  rows.push(timingRow(hEng, { baseline: hRef, notes: `WebAssembly SIMD row engine (${layout}); at a fixed w the curvature weights are kept between calls (as numpy's hvp keeps D), one gather of xᵢᵀu per call` }))

  // Minibatch steps: draw (as the SID solvers do) and one map evaluation.
  let r = rng
  const draw = (): Int32Array => {
    const [b, next] = minibatch(r, n, BATCH)
    r = next
    return b
  }
  const stepRef = (): Float64Array => {
    const g = refGrad(draw(), new Float64Array(p))
    for (let j = 0; j < p; j++) g[j] = w[j]! - alpha * g[j]!
    return g
  }
  const hvpStepRef = (): Float64Array => {
    const h = refHvp(u, draw(), new Float64Array(p))
    for (let j = 0; j < p; j++) h[j] = u[j]! - alpha * h[j]!
    return h
  }
  const sRef = m(`minibatch-${BATCH} gradient step: TypeScript reference kernel`, stepRef)
  const sEng = m(`minibatch-${BATCH} gradient step (draw + Φ̂ = w − α∇ℓ̂)`, () => problem.phiHat(w, lam, draw()))
  const dOnly = m(`minibatch-${BATCH} draw without replacement`, draw)
  const hsRef = m(`minibatch-${BATCH} HVP step: TypeScript reference kernel`, hvpStepRef)
  const hsEng = m(`minibatch-${BATCH} HVP step (draw + ∂₁Φ̂ᵀv = v − α∇²ℓ̂ v)`, () => problem.vjpWHat(w, lam, draw(), u))
  rows.push(timingRow(sRef, { notes: 'draw + reference kernel + step' }))
  const mini = layout
  rows.push(timingRow(sEng, { baseline: sRef, notes: `WebAssembly row engine, layout ${mini}; same bits as the reference` }))
  rows.push(timingRow(dOnly, { notes: 'Floyd sampling (src/random), part of both step rows' }))
  rows.push(timingRow(hsRef, { notes: 'draw + reference kernel + step' }))
  rows.push(timingRow(hsEng, { baseline: hsRef, notes: `WebAssembly row engine (${mini}): xᵢᵀw and xᵢᵀv in one pass over each row` }))
  return rows
}
