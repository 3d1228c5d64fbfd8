// Hostile input against the `hypergrad` command, one case per finding: misspelled fields,
// contradictions, counts beyond what fits, unwritable outputs, deep nesting, a diverging
// method, a byte-order mark. Each gives its exit status within 5 seconds, one line on stderr
// and no stack trace; results never print NaN or Infinity.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatLibsvm } from '../data/libsvm.js'
import { aidConfig, writeConfig } from './config.test-util.js'
import { dataset, runHere, spawnCommand as spawn, type Ran } from './run.test-util.js'

const dir = mkdtempSync(join(tmpdir(), 'hypergrad-hostile-'))
chmodSync(dir, 0o755)
writeFileSync(join(dir, 'train.svm'), formatLibsvm(dataset(1, 40, 4)))
writeFileSync(join(dir, 'val.svm'), formatLibsvm(dataset(2, 30, 4)))
const base = aidConfig({ lambda: 0.5, t: 300, k: 50 })
const outer = { optimizer: 'adam', steps: 5, stepSize: 0.1, logScale: true }
let files = 0
/** A config file (an object, or the text as is). */
const config = (cfg: unknown): string => writeConfig(dir, `c${files++}.json`, cfg)
const nested = (depth: number, inner = '0.5'): string => '['.repeat(depth) + inner + ']'.repeat(depth)

/** The contract of every hostile input: its status, within 5 s, one line on stderr, no stack trace, no NaN. */
const expectClean = (r: Ran, code: number, message: RegExp, label: string): void => {
  expect(r.code, `${label}: ${r.stderr}`).toBe(code)
  expect(r.seconds, label).toBeLessThan(5)
  const lines = r.stderr.trimEnd().split('\n')
  expect(lines, label).toHaveLength(1)
  expect(lines[0], label).toMatch(/^hypergrad: /)
  expect(lines[0], label).toMatch(message)
  expect(r.stderr, label).not.toMatch(/^\s+at |node:internal/m)
  expect(r.stdout, label).not.toMatch(/NaN|Infinity/)
}

describe('misspelled fields are errors that name the field meant', () => {
  it('estimate, tune and reproduce: unknown fields, with the closest name', async () => {
    const { lambda: _l, ...noLambda } = base
    const cases: Array<[string[], RegExp]> = [
      [['estimate', config({ ...base, regularisation: 'perFeature' })], /config\.regularisation: unknown field; did you mean "regularization"\?$/],
      [['estimate', config({ ...noLambda, lamda: 0.5 })], /config\.lamda: unknown field; did you mean "lambda"\?$/],
      [['estimate', config({ ...base, method: { ...base.method, tolerence: 1e-6 } })], /config\.method\.tolerence: unknown field; did you mean "tol"\?$/],
      [['estimate', config({ ...base, data: { mnist: { ntrain: 100 } } })], /config\.data\.mnist\.ntrain: unknown field; did you mean "nTrain"\?$/],
      [['estimate', config({ ...base, regularization: 'perfeature' })], /config\.regularization: .*got "perfeature"; did you mean "perFeature"\?$/],
      [['tune', config({ ...base, outer: { ...outer, logscale: true } })], /config\.outer\.logscale: unknown field; did you mean "logScale"\?$/],
      [['tune', config({ ...base, outer: { ...outer, tolerence: 0.1 } })], /config\.outer\.tolerence: unknown field; did you mean "tolerance"\?$/],
      [['tune', config({ ...base, outer: { ...outer, bound: [0.1, 10] } })], /config\.outer\.bound: unknown field; did you mean "bounds"\?$/],
      [['tune', config({ ...base, outer: { ...outer, warmStart: { lower: true, linaer: true } } })], /config\.outer\.warmStart\.linaer: unknown field; did you mean "linear"\?$/],
      [['estimate', config({ ...base, outer })], /config\.outer: unknown field in an estimate config/],
      [['reproduce', 'sid-fig1', '--set', 'lamdas=1,10'], /reproduce sid-fig1: lamdas: unknown field; did you mean "lambdas"\?$/],
      [['reproduce', 'sid-fig'], /unknown experiment "sid-fig"; did you mean "sid-fig1"\?$/],
    ]
    for (const [args, re] of cases) expectClean(await runHere(args), 2, re, args.join(' '))
  })
})

describe('contradictory settings are errors, not silent choices', () => {
  it('a preset with solvers, MNIST with files, settings the method would not read', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['estimate', config({ ...base, method: { name: 'sid', preset: 'stochDec', epochs: 5, lower: 'sgd', t: 10, k: 10 } })], /config\.method: "preset" sets .* "lower", "t", "k" are given too/],
      [['estimate', config({ ...base, data: { mnist: { nTrain: 100 }, train: 'train.svm', validation: 'val.svm' } })], /config\.data: "mnist" and "train", "validation" name two data sources/],
      [['estimate', config({ ...base, method: { ...base.method, linear: 'fp', tol: 1e-6 } })], /config\.method\.tol: the tolerance of conjugate gradient, but linear is "fp"/],
      [['estimate', config({ ...base, method: { name: 'sid', lower: 'svrg', linear: 'svrg', t: 10, k: 10, step: 0.1 } })], /config\.method\.step: no solver here takes a step/],
      [['estimate', config({ ...base, method: { name: 'sid', lower: 'sgd', linear: 'sfp', t: 10, k: 10, epochs: 3 } })], /config\.method\.epochs: a budget in epochs is read with a "preset"/],
      [['estimate', config({ ...base, rho: 1 })], /config\.rho: the ridge weight of the dataCleaning problem/],
      [['tune', config({ ...base, method: { name: 'exact' }, outer: { ...outer, tolerance: 0.1 } })], /config\.outer\.tolerance: .*method "exact"/],
      [['reproduce', 'bounds', '--runs', '3', '--set', 'runs=5'], /--set "runs=5" contradicts --runs 3/],
    ]
    for (const [args, re] of cases) expectClean(await runHere(args), 2, re, args.join(' '))
  })
})

describe('counts are checked against the machine before any work', () => {
  it('refuses what cannot fit or finish, naming the count, the estimate and the limit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['estimate', config({ ...base, method: { name: 'itd', t: 1e12 } })], /config\.method\.t = 1e12: the run needs about .* of memory \(ITD reverse keeps .* iterates of 4 numbers\); .* is available$/],
      [['estimate', config({ ...base, method: { name: 'itd', t: 1e7 } })], /config\.method\.t = 1e7: the run needs about .* of JavaScript heap/],
      [['estimate', config({ ...base, method: { ...base.method, t: 1e12 } })], /config\.method\.t = 1e12: the run needs about/],
      [['estimate', config({ ...base, method: { name: 'sid', lower: 'sgd', linear: 'sfp', t: 1e12, k: 10, batchSize: 5 } })], /config\.method\.t = 1e12: the run is estimated at .* of computing; the limit is 24\.0 h \(--max-hours\)$/],
      [['estimate', config({ ...base, method: { name: 'sid', preset: 'stochDec', epochs: 1e9, batchSize: 5 } }), '--max-hours', '1'], /config\.method\.epochs = 1e9: the run is estimated at .*; the limit is 1\.0 h \(--max-hours\)$/],
      [['estimate', config({ ...base, method: { ...base.method, t: 1e300 } })], /config\.method\.t: expected an integer ≥ 0 below 2⁵³, got 1e\+300$/],
      [['tune', config({ ...base, outer: { ...outer, steps: 1e9 } })], /config\.outer\.steps = 1e9: the run needs about .* of memory/],
      [['reproduce', 'bounds', '--runs', '1e9'], /reproduce bounds: runs = 1e9: the run needs about .* of memory \(1e9 tasks\)/],
      [['reproduce', 'sid-fig1', '--epochs', '1e9'], /reproduce sid-fig1: epochs = 2,4,10,20,40,60,1e9: the run is estimated at .* of computing on \d workers?; the limit is/],
      [['reproduce', 'iteration-complexity', '--set', 'quadDim=1000000'], /quadDim = 1e6: the run needs about/],
    ]
    for (const [args, re] of cases) expectClean(await runHere(args), 2, re, args.join(' '))
  })

  it('caps --workers at the cores with a note, and runs', async () => {
    const out = join(dir, 'workers-out')
    const r = await runHere(['reproduce', 'bounds', '--runs', '1', '--set', 'rows=30', '--set', 'lowerIterations=2', '--set', 'linearIterations=2', '--workers', '4096', '--quiet', '--out', out])
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/^hypergrad: note: 4096 workers asked for, but this machine has \d+ cores?; using \d+\n$/)
    expect(readdirSync(out)).toContain('results.json')
  })
})

describe('output folders are checked before the work', () => {
  it('a file, a path below /dev/null, a path through a file: exit 2 before tuning starts', async () => {
    const file = join(dir, 'a-file')
    writeFileSync(file, 'x')
    // 100000 outer steps would take minutes: refused within a second, so nothing ran.
    const long = config({ ...base, method: { name: 'exact' }, outer: { ...outer, steps: 100000 } })
    const cases: Array<[string, RegExp]> = [
      [file, /--out ".*a-file": exists and is not a folder$/],
      ['/dev/null/out', /--out "\/dev\/null\/out": cannot create the folder: a part of the path is not a folder \(ENOTDIR\)$/],
      [join(file, 'sub'), /cannot create the folder: a part of the path is not a folder \(ENOTDIR\)$/],
    ]
    for (const [out, re] of cases) {
      const r = await runHere(['tune', long, '--quiet', '--out', out])
      expectClean(r, 2, re, out)
      expect(r.seconds).toBeLessThan(2)
      expectClean(await runHere(['reproduce', 'bounds', '--runs', '1', '--out', out]), 2, re, `reproduce ${out}`)
    }
  })

  it('an unwritable folder: exit 2 before the work (run as an unprivileged user when root)', async () => {
    const ro = join(dir, 'read-only')
    mkdirSync(ro)
    chmodSync(ro, 0o555)
    const cfg = config({ ...base, method: { name: 'exact' }, outer })
    const root = process.getuid?.() === 0
    const r = root ? await spawn(['tune', cfg, '--quiet', '--out', join(ro, 'x')], { uid: 65534, gid: 65534 }) : await runHere(['tune', cfg, '--quiet', '--out', join(ro, 'x')])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(/^hypergrad: --out ".*read-only\/x": cannot create the folder: permission denied \(EACCES\)\n$/)
    expect(existsSync(join(ro, 'x'))).toBe(false)
  })
})

describe('messages: deep nesting, huge values, a byte-order mark', () => {
  it('shows deeply nested and huge values cut, never recursing into them', async () => {
    const text = JSON.stringify(base)
    const cases: Array<[string, RegExp]> = [
      [text.replace('"lambda":0.5', `"lambda":${nested(5000)}`), /^hypergrad: config\.lambda\.0: expected a finite number, got \[\[\[\[…\]\]\]\]$/],
      [text.replace('"lambda":0.5', `"lambda":${nested(200000)}`), /config\.lambda\.0: expected a finite number, got \[\[\[\[…\]\]\]\]$/],
      [text.replace('"t":300', `"t":${nested(5000, '1')}`), /config\.method\.t: expected an integer ≥ 0, got \[\[\[\[…\]\]\]\]$/],
      [nested(5000, '{}'), /^hypergrad: config: expected an estimate config \(an object\), got \[\[\[\[…\]\]\]\]$/],
      ['{"a":'.repeat(5000) + '1' + '}'.repeat(5000), /config\.a: unknown field/],
      [JSON.stringify({ ...base, problem: 'p'.repeat(1_000_000) }), /config\.problem: .*got "p{40,70}…"$/],
      [JSON.stringify({ ...base, ['k'.repeat(100_000)]: 1, 'x\ny': 2 }), /config\.k{40}…: unknown field/],
    ]
    for (const [cfg, re] of cases) {
      const r = await runHere(['estimate', config(cfg)])
      expectClean(r, 2, re, cfg.slice(0, 40))
      expect(r.stderr.length).toBeLessThan(400)
    }
  })

  it('skips a UTF-8 byte-order mark in a config, as in data files', async () => {
    const p = join(dir, 'bom.json')
    writeFileSync(p, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ ...base, method: { name: 'exact' } }))]))
    const r = await runHere(['estimate', p, '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect((JSON.parse(r.stdout) as { status: string }).status).toBe('converged')
  })

  it('refuses what is not a config file before reading it', async () => {
    expectClean(await runHere(['estimate', '/dev/zero']), 2, /cannot read \/dev\/zero: not a regular file$/, '/dev/zero')
    expectClean(await runHere(['estimate', dir]), 2, /it is a folder, not a config file$/, 'a folder')
    expectClean(await runHere(['estimate', join(dir, 'none.json')]), 2, /no such file or folder \(ENOENT\)$/, 'missing')
    expectClean(await runHere(['estimate', config('{\n"problem":\n x}')]), 2, /is not valid JSON: /, 'bad JSON')
    expectClean(await runHere(['estimate', config(base), '--jsn']), 2, /unknown option '--jsn' \(Did you mean --json\?\)$/, '--jsn')
  })
})

describe('a diverging method exits with status 3 and prints no estimate', () => {
  const diverging = { ...base, method: { name: 'sid', lower: 'sgd', linear: 'sfp', t: 2000, k: 2000, step: 100, batchSize: 5 } }
  it('estimate: JSON with status "diverged", the step, a null hypergradient; the text says so', async () => {
    const cfg = config(diverging)
    const j = await runHere(['estimate', cfg, '--json'])
    expectClean(j, 3, /^hypergrad: the method diverged at step \d+ of the (lower|linear) stage( \(.*\))?; no hypergradient$/, 'json')
    const out = JSON.parse(j.stdout) as { status: string; hypergradient: unknown; value: unknown; divergedAt: { stage: string; iter: number } }
    expect(out.status).toBe('diverged')
    expect(out.hypergradient).toBeNull()
    expect(out.value).toBeNull()
    expect(out.divergedAt.iter).toBeGreaterThan(0)
    const text = await runHere(['estimate', cfg])
    expectClean(text, 3, /diverged/, 'text')
    expect(text.stdout).toMatch(/status\s+diverged at step \d+ of the (lower|linear) stage/)
    expect(text.stdout).toMatch(/∇f\(λ\)\s+none \(the method diverged\)/)
  })
  it('tune: a method that diverges at the first λ ends with status 3, naming λ, the stage and the step', async () => {
    const r = await runHere(['tune', config({ ...diverging, outer }), '--json', '--quiet'])
    expectClean(r, 3, /outer step 0: the hypergradient method diverged at λ = 0\.5 \((lower|linear) stage, iteration \d+: /, 'tune')
  })
})

describe('the built command, in a child process', () => {
  it('gives the same statuses and single lines as in process', async () => {
    // The three findings that ended a real process badly: a stack overflow, a heap abort, and a
    // diverged run that exited 0.
    const text = JSON.stringify(base)
    const cases: Array<[string[], number, RegExp]> = [
      [['estimate', config(text.replace('"lambda":0.5', `"lambda":${nested(5000)}`))], 2, /config\.lambda\.0: expected a finite number/],
      [['estimate', config({ ...base, method: { name: 'sid', lower: 'sgd', linear: 'sfp', t: 2000, k: 2000, step: 100, batchSize: 5 } }), '--json'], 3, /the method diverged/],
      [['reproduce', 'bounds', '--runs', '1000000000'], 2, /runs = 1e9: the run needs/],
    ]
    const results = await Promise.all(cases.map(([args]) => spawn(args)))
    results.forEach((r, i) => {
      const [args, code, re] = cases[i]!
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code)
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1)
      expect(r.stderr.trimEnd()).toMatch(re)
      expect(r.stderr).not.toMatch(/^\s+at |node:internal/m)
      expect(r.stdout).not.toMatch(/NaN|Infinity/)
    })
  })
})
