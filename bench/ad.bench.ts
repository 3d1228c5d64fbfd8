/**
 * The `ad` engine against the fused hand-written kernels, on the logistic-regression workloads of
 * the SID experiment (MNIST odd/even, 5000 × 784, scalar λ = 1): the full-batch gradient ∇ℓ(w, λ)
 * and Hessian-vector product ∇²ℓ(w, λ)u, and one minibatch-50 gradient step and Hessian-vector
 * step (draw, then the product on the batch).
 *
 * The engine's ℓ is the model of SID §6 written with `ad` operations,
 *   ℓ(w, λ) = (n/|B|) Σ_{i∈B} softplus(−yᵢ xᵢᵀw) + (λ/2)‖w‖²,
 * replayed through `gradWInto` / `hvpInto` (no allocation per call). The hand-written side is
 * `LogisticObjective.gradInto` / `hvpInto` (src/problems/logistic.ts). Both run their products
 * with X on linalg's WebAssembly row engine. Ratio = engine time ÷ hand-written time, measured in
 * the same run: first each workload timed on its own (as the other bench files do), then each
 * pair interleaved — rounds of ≥ 20 ms of the hand-written call, then ≥ 20 ms of the engine's —
 * whose ratio is the median of the per-round ratios (on a shared machine the load changes
 * between two workloads timed one after the other; within a round it mostly does not).
 */
import * as E from 'fp-ts/lib/Either.js'
import { PerformanceObserver } from 'node:perf_hooks'
import * as ad from '../src/ad/index.js'
import { mnistOddEven } from '../src/data/mnist.js'
import { logisticObjective } from '../src/problems/logistic.js'
import { minibatch, seed, uniformsIn } from '../src/random/rng.js'
import { timingRow, type BenchContext, type Row, type Timing } from './harness.js'

const BATCH = 50

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** ms per call of fn over at least `minMs`. */
const perCall = (fn: () => unknown, minMs: number): number => {
  let k = 0
  const t0 = performance.now()
  let t1 = t0
  do {
    fn()
    k++
    t1 = performance.now()
  } while (t1 - t0 < minMs)
  return (t1 - t0) / k
}

/** The interleaved comparison of a pair (see the module comment): a row for the engine, ratio = median round ratio. */
const interleaved = (name: string, baseline: Timing, hand: () => unknown, eng: () => unknown, rounds: number, notes: string): Row => {
  for (let k = 0; k < 5; k++) (hand(), eng())
  const ratios: number[] = []
  const times: number[] = []
  for (let r = 0; r < rounds; r++) {
    const h = perCall(hand, 20)
    const e = perCall(eng, 20)
    ratios.push(e / h)
    times.push(e)
  }
  const lo = Math.min(...ratios), hi = Math.max(...ratios)
  return {
    workload: name,
    medianMs: median(times),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    ratio: median(ratios),
    baseline: baseline.name,
    notes: `${notes}; ${rounds} interleaved rounds, round ratios [${lo.toFixed(2)}, ${hi.toFixed(2)}]`,
    repeats: rounds,
  }
}

/**
 * Garbage collections observed while `fn` runs `calls` times (none means the calls allocate
 * nothing that survives, or nothing at all: V8 collects the young generation when it fills).
 */
const collectionsDuring = async (fn: () => unknown, calls: number): Promise<{ readonly collections: number; readonly ms: number }> => {
  let collections = 0
  const obs = new PerformanceObserver((list) => (collections += list.getEntries().length))
  await new Promise((r) => setTimeout(r, 50)) // let pending collections report first
  obs.observe({ entryTypes: ['gc'] })
  const t0 = performance.now()
  for (let k = 0; k < calls; k++) fn()
  const ms = performance.now() - t0
  await new Promise((r) => setTimeout(r, 50))
  obs.disconnect()
  return { collections, ms }
}

export default async function adBench(ctx: BenchContext): Promise<ReadonlyArray<Row>> {
  const data = mnistOddEven()
  if (E.isLeft(data)) throw new Error(data.left.message)
  const { train } = data.right
  const { X, y } = train
  const n = X.rows
  const p = X.cols
  const lam = Float64Array.of(1)
  const hand = logisticObjective(train, 'scalar')
  const built = ad.scalarFunction({ w: p, lambda: 1, nSamples: n, name: 'logistic' }, (w, l, batch) =>
    ad.add(
      ad.mul(batch.scale, ad.sum(ad.softplus(ad.neg(ad.mul(batch.rows(y), ad.matvec(batch.rows(X), w)))))),
      ad.mul(ad.mul(0.5, l), ad.dot(w, w)),
    ),
  )
  if (E.isLeft(built)) throw new Error(built.left.message)
  const f = built.right

  let rng = seed(20240601)
  const [w, r1] = uniformsIn(rng, p, -0.01, 0.01)
  const [u, r2] = uniformsIn(r1, p, -1, 1)
  rng = r2
  const out = new Float64Array(p)

  const check = (what: string, a: Float64Array, b: Float64Array): void => {
    let d = 0, s = 0
    for (let j = 0; j < p; j++) ((d = Math.max(d, Math.abs(a[j]! - b[j]!))), (s += b[j]! * b[j]!))
    if (!(d <= 1e-12 * Math.sqrt(s))) throw new Error(`ad bench: the engine's ${what} differs from the hand-written one by ${d}`)
  }
  const engGrad = (b: Int32Array | undefined, o: Float64Array): Float64Array => {
    const e = f.gradWInto(w, lam, o, b)
    if (e !== undefined) throw new Error(e.message)
    return o
  }
  const engHvp = (b: Int32Array | undefined, o: Float64Array): Float64Array => {
    const e = f.hvpInto(w, lam, u, o, b)
    if (e !== undefined) throw new Error(e.message)
    return o
  }
  // Warm both (the row engine takes a matrix from its second pass on), then check before timing.
  for (let k = 0; k < 3; k++) {
    hand.gradInto(w, lam, out)
    engGrad(undefined, out)
  }
  check('gradient', engGrad(undefined, new Float64Array(p)), hand.grad(w, lam))
  check('Hessian-vector product', engHvp(undefined, new Float64Array(p)), hand.hvp(w, lam, u))
  const b0 = Int32Array.of(3, 4000, 17, 17, 2500, 999, 42)
  check('minibatch gradient', engGrad(b0, new Float64Array(p)), hand.grad(w, lam, b0))
  check('minibatch Hessian-vector product', engHvp(b0, new Float64Array(p)), hand.hvp(w, lam, u, b0))

  const m = ctx.measure
  const rows: Row[] = []
  const gHand = m(`ad: logistic gradient full batch ${n}×${p}, hand-written (LogisticObjective.gradInto)`, () => hand.gradInto(w, lam, out))
  const gEng = m(`ad: logistic gradient full batch ${n}×${p}, engine (gradWInto)`, () => engGrad(undefined, out))
  rows.push(timingRow(gHand, { notes: 'fused row pass on the WebAssembly row engine' }))
  rows.push(timingRow(gEng, { baseline: gHand, notes: 'tape replay; X·w and Xᵀc fused into one row-engine pass, the elementwise chain in one loop' }))
  const hHand = m(`ad: logistic HVP full batch ${n}×${p}, hand-written (LogisticObjective.hvpInto)`, () => hand.hvpInto(w, lam, u, out))
  const hEng = m(`ad: logistic HVP full batch ${n}×${p}, engine (hvpInto)`, () => engHvp(undefined, out))
  rows.push(timingRow(hHand, { notes: 'fused row pass on the WebAssembly row engine' }))
  rows.push(timingRow(hEng, { baseline: hHand, notes: 'forward-over-reverse replay; X·w, X·u and Xᵀ(…) in one row-engine pass' }))

  let r = rng
  const draw = (): Int32Array => {
    const [b, next] = minibatch(r, n, BATCH)
    r = next
    return b
  }
  const sHand = m(`ad: minibatch-${BATCH} gradient (draw + product), hand-written`, () => hand.gradInto(w, lam, out, draw()))
  const sEng = m(`ad: minibatch-${BATCH} gradient (draw + product), engine`, () => engGrad(draw(), out))
  rows.push(timingRow(sHand, { notes: 'draw + LogisticObjective.gradInto on the batch' }))
  rows.push(timingRow(sEng, { baseline: sHand, notes: 'draw + the tape of batch size 50' }))
  const shHand = m(`ad: minibatch-${BATCH} HVP (draw + product), hand-written`, () => hand.hvpInto(w, lam, u, out, draw()))
  const shEng = m(`ad: minibatch-${BATCH} HVP (draw + product), engine`, () => engHvp(draw(), out))
  rows.push(timingRow(shHand, { notes: 'draw + LogisticObjective.hvpInto on the batch' }))
  rows.push(timingRow(shEng, { baseline: shHand, notes: 'draw + the tape of batch size 50' }))

  const rounds = ctx.quick ? 7 : 15
  rows.push(interleaved('ad: logistic gradient full batch, engine ÷ hand-written, interleaved', gHand, () => hand.gradInto(w, lam, out), () => engGrad(undefined, out), rounds, 'the full-batch gradient pair'))
  rows.push(interleaved('ad: logistic HVP full batch, engine ÷ hand-written, interleaved', hHand, () => hand.hvpInto(w, lam, u, out), () => engHvp(undefined, out), rounds, 'the full-batch HVP pair'))
  const B = draw()
  rows.push(interleaved(`ad: minibatch-${BATCH} gradient, engine ÷ hand-written, interleaved`, sHand, () => hand.gradInto(w, lam, out, B), () => engGrad(B, out), rounds, 'one fixed batch, no draw'))
  rows.push(interleaved(`ad: minibatch-${BATCH} HVP, engine ÷ hand-written, interleaved`, shHand, () => hand.hvpInto(w, lam, u, out, B), () => engHvp(B, out), rounds, 'one fixed batch, no draw'))

  // Steady state: the in-place products allocate nothing (no collection over many calls).
  const calls = ctx.quick ? 100 : 400
  const four = (): void => {
    engGrad(undefined, out)
    engHvp(undefined, out)
    engGrad(B, out)
    engHvp(B, out)
  }
  const gc = await collectionsDuring(four, calls)
  rows.push({
    workload: 'ad: garbage collections during engine products (gradWInto, hvpInto; full batch and minibatch-50)',
    medianMs: gc.ms / calls,
    minMs: gc.ms / calls,
    maxMs: gc.ms / calls,
    ratio: null,
    baseline: null,
    notes: `${gc.collections} collections in ${calls} rounds of the four products (ms per round)`,
    repeats: 1,
  })
  return rows
}
