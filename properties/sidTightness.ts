/**
 * How tight are the SID paper's bounds on the library's solvers? Prints the markdown tables of
 * docs/theory/sid.md: for each bound, the observed error (exact where the map is affine, a
 * Monte Carlo mean otherwise), the bound, and their ratio.
 *
 *   npx tsx properties/sidTightness.ts [N]        (N Monte Carlo runs per point, default 1000)
 */
import { mseFloor } from '../src/bounds/sid.js'
import { orThrow } from '../src/errors.js'
import { choleskySolve, cholesky, denseOf } from '../src/linalg/index.js'
import {
  LOGISTIC_LAMBDA,
  SQ_LAMBDA,
  exactLowerCurve,
  lowerLogistic,
  lowerQuadratic,
  sidConstants,
  sidExperiment,
  sidLogistic,
  sidQuadratic,
  thm51Schedule,
  type LowerExperiment,
  type SidExperiment,
} from './sidExperiments.js'
import { enumerateBatches, squaredDistance } from './sidFixtures.js'

const N = Number(process.argv[2] ?? 1000)
const fmt = (x: number): string => (x === 0 ? '0' : Math.abs(x) >= 0.01 && Math.abs(x) < 1000 ? x.toPrecision(3) : x.toExponential(2))
const ratio = (bound: number, observed: number): string => (observed > 0 ? fmt(bound / observed) : '—')

const lowerTable = (es: ReadonlyArray<LowerExperiment>): string => {
  const lines = ['| bound | problem | t | observed E‖wₜ − w*‖² | bound | bound / observed |', '|---|---|---|---|---|---|']
  for (const e of es)
    e.rows.forEach((r, i) => {
      if (r.t === 0) return
      const obs = e.exact?.[i] ?? r.observed
      const how = e.exact === undefined ? ` (MC, ≤ ${fmt(r.upper)})` : ' (exact)'
      lines.push(`| ${e.theorem} | ${e.name} | ${r.t} | ${fmt(obs)}${how} | ${fmt(r.bound)} | ${ratio(r.bound, obs)} |`)
    })
  return lines.join('\n')
}

const sidTable = (es: ReadonlyArray<SidExperiment>): string => {
  const lines = [
    '| problem | t = k | bias ‖E∇̂f − ∇f‖ (MC) | Thm 3.1(ii) | ratio | MSE (MC) | Thm 3.4 | ratio |',
    '|---|---|---|---|---|---|---|---|',
  ]
  for (const e of es)
    for (const r of e.rows)
      lines.push(
        `| ${e.name} | ${r.t} | ${fmt(r.bias)} (≤ ${fmt(r.biasUpper)}) | ${fmt(r.biasBound)} | ${ratio(r.biasBound, r.biasUpper)}–${ratio(r.biasBound, r.bias)} | ${fmt(r.mse)} | ${fmt(r.mseBound)} | ${ratio(r.mseBound, r.mse)} |`,
      )
  return lines.join('\n')
}

const started = Date.now()
const lower = [
  lowerQuadratic('constant', N),
  lowerQuadratic('decreasing', N),
  lowerLogistic('thm41', N),
  lowerLogistic('thm42', N),
  lowerLogistic('cor41', N),
]
console.log(`### Lower-level iteration (17) (N = ${N} Monte Carlo runs per point)\n`)
console.log(lowerTable(lower))
for (const e of lower) console.log(`\n${e.theorem} on ${e.name}: ${Object.entries(e.constants).map(([k, v]) => `${k} = ${fmt(v)}`).join(', ')}`)

const quadNonSep = sidQuadratic(false)
const quadSep = sidQuadratic(true)
const checkpoints = [10, 60, 200]
const curve = exactLowerCurve(quadNonSep, SQ_LAMBDA, thm51Schedule(quadNonSep, SQ_LAMBDA, 2), 2, 200)
const sids = [
  sidExperiment('quadratic, m₂ > 0, Thm 5.1 ρ, σ', quadNonSep, SQ_LAMBDA, { schedule: 'decreasing', checkpoints, N }),
  sidExperiment('quadratic, m₂ > 0, exact ρ, Thm 5.1 σ', quadNonSep, SQ_LAMBDA, { schedule: 'decreasing', checkpoints, N, rho: (t) => curve[t]!, seedBase: 5000 }),
  sidExperiment('quadratic, separable, Thm 5.1 ρ, σ', quadSep, SQ_LAMBDA, { schedule: 'decreasing', checkpoints, N, seedBase: 30000 }),
  sidExperiment('logistic, Thm 5.1 ρ, σ', sidLogistic(), LOGISTIC_LAMBDA, { schedule: 'decreasing', checkpoints, N, b: 3 }),
]
console.log(`\n### SID (Algorithm 1 with sgd and stochasticFixedPoint, β/(γ+i) steps of Thm 5.1; N = ${N})\n`)
console.log(sidTable(sids))
for (const e of sids) console.log(`\n${e.name}: ${Object.entries(e.constants).map(([k, v]) => `${k} = ${fmt(v)}`).join(', ')}`)

// The floor (14) against the true limit of the MSE when m₂ > 0.
{
  const P = quadNonSep.problem
  const k = sidConstants(quadNonSep, SQ_LAMBDA, 2)
  const wStar = quadNonSep.solution(SQ_LAMBDA)
  const M = denseOf(P.dim, (v) => Float64Array.from(v, (x, j) => x - P.vjpW(wStar, SQ_LAMBDA, v)[j]!))
  const vStar = choleskySolve(cholesky(M)!, P.gradUpperW(wStar, SQ_LAMBDA))
  const full = P.vjpLambda(wStar, SQ_LAMBDA, vStar)
  const batches = enumerateBatches(P.nSamples, 2, false)
  const limit = batches.reduce((s, B) => s + squaredDistance(P.vjpLambdaHat(wStar, SQ_LAMBDA, B, vStar), full), 0) / batches.length
  const floor = orThrow(mseFloor({ m2: k.m2, LE: k.LE, q: k.q }))
  console.log(`\n### The floor (14)\n\nquadratic, m₂ > 0: lim MSE = E‖(∂₂Φ̂_B − ∂₂Φ)ᵀv*‖² = ${fmt(limit)} (exact); floor 2m₂L_E²/(1−q)² = ${fmt(floor)}; ratio ${ratio(floor, limit)}`)
}
console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`)
