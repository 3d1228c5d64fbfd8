// examples/adLogistic.ts: its hypergradient against `exact` on the hand-written logistic problem,
// checkProblem on the problem it builds, its errors, and the command as a user runs it.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { data, exact, orThrow, problems, random, linalg } from 'hypergrad'
import { checkProblem, formatFailures } from 'hypergrad/laws'
import { perFeatureLogistic, readData, run } from './adLogistic.js'

const dir = mkdtempSync(join(tmpdir(), 'adLogistic-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** n × p data with about `density` of the features non-zero, labels from a random linear model. */
const dataset = (seed: number, n: number, p: number, density: number): { X: import('hypergrad').Matrix; y: Float64Array } => {
  const [x, r1] = random.normals(random.seed(seed), n * p)
  const [keep, r2] = random.uniforms(r1, n * p)
  const [w0, r3] = random.normals(r2, p)
  const [noise] = random.normals(r3, n)
  const X = linalg.matrix(n, p, x.map((v, k) => (keep[k]! < density ? v : 0)))
  const z = linalg.matVec(X, w0)
  return { X, y: z.map((t, i) => (t + 0.5 * noise[i]! >= 0 ? 1 : -1)) }
}

const files = (name: string, train: ReturnType<typeof dataset>, validation: ReturnType<typeof dataset>, lambda: ReadonlyArray<number>): [string, string, string] => {
  const paths: [string, string, string] = [join(dir, `${name}.train.svm`), join(dir, `${name}.val.svm`), join(dir, `${name}.lambda.json`)]
  writeFileSync(paths[0], data.formatLibsvm(train))
  writeFileSync(paths[1], data.formatLibsvm(validation))
  writeFileSync(paths[2], JSON.stringify(lambda))
  return paths
}

const read = (p: string): string => readFileSync(p, 'utf8')

const cases = [
  { name: 'dense', train: dataset(1, 60, 8, 1), validation: dataset(2, 40, 8, 1), lambda: [0.1, 0.5, 1, 0.01, 0.2, 2, 0.05, 0.3] },
  { name: 'sparse', train: dataset(3, 80, 40, 0.15), validation: dataset(4, 50, 40, 0.15), lambda: Array.from({ length: 40 }, (_, j) => 0.02 * (1 + (j % 5))) },
]

describe('examples/adLogistic.ts', () => {
  for (const c of cases)
    it(`${c.name}: its hypergradient matches exact on the hand-written problem to 1e-8, and checkProblem passes`, () => {
      const r = run(files(c.name, c.train, c.validation, c.lambda), read)
      expect(r.code).toBe(0)
      expect(r.out).not.toContain('\n')
      const printed = JSON.parse(r.out!) as { hypergradient: number[]; status: string }
      expect(printed.status).toBe('converged')
      const lam = Float64Array.from(c.lambda)
      // The truth: the hand-written problem (its own products), solved by Newton (to a residual near
      // rounding: exact's default tolerance leaves ‖w − w(λ)‖ ~ tol/(ατ), too loose when ατ is small)
      // and a dense solve.
      const truth = orThrow(exact(orThrow(problems.logisticProblem(c.train, c.validation, lam, { regularization: 'perFeature' })), lam, { tol: 1e-14 }))
      if (truth.status === 'diverged' || truth.gradient === null) throw new Error('exact diverged')
      const g = truth.gradient
      const err = Math.sqrt(printed.hypergradient.reduce((s, x, j) => s + (x - g[j]!) ** 2, 0) / g.reduce((s, x) => s + x * x, 0))
      expect(err).toBeLessThan(1e-8)
      // The laws, on the problem the example builds (α at 0.9 of its default, as λ is perturbed).
      const train = orThrow(readData(join(dir, `${c.name}.train.svm`), lam.length))
      const validation = orThrow(readData(join(dir, `${c.name}.val.svm`), lam.length))
      const p0 = orThrow(perFeatureLogistic(train, validation, lam))
      const p = orThrow(perFeatureLogistic(train, validation, lam, { alpha: 0.9 * p0.alpha }))
      const report = checkProblem(p, { seed: 7, numRuns: 4, lambda0: lam, batchSize: 1, data: { train, validation } })
      expect(formatFailures(report, c.name)).toBe('')
    })

  it('bad input: one line on stderr and exit status 2', () => {
    const [tr, va, la] = files('bad', cases[0]!.train, cases[0]!.validation, cases[0]!.lambda)
    const bad = (args: string[], pattern: RegExp): void => {
      const r = run(args, read)
      expect(r.code).toBe(2)
      expect(r.out).toBeUndefined()
      expect(r.err).toMatch(pattern)
      expect(r.err).not.toContain('\n')
    }
    bad([tr, va], /usage/)
    bad([tr, va, join(dir, 'missing.json')], /cannot read/)
    writeFileSync(join(dir, 'notjson.json'), '[0.1, ')
    bad([tr, va, join(dir, 'notjson.json')], /not JSON/)
    writeFileSync(join(dir, 'short.json'), '[0.1, 0.2]')
    bad([tr, va, join(dir, 'short.json')], /feature index 3/)
    writeFileSync(join(dir, 'negative.json'), JSON.stringify([-1, 1, 1, 1, 1, 1, 1, 1]))
    bad([tr, va, join(dir, 'negative.json')], /λ\[0\] = -1 must be finite and > 0/)
    bad([join(dir, 'missing.svm'), va, la], /missing\.svm: cannot read/)
    expect(E.isLeft(readData(join(dir, 'missing.svm'), 3))).toBe(true)
  })

  it('as a command: prints one JSON line', () => {
    const [tr, va, la] = files('cli', cases[0]!.train, cases[0]!.validation, cases[0]!.lambda)
    const out = execFileSync(process.execPath, ['--import', 'tsx', new URL('./adLogistic.ts', import.meta.url).pathname, tr, va, la], { encoding: 'utf8' })
    expect(out.endsWith('\n')).toBe(true)
    expect(out.trim().split('\n')).toHaveLength(1)
    expect(JSON.parse(out)).toEqual(JSON.parse(run([tr, va, la], read).out!))
  })
})
