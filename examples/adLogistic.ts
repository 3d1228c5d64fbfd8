/**
 * Per-feature L2 logistic regression written with the `ad` engine, and its hypergradient.
 *
 *   npx tsx examples/adLogistic.ts TRAIN.svm VAL.svm LAMBDA.json
 *
 * TRAIN.svm and VAL.svm are libsvm files with binary labels (±1 or 0/1); LAMBDA.json is a JSON
 * array with one λⱼ > 0 per feature. The model is
 *
 *   ℓ(w, λ) = Σ_train log(1 + e^{−yᵢxᵢᵀw}) + ½ Σⱼ λⱼwⱼ²,     E(w) = Σ_val log(1 + e^{−yᵢxᵢᵀw}),
 *
 * and ∇f(λ) is computed by AID: heavy ball on the lower problem (its optimal parameters for
 * τ = min λ and L estimated by power iteration at w = 0, where the logistic Hessian is largest),
 * then conjugate gradient on the linear system, both run to tight tolerances (see
 * `hypergradient`). The data are read by `readData`, the one function that reads files. Prints one line,
 * { "hypergradient": [...], "status": "..." }. A bad argument or file: one line on stderr, exit 2.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ad, adErmProblem, aid, data, hgError, solvers } from 'hypergrad'
import type { HypergradError, HypergradResult, Matrix, RVec } from 'hypergrad'
import type { problem as P } from 'hypergrad'

/** A dataset as the model needs it (the design matrix is a dense `Matrix` or a CSR matrix). */
export interface Data {
  readonly X: Matrix | import('hypergrad').linalg.CsrMatrix
  readonly y: RVec
}

/** Read one libsvm file with p features and binary labels into compressed sparse rows, O(nnz) memory (the one place that reads data). */
export const readData = (path: string, p: number): E.Either<HypergradError, Data> =>
  data.readLibsvmSparse(path, { nFeatures: p, labels: 'binary' })

/** Σ log(1 + e^{−yᵢxᵢᵀw}) over the rows of a batch (all rows for the full sum), times n/|B|. */
const loss = (d: Data, w: ad.Node, batch?: ad.BatchView): ad.Node =>
  batch === undefined
    ? ad.sum(ad.softplus(ad.neg(ad.mul(d.y, ad.matvec(d.X, w)))))
    : ad.mul(batch.scale, ad.sum(ad.softplus(ad.neg(ad.mul(batch.rows(d.y), ad.matvec(batch.rows(d.X), w))))))

const positive = (lambda: RVec): E.Either<HypergradError, RVec> => {
  for (let j = 0; j < lambda.length; j++)
    if (!(Number.isFinite(lambda[j]!) && lambda[j]! > 0)) return E.left(hgError('domain', `λ[${j}] = ${lambda[j]} must be finite and > 0`))
  return E.right(lambda)
}

const minOf = (l: RVec): number => l.reduce((a, b) => Math.min(a, b), Infinity)

/** The bilevel problem of per-feature L2 logistic regression (see the module comment). */
export const perFeatureLogistic = (train: Data, validation: Data, lambda: RVec, opts: { readonly alpha?: number } = {}): E.Either<HypergradError, P.ErmProblem> =>
  adErmProblem({
    name: 'perFeatureLogistic',
    dim: train.X.cols,
    hyperDim: train.X.cols,
    nSamples: train.X.rows,
    lower: (w, l, batch) => ad.add(loss(train, w, batch), ad.mul(0.5, ad.dot(l, ad.square(w)))),
    upper: (w) => loss(validation, w),
    lambda0: lambda,
    checkLambda: positive,
    tau: minOf,
    separable: true,
    ...(opts.alpha !== undefined ? { alpha: opts.alpha } : {}),
  })

/**
 * ∇f(λ) by AID. Heavy ball with its optimal parameters for [τ, L] (L taken 1% high, so that an
 * estimate from below cannot make it unstable) runs until ‖Φ(w) − w‖ ≤ 10⁻¹²ατ, which gives
 * ‖w − w(λ)‖ ≤ ‖∇ℓ(w)‖/τ ≤ 10⁻¹², or for 40√κ steps (κ = L/τ: its rate is ≈ 1 − 2/√κ, so the
 * error has shrunk by e⁻⁸⁰ by then, should rounding keep the residual above the tolerance).
 * Conjugate gradient then runs to a relative residual of 10⁻¹³ (at most 100√κ + 1000 steps).
 */
export const hypergradient = (problem: P.ErmProblem, lambda: RVec): E.Either<HypergradError, HypergradResult> => {
  const { tau, L } = problem.lower.curvature(lambda)
  const params = solvers.heavyBallParams(tau, 1.01 * L, problem.alpha)
  if (E.isLeft(params)) return params
  const hb = params.right
  const root = Math.sqrt(L / tau)
  return aid(problem, lambda, {
    lower: solvers.lower.heavyBall({ beta: hb.beta, eta: hb.eta }),
    linear: solvers.linear.conjugateGradient({ tol: 1e-13 }),
    t: Math.min(500_000, Math.ceil(40 * root) + 100),
    k: Math.min(20 * problem.dim + 100, Math.ceil(100 * root) + 1000),
    tolLower: 1e-12 * problem.alpha * tau,
  })
}

/** Parse LAMBDA.json: a JSON array of finite numbers. */
export const parseLambda = (text: string, source: string): E.Either<HypergradError, Float64Array> => {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    return E.left(hgError('config', `${source}: not JSON (${(e as Error).message})`))
  }
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
    return E.left(hgError('config', `${source}: expected a non-empty JSON array of finite numbers, one λ per feature`))
  return E.right(Float64Array.from(v as number[]))
}

/** The command: arguments in, one line out (stdout or stderr) and an exit code. */
export const run = (args: ReadonlyArray<string>, readText: (path: string) => string): { readonly code: number; readonly out?: string; readonly err?: string } => {
  if (args.length !== 3) return { code: 2, err: 'usage: adLogistic TRAIN.svm VAL.svm LAMBDA.json' }
  const [trainPath, valPath, lambdaPath] = args as [string, string, string]
  let text: string
  try {
    text = readText(lambdaPath)
  } catch (e) {
    return { code: 2, err: `${lambdaPath}: cannot read (${(e as Error).message})` }
  }
  const result = pipe(
    parseLambda(text, lambdaPath),
    E.chain((lambda) =>
      pipe(
        E.Do,
        E.bind('train', () => readData(trainPath, lambda.length)),
        E.bind('validation', () => readData(valPath, lambda.length)),
        E.chain(({ train, validation }) => perFeatureLogistic(train, validation, lambda)),
        E.chain((problem) => hypergradient(problem, lambda)),
      ),
    ),
  )
  if (E.isLeft(result)) return { code: 2, err: result.left.message }
  const r = result.right
  if (r.status === 'diverged' || r.gradient === null) return { code: 1, out: JSON.stringify({ hypergradient: null, status: r.status }) }
  return { code: 0, out: JSON.stringify({ hypergradient: Array.from(r.gradient), status: r.status }) }
}

const invoked = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
if (invoked) {
  const { readFileSync } = await import('node:fs')
  const r = run(process.argv.slice(2), (p) => readFileSync(p, 'utf8'))
  if (r.out !== undefined) process.stdout.write(`${r.out}\n`)
  if (r.err !== undefined) process.stderr.write(`${r.err}\n`)
  process.exitCode = r.code
}
