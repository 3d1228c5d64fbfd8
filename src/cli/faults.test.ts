// Faults that input cannot provoke: an internal error (status 1, one line, the stack only
// with --debug), a write that fails after the work (the result goes to stdout, nothing is
// lost), and the progress bar's cursor and Ctrl-C.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { formatLibsvm } from '../data/libsvm.js'
import { matrix } from '../linalg/types.js'
import * as R from '../random/rng.js'

// A disk that fills up once the work is done: writes of results fail with ENOSPC.
const full = vi.hoisted(() => ({ on: false }))
const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>()
  const writeFileSync = (path: Parameters<typeof fs.writeFileSync>[0], ...rest: unknown[]): void => {
    if (full.on && String(path).endsWith('tune.json')) throw enospc()
    ;(fs.writeFileSync as (...a: unknown[]) => void)(path, ...rest)
  }
  return { ...fs, default: { ...fs, writeFileSync }, writeFileSync }
})
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>()
  const writeFile = async (path: Parameters<typeof fs.writeFile>[0], ...rest: unknown[]): Promise<void> => {
    if (full.on && String(path).endsWith('results.json')) throw enospc()
    await (fs.writeFile as (...a: unknown[]) => Promise<void>)(path, ...rest)
  }
  return { ...fs, default: { ...fs, writeFile }, writeFile }
})

// A fault inside the command (a bug, not a user's mistake): the data reader breaks.
const fault = vi.hoisted(() => ({ on: false }))
vi.mock('./build.js', async (importOriginal) => {
  const build = await importOriginal<typeof import('./build.js')>()
  return {
    ...build,
    loadData: (...args: Parameters<typeof build.loadData>) => {
      if (fault.on) throw new TypeError("Cannot read properties of undefined (reading 'rows')")
      return build.loadData(...args)
    },
  }
})

const { progressBar } = await import('./io.js')
const { runHere } = await import('./run.test-util.js')

const dir = mkdtempSync(join(tmpdir(), 'hypergrad-faults-'))
const [x, r1] = R.normals(R.seed(4), 40 * 3)
const [noise] = R.normals(r1, 40)
const y = Float64Array.from({ length: 40 }, (_, i) => x[3 * i]! - x[3 * i + 1]! + 0.3 * noise[i]!)
writeFileSync(join(dir, 'train.svm'), formatLibsvm({ X: matrix(30, 3, x.slice(0, 90)), y: y.slice(0, 30) }))
writeFileSync(join(dir, 'val.svm'), formatLibsvm({ X: matrix(10, 3, x.slice(90)), y: y.slice(30) }))
const tuneConfig = join(dir, 'tune.json')
writeFileSync(
  tuneConfig,
  JSON.stringify({
    problem: 'ridge',
    data: { train: 'train.svm', validation: 'val.svm' },
    lambda: 1,
    method: { name: 'exact' },
    outer: { optimizer: 'adam', steps: 20, stepSize: 0.1, logScale: true },
  }),
)

afterEach(() => {
  full.on = false
  fault.on = false
  vi.restoreAllMocks()
})

describe('an internal fault', () => {
  it('exits with status 1 and one short line; --debug adds the stack trace', async () => {
    fault.on = true
    const plain = await runHere(['tune', tuneConfig, '--quiet'])
    expect(plain.code).toBe(1)
    expect(plain.stderr.trimEnd().split('\n')).toHaveLength(1)
    expect(plain.stderr).toMatch(/^hypergrad: internal error: .+ \(--debug prints the stack trace\)\n$/)
    const debug = await runHere(['tune', tuneConfig, '--quiet', '--debug'])
    expect(debug.code).toBe(1)
    expect(debug.stderr).toMatch(/^hypergrad: internal error: /)
    expect(debug.stderr).toMatch(/\n\s+at /)
  })
})

describe('a write that fails after the work', () => {
  it('tune: the result goes to stdout as JSON, the message says where, status 2', async () => {
    full.on = true
    const r = await runHere(['tune', tuneConfig, '--quiet', '--out', join(dir, 'tune-out')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^hypergrad: could not write .*tune\.json: no space left on the device \(ENOSPC\); the result is printed on standard output instead\n$/)
    const out = JSON.parse(r.stdout) as { lambda: number; trajectory: unknown[] }
    expect(out.trajectory).toHaveLength(20)
    expect(out.lambda).toBeGreaterThan(0)
  })
  it('reproduce: the results go to stdout, status 2', async () => {
    full.on = true
    const r = await runHere(['reproduce', 'bounds', '--runs', '1', '--set', 'rows=30', '--set', 'cols=3', '--set', 'lowerIterations=2', '--set', 'linearIterations=2', '--workers', '1', '--quiet', '--out', join(dir, 'bounds-out')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^hypergrad: reproduce bounds: cannot write to .*bounds-out .*; the results are printed on standard output instead\n$/)
    const json = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{'))!) as { experiment: string; details: unknown }
    expect(json.experiment).toBe('bounds')
    expect(json.details).toBeDefined()
  })
})

describe('the progress bar', () => {
  const terminal = () => {
    const s = Object.assign(new PassThrough(), { isTTY: true, columns: 100 })
    let text = ''
    s.on('data', (c: Buffer) => (text += c.toString()))
    return { stream: s, text: () => text }
  }
  it('never hides the cursor, so that no interruption leaves it hidden', () => {
    const t = terminal()
    const bar = progressBar(false, { stream: t.stream })
    bar.start(10, 'test')
    bar.update(5)
    bar.stop()
    expect(t.text()).toMatch(/test \[/)
    expect(t.text()).not.toContain('\u001b[?25l')
  })
  it('on Ctrl-C while it runs (interruptible), ends its line, shows the cursor and exits with 130', () => {
    const t = terminal()
    const exit = vi.fn()
    const bar = progressBar(false, { stream: t.stream, interruptible: true, exit })
    const before = process.listenerCount('SIGINT')
    bar.start(10, 'test')
    expect(process.listenerCount('SIGINT')).toBe(before + 1)
    process.emit('SIGINT')
    expect(exit).toHaveBeenCalledWith(130)
    expect(t.text()).toContain('\u001b[?25hhypergrad: interrupted\n')
    bar.stop()
    expect(process.listenerCount('SIGINT')).toBe(before)
  })
  it('is silent when quiet or when the stream is not a terminal', () => {
    const t = terminal()
    const q = progressBar(true, { stream: t.stream })
    q.start(3, 'quiet')
    q.stop()
    const pipe = Object.assign(new PassThrough(), { isTTY: false })
    const n = progressBar(false, { stream: pipe })
    n.start(3, 'pipe')
    n.stop()
    expect(t.text()).toBe('')
    expect(pipe.read()).toBeNull()
  })
})
