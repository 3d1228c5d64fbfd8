// End-to-end tests of the `hypergrad` command: the real executable in a child process.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { formatLibsvm, readLibsvmFile } from '../data/libsvm.js'
import { exact } from '../hypergrad/exact.js'
import { logisticProblem } from '../problems/logistic.js'
import { ridgeProblem } from '../problems/ridge.js'
import { aidConfig, writeConfig } from './config.test-util.js'
import { dataset, runHere, spawnCommand } from './run.test-util.js'

const run = (args: string[]) => spawnCommand(args)

const dir = mkdtempSync(join(tmpdir(), 'hypergrad-cli-'))
writeFileSync(join(dir, 'train.svm'), formatLibsvm(dataset(1, 40, 4, 'binary')))
writeFileSync(join(dir, 'val.svm'), formatLibsvm(dataset(2, 30, 4, 'binary')))
writeFileSync(join(dir, 'rtrain.svm'), formatLibsvm(dataset(3, 40, 4, 'real')))
writeFileSync(join(dir, 'rval.svm'), formatLibsvm(dataset(4, 30, 4, 'real')))
writeFileSync(join(dir, 'bad.svm'), '+1 1:0.5 2:0.25\n-1 3:x\n')
const config = (name: string, cfg: unknown): string => writeConfig(dir, name, cfg)
const base = aidConfig({ lambda: 0.5, t: 3000, k: 100 })
const read = (f: string, labels: 'binary' | 'real') => {
  const r = readLibsvmFile(join(dir, f), { labels })
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}
const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0
  let n = 0
  for (let i = 0; i < a.length; i++) ((d += (a[i]! - b[i]!) ** 2), (n += b[i]! ** 2))
  return Math.sqrt(d / n)
}

describe('hypergrad estimate', () => {
  it('agrees with the exact hypergradient to 1e-8 (logistic, AID-CG; ridge per feature, AID-FP)', async () => {
    const [lo, ri] = await Promise.all([
      run(['estimate', config('logistic.json', base), '--json']),
      run([
        'estimate',
        config('ridge.json', { ...base, problem: 'ridge', regularization: 'perFeature', data: { train: 'rtrain.svm', validation: 'rval.svm' }, lambda: [0.5, 1, 2, 4], method: { name: 'aid', lower: 'gd', linear: 'fp', t: 3000, k: 3000 } }),
        '--json',
      ]),
    ])
    expect(lo.stderr).toBe('')
    expect(lo.code).toBe(0)
    const out = JSON.parse(lo.stdout) as { hypergradient: number[]; value: number; status: string; bounds: { aPosteriori: number | null }; seconds: number }
    const p = logisticProblem(read('train.svm', 'binary'), read('val.svm', 'binary'), Float64Array.of(0.5), { regularization: 'scalar' })
    if (E.isLeft(p)) throw new Error(p.left.message)
    const ex = exact(p.right, Float64Array.of(0.5))
    if (E.isLeft(ex) || ex.right.status === 'diverged') throw new Error('exact failed')
    expect(relErr(out.hypergradient, ex.right.gradient)).toBeLessThan(1e-8)
    expect(Math.abs(out.value - ex.right.value) / Math.abs(ex.right.value)).toBeLessThan(1e-8)
    expect(out.status).not.toBe('diverged')
    expect(out.bounds.aPosteriori).not.toBeNull()
    // The certified bound holds against the exact error.
    expect(out.bounds.aPosteriori!).toBeGreaterThanOrEqual(relErr(out.hypergradient, ex.right.gradient) * Math.hypot(...ex.right.gradient))
    expect(out.seconds).toBeGreaterThan(0)

    expect(ri.code).toBe(0)
    const rout = JSON.parse(ri.stdout) as { hypergradient: number[] }
    const rp = ridgeProblem(read('rtrain.svm', 'real'), read('rval.svm', 'real'), Float64Array.of(0.5, 1, 2, 4), { regularization: 'perFeature' })
    if (E.isLeft(rp)) throw new Error(rp.left.message)
    expect(relErr(rout.hypergradient, rp.right.hypergradient(Float64Array.of(0.5, 1, 2, 4)))).toBeLessThan(1e-8)
  })

  it('prints a readable summary without --json', async () => {
    const r = await runHere(['estimate', config('plain.json', { ...base, method: { name: 'exact' } })])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/status\s+converged/)
    expect(r.stdout).toMatch(/∇f\(λ\)/)
  })

  it('every bad config exits non-zero with one line naming the fault', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['missing.json', { ...base, method: undefined }, /config\.method/],
      ['type.json', { ...base, lambda: 'one' }, /config\.lambda/],
      ['length.json', { ...base, regularization: 'perFeature', lambda: [1, 2] }, /config\.lambda: expected 4 values/],
      ['negative.json', { ...base, lambda: -1 }, /lambda/],
      ['unreadable.json', { ...base, data: { train: 'nope.svm', validation: 'val.svm' } }, /config\.data\.train: .*nope\.svm/],
      ['malformed.json', { ...base, data: { train: 'bad.svm', validation: 'val.svm' } }, /config\.data\.train: .*bad\.svm.*:2/],
      ['method.json', { ...base, method: { name: 'magic' } }, /config\.method\.name/],
      ['steps.json', { ...base, method: { ...base.method, t: -1 } }, /config\.method\.t/],
      ['notjson.json', '{ "problem": ', /not valid JSON/],
    ]
    const results: Array<{ code: number; stdout: string; stderr: string }> = []
    for (const [f, cfg] of cases) results.push(await runHere(['estimate', config(f, cfg), '--json']))
    results.forEach((r, i) => {
      const [, , re] = cases[i]!
      expect(r.code, cases[i]![0]).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
      expect(r.stderr, cases[i]![0]).toMatch(re)
    })
    const missing = await runHere(['estimate', join(dir, 'does-not-exist.json')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/cannot read .*does-not-exist\.json/)
  })
})

describe('hypergrad reproduce', () => {
  it('with tiny settings writes results.json, results.csv and the SVG figures, and prints the summary', async () => {
    const out = join(dir, 'bounds-out')
    const r = await runHere(['reproduce', 'bounds', '--runs', '1', '--set', 'rows=60', '--set', 'lowerIterations=8', '--set', 'linearIterations=12', '--workers', '1', '--quiet', '--out', out])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const { readdirSync, readFileSync } = await import('node:fs')
    const files = readdirSync(out)
    expect(files).toContain('results.json')
    expect(files).toContain('results.csv')
    const svgs = files.filter((f) => f.endsWith('.svg'))
    expect(svgs.length).toBeGreaterThan(0)
    for (const f of svgs) expect(readFileSync(join(out, f), 'utf8').startsWith('<svg')).toBe(true)
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { experiment: string }
    expect(json.experiment).toBe('bounds')
    expect(readFileSync(join(out, 'results.csv'), 'utf8').split('\n').length).toBeGreaterThan(2)
    expect(r.stdout).toMatch(/wrote .*results\.json/)
  })
  it('--list (or the name "list") names every experiment of the registry', async () => {
    const { experimentNames } = await import('../experiments/registry.js')
    const byFlag = await runHere(['reproduce', '--list'])
    expect(byFlag.code, byFlag.stderr).toBe(0)
    expect((await runHere(['reproduce', 'list'])).stdout).toBe(byFlag.stdout)
    for (const name of experimentNames) expect(byFlag.stdout).toMatch(new RegExp(`^${name}\\b`, 'm'))
  })
  it('rejects an unknown experiment or field with one line and exit status 2', async () => {
    for (const args of [['reproduce'], ['reproduce', 'bounds', '--list'], ['reproduce', 'fig9'], ['reproduce', 'sid-fig1', '--set', 'colour=blue'], ['reproduce', 'sid-fig1', '--runs', '0'], ['reproduce', 'sid-fig1', '--epochs', 'two']]) {
      const r = await runHere(args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1)
      expect(r.stdout).toBe('')
    }
  })
})

describe('hypergrad tune', () => {
  it('optimizes λ on ridge from a config, prints the JSON contract and writes tune.json, tune.csv, tune.svg', async () => {
    const out = join(dir, 'tune-out')
    const cfg = config('tune.json', {
      ...aidConfig({ problem: 'ridge', train: 'rtrain.svm', validation: 'rval.svm', lambda: 1, t: 2000, k: 50 }),
      outer: { optimizer: 'adam', steps: 40, stepSize: 0.1, logScale: true },
    })
    const r = await runHere(['tune', cfg, '--json', '--quiet', '--out', out])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const o = JSON.parse(r.stdout) as { lambda: number; value: number; trajectory: Array<{ lambda: number[]; value: number; gradNorm: number; t: number; k: number; seconds: number }> }
    expect(typeof o.lambda).toBe('number')
    expect(o.trajectory).toHaveLength(40)
    const first = o.trajectory[0]!
    const last = o.trajectory[o.trajectory.length - 1]!
    expect(last.value).toBeLessThan(first.value)
    expect(last.lambda[0]).toBe(o.lambda)
    expect(o.value).toBe(last.value)
    for (const s of o.trajectory) for (const k of ['value', 'gradNorm', 't', 'k', 'seconds'] as const) expect(Number.isFinite(s[k])).toBe(true)
    const { readdirSync } = await import('node:fs')
    expect(readdirSync(out).sort()).toEqual(['tune.csv', 'tune.json', 'tune.svg'])
  })
  it('rejects a bad outer config with one line', async () => {
    const cfg = config('badtune.json', { ...base, outer: { optimizer: 'sgd', steps: 3, stepSize: 0.1 } })
    const r = await runHere(['tune', cfg])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^hypergrad: config\.outer\.optimizer/)
  })
})
