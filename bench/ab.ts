// Two checkouts of the library timed against each other in one process, interleaved.
//
//   node --import tsx bench/ab.ts <checkout A> <checkout B> [rounds]
//
// On a shared machine the time of a workload drifts by 1.5× or more between minutes, so two
// `npm run bench` runs of two commits, even back to back, cannot show a change of a few percent.
// Here both checkouts load MNIST and build the logistic problem at λ = 1 in the same process, and
// each round times one workload on A then on B (on B then A in odd rounds, so that neither side
// always runs first): a noise burst hits both sides of a round alike, and the median of the
// per-round ratios B ÷ A is the comparison. Workloads: the full-batch gradient and HVP (5000 × 784)
// and the minibatch-50 steps Φ̂ and ∂₁Φ̂ᵀv of a SID epoch, each with its own draw.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

interface Side {
  readonly root: string
  readonly workloads: Readonly<Record<string, () => unknown>>
}

const load = async (root: string): Promise<Side> => {
  const at = (p: string): string => pathToFileURL(resolve(root, p)).href
  const E = (await import(at('node_modules/fp-ts/lib/Either.js'))) as typeof import('fp-ts/lib/Either.js')
  const { mnistOddEven } = (await import(at('src/data/mnist.ts'))) as typeof import('../src/data/mnist.js')
  const { logisticProblem } = (await import(at('src/problems/logistic.ts'))) as typeof import('../src/problems/logistic.js')
  type Objective = import('../src/problems/logistic.js').LogisticObjective
  const { minibatch, seed, uniformsIn } = (await import(at('src/random/rng.ts'))) as typeof import('../src/random/rng.js')
  const data = mnistOddEven()
  if (E.isLeft(data)) throw new Error(`${root}: ${data.left.message}`)
  const { train, validation } = data.right
  const lam = Float64Array.of(1)
  const built = logisticProblem(train, validation, lam, { regularization: 'scalar' })
  if (E.isLeft(built)) throw new Error(`${root}: ${built.left.message}`)
  const problem = built.right
  const obj = problem.lower as Objective
  const p = train.X.cols
  const n = train.X.rows
  const [w, r1] = uniformsIn(seed(20240601), p, -0.01, 0.01)
  const [u, r2] = uniformsIn(r1, p, -1, 1)
  const out = new Float64Array(p)
  let rng = r2
  const draw = (): Int32Array => {
    const [b, next] = minibatch(rng, n, 50)
    rng = next
    return b
  }
  return {
    root,
    workloads: {
      'full-batch gradient': () => obj.gradInto(w, lam, out),
      'full-batch HVP': () => obj.hvpInto(w, lam, u, out),
      'minibatch-50 Φ̂ step': () => problem.phiHat(w, lam, draw()),
      'minibatch-50 ∂₁Φ̂ᵀv step': () => problem.vjpWHat(w, lam, draw(), u),
    },
  }
}

const [rootA, rootB, roundsArg] = process.argv.slice(2)
if (rootA === undefined || rootB === undefined) {
  console.error('usage: node --import tsx bench/ab.ts <checkout A> <checkout B> [rounds]')
  process.exit(2)
}
for (const r of [rootA, rootB]) {
  if (!existsSync(resolve(r, 'src/problems/logistic.ts')) || !existsSync(resolve(r, 'node_modules'))) {
    console.error(`ab: ${r} is not a checkout with node_modules`)
    process.exit(2)
  }
}
const rounds = roundsArg === undefined ? 40 : Number(roundsArg)
if (!Number.isInteger(rounds) || rounds < 2) {
  console.error(`ab: rounds must be an integer ≥ 2, got ${roundsArg}`)
  process.exit(2)
}

const sides = [await load(rootA), await load(rootB)] as const
/** Calls per timing: each timing lasts a few milliseconds. */
const calls: Record<string, number> = { 'full-batch gradient': 10, 'full-batch HVP': 10, 'minibatch-50 Φ̂ step': 400, 'minibatch-50 ∂₁Φ̂ᵀv step': 400 }
const time = (f: () => unknown, k: number): number => {
  const t0 = performance.now()
  for (let i = 0; i < k; i++) f()
  return (performance.now() - t0) / k
}
const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(q * (s.length - 1))]!
}

console.log(`A = ${rootA}\nB = ${rootB}\n${rounds} interleaved rounds per workload`)
console.log('workload                       A median ms  B median ms   B ÷ A median [10%, 90% of rounds]')
for (const [name, k] of Object.entries(calls)) {
  const fa = sides[0].workloads[name]!
  const fb = sides[1].workloads[name]!
  time(fa, k)
  time(fb, k)
  const ta: number[] = []
  const tb: number[] = []
  const ratio: number[] = []
  for (let round = 0; round < rounds; round++) {
    let a: number
    let b: number
    if (round % 2 === 0) {
      a = time(fa, k)
      b = time(fb, k)
    } else {
      b = time(fb, k)
      a = time(fa, k)
    }
    ta.push(a)
    tb.push(b)
    ratio.push(b / a)
  }
  console.log(
    `${name.padEnd(30)} ${quantile(ta, 0.5).toFixed(4).padStart(11)}  ${quantile(tb, 0.5).toFixed(4).padStart(11)}   ` +
      `${quantile(ratio, 0.5).toFixed(3)} [${quantile(ratio, 0.1).toFixed(3)}, ${quantile(ratio, 0.9).toFixed(3)}]`,
  )
}
