// Run by degrade.test.ts in a child process, with and without a limit on virtual memory: the
// row passes of large dense and CSR problems, printed as one hash of all their bits.
import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { csrFromDense } from '../csr.js'
import { matrix } from '../types.js'
import { logisticProblem } from '../../problems/logistic.js'
import { softmaxProblem } from '../../problems/softmax.js'
import { normals, seed, uniforms } from '../../random/rng.js'

const data = (s: number, n: number, p: number, classes: number) => {
  const [u, r1] = uniforms(seed(s), n * p)
  const [g, r2] = normals(r1, n * p)
  const [l] = uniforms(r2, n)
  const X = matrix(n, p, Float64Array.from(u, (x, i) => (x < 0.3 ? g[i]! : 0)))
  const y = Float64Array.from(l, (x) => (classes === 2 ? (x < 0.5 ? -1 : 1) : Math.floor(x * classes)))
  return { X, y, ...(classes === 2 ? {} : { nClasses: classes }) }
}

/** The hash of the bits of a sequence of row passes on large dense and CSR problems. */
export const rowPassesHash = (): string => {
  const hash = createHash('sha256')
  const add = (v: Float64Array | number): void => {
    const a = typeof v === 'number' ? Float64Array.of(v) : v
    hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
  }
  const train = data(1, 400, 300, 2)
  const validation = data(2, 300, 300, 2)
  for (const layout of ['dense', 'csr'] as const) {
    const tr = layout === 'dense' ? train : { ...train, X: csrFromDense(train.X) }
    const va = layout === 'dense' ? validation : { ...validation, X: csrFromDense(validation.X) }
    const lam = Float64Array.of(0.5)
    const prob = logisticProblem(tr, va, lam, { regularization: 'scalar', alpha: 0.01 })
    if (E.isLeft(prob)) throw new Error(prob.left.message)
    const [w] = normals(seed(3), 300)
    for (let k = 0; k < 3; k++) {
      add(prob.right.phi(w, lam))
      add(prob.right.jvpW(w, lam, w))
      add(prob.right.gradUpperW(w, lam))
      add(prob.right.phiHat(w, lam, Int32Array.of(5, 9, 399, 5)))
    }
    add(prob.right.alpha)
  }
  const sm = softmaxProblem(data(4, 300, 250, 3), data(5, 200, 250, 3), Float64Array.of(0.3), { regularization: 'scalar', alpha: 0.01 })
  if (E.isLeft(sm)) throw new Error(sm.left.message)
  const [W] = normals(seed(6), 750)
  add(sm.right.phi(W, Float64Array.of(0.3)))
  return hash.digest('hex')
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) console.log(rowPassesHash())
