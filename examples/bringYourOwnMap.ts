import { ad, adFixedPointProblem, aid, exact, itd, linalg, orThrow, random, solvers } from 'hypergrad'
import type { HypergradResult } from 'hypergrad'
import { checkProblem, formatFailures } from 'hypergrad/laws'

// An equilibrium layer: w(λ) solves w = tanh(Aw + λ), with ‖A‖₂ = q < 1 and a bias λ ∈ Rᵈ;
// the upper level fits w(λ) to a target: E(w, λ) = ½‖w − y‖².
const d = 6
const q = 0.9
const [g, r1] = random.normals(random.seed(3), d * d)
const A = linalg.matrix(d, d, linalg.scale(q / linalg.spectralNorm(linalg.matrix(d, d, g)), g))
const y = linalg.scale(0.5, random.normals(r1, d)[0])
const lambda0 = Float64Array.of(0.1, -0.2, 0.3, 0, 0.5, -0.4)

const problem = orThrow(
  adFixedPointProblem({
    name: 'equilibrium',
    dim: d,
    hyperDim: d,
    phi: (w, lambda) => ad.tanh(ad.add(ad.matvec(A, w), lambda)),
    upper: (w) => ad.mul(0.5, ad.sum(ad.square(ad.sub(w, y)))),
    lambda0,
    contraction: () => q, // ‖∂₁Φ‖ = ‖diag(tanh′)·A‖ ≤ ‖A‖₂, since 0 < tanh′ ≤ 1
  }),
)

const report = checkProblem(problem, { seed: 1, numRuns: 10, lambda0, data: { A, y } })
console.log(report.ok ? `all ${report.results.length} laws hold` : formatFailures(report, problem.name))

const gradient = (r: HypergradResult) => {
  if (r.status === 'diverged' || r.gradient === null) throw new Error(`${r.method} diverged`)
  return r.gradient
}
const fp = gradient(orThrow(aid(problem, lambda0, { lower: solvers.lower.fixedPointIteration(), linear: solvers.linear.fixedPointLinear(), t: 300, k: 300 })))
const rev = gradient(orThrow(itd(problem, lambda0, { t: 300, mode: 'reverse' })))
const truth = gradient(orThrow(exact(problem, lambda0)))
const small = (x: number) => (x < 1e-12 ? '< 1e-12' : x.toExponential(1)) // rounding level
console.log(`AID-FP error ${small(linalg.distance(fp, truth))}, ITD error ${small(linalg.distance(rev, truth))}`)
